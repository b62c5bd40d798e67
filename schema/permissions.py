"""Who may use a field, declared on the field: `permission_classes=READERS` (any member of
the organization), `WRITERS` (users and admins) or `ADMINS`.

Checked before the resolver runs. A failure is a GraphQL error on that field, with the code
UNAUTHENTICATED (no credential) or FORBIDDEN (a role that may not), never the object. Which
objects a principal may see or change (its organization, its workflows, the agents it owns)
is decided by the resolvers, in `resolvers.access`."""

from __future__ import annotations

from typing import Any

from strawberry import Info
from strawberry.permission import BasePermission

from models.enums import UserRole
from resolvers.context import Context
from resolvers.errors import SIGN_IN


class SignedIn(BasePermission):
    message = SIGN_IN
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info[Context], **kwargs: Any) -> bool:
        return info.context.authenticated


class MayWrite(BasePermission):
    message = "Viewers may read but not change anything: ask an admin for the user role"
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info[Context], **kwargs: Any) -> bool:
        return info.context.principal.role in {UserRole.ADMIN, UserRole.USER}


class IsAdmin(BasePermission):
    message = "Only an admin of the organization may do this"
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info[Context], **kwargs: Any) -> bool:
        return info.context.principal.role is UserRole.ADMIN


# Checked in order: the first that fails gives the error.
READERS: list[type[BasePermission]] = [SignedIn]
WRITERS: list[type[BasePermission]] = [SignedIn, MayWrite]
ADMINS: list[type[BasePermission]] = [SignedIn, IsAdmin]

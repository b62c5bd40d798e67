"""Who may change what. One check, called first by every mutation, so that a refusal
never follows a partial write."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.enums import UserRole
from resolvers.mutations.errors import ForbiddenError

if TYPE_CHECKING:
    from strawberry import Info

    from flowgate.context import Context
    from flowgate.principal import Principal

EDITOR_ROLES = frozenset({UserRole.ADMIN, UserRole.USER})


def require_editor(info: Info[Context], action: str) -> Principal:
    """The principal, if it may edit; viewers read only."""
    principal = info.context.principal
    if principal.role not in EDITOR_ROLES:
        raise ForbiddenError(f"A {principal.role.value} may not {action}")
    return principal

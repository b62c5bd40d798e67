"""`updateUserRole`: an admin changes what a member of the organization may do.

A lowered role takes effect at once in this process and within `auth_cache_ttl` seconds on
the other replicas; the member's open subscriptions are closed at the next live-session
check. Admins cannot change their own role, so an organization cannot lose its last admin by
accident."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from models.enums import UserRole
from models.sql import User
from resolvers import audit
from resolvers.mutations.errors import ForbiddenError, InvalidInputError, NotFoundError
from resolvers.validation import values
from resolvers.validation.issues import Issues

if TYPE_CHECKING:
    from strawberry import Info

    from flowgate.context import Context


async def update_user_role(info: Info[Context], *, user_id: str, role: UserRole) -> User:
    principal = info.context.principal
    issues = Issues()
    local_id = values.global_id(issues, "userId", user_id, "User")
    if local_id is None:
        raise InvalidInputError(issues)
    if local_id == principal.user_id:
        raise ForbiddenError("Admins cannot change their own role: ask another admin")
    async with info.context.services.postgres.session() as session, session.begin():
        user = await session.scalar(
            select(User)
            .where(User.id == local_id, User.organization_id == principal.organization_id)
            .with_for_update()
        )
        if user is None:
            raise NotFoundError("User", user_id)
        before = user.role
        if before is not role:
            user.role = role
            audit.add_entry(
                session,
                info,
                action="user.role_change",
                object_type="User",
                object_id=user.id,
                summary=audit.changes({"role": before.value}, {"role": role.value}),
            )
    info.context.guards.access_changed(user_id=user.id)
    return user

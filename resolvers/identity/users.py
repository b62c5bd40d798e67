"""`updateUserRole`, `deactivateUser`, `reactivateUser`: an admin changes what a member of
the organization may do.

A lowered role takes effect at once in this process and within `auth_cache_ttl` seconds on
the other replicas; the member's open subscriptions are closed at the next live-session
check. Admins cannot change their own role, so an organization cannot lose its last admin by
accident."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from models.enums import UserRole
from models.sql import AuthSession, User
from resolvers import audit
from resolvers.mutations.errors import ForbiddenError, InvalidInputError, NotFoundError
from resolvers.validation import values
from resolvers.validation.issues import Issues

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context


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
                info.context.actor,
                action="user.role_change",
                object_type="User",
                object_id=user.id,
                summary=audit.changes({"role": before.value}, {"role": role.value}),
            )
    info.context.guards.access_changed(user_id=user.id)
    return user


async def set_active(info: Info[Context], *, user_id: str, active: bool) -> User:
    """`deactivateUser` / `reactivateUser`. A deactivated user's logins end for good (a
    reactivated one logs in again), their API keys stop working while they are inactive,
    and their open websockets close with 4403 at the next live-session check, which this
    change triggers at once in this process."""
    principal = info.context.principal
    issues = Issues()
    local_id = values.global_id(issues, "userId", user_id, "User")
    if local_id is None:
        raise InvalidInputError(issues)
    if local_id == principal.user_id:
        raise ForbiddenError("Admins cannot deactivate or reactivate themselves")
    async with info.context.services.postgres.session() as session, session.begin():
        user = await session.scalar(
            select(User)
            .where(User.id == local_id, User.organization_id == principal.organization_id)
            .with_for_update()
        )
        if user is None:
            raise NotFoundError("User", user_id)
        if user.is_active is not active:
            user.is_active = active
            ended = 0
            if not active:
                result = await session.execute(
                    update(AuthSession)
                    .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))
                    .values(revoked_at=datetime.now(UTC))
                )
                ended = result.rowcount  # type: ignore[attr-defined]
            audit.add_entry(
                session,
                info.context.actor,
                action="user.reactivate" if active else "user.deactivate",
                object_type="User",
                object_id=user.id,
                summary={"ended_logins": ended} if not active else {},
            )
    info.context.guards.access_changed(user_id=user.id)
    return user

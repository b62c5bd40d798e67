"""`updateProfile` and `changePassword`: what people change about themselves."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from flowgate.auth.rate_limit import RateLimited
from flowgate.principal import CredentialKind
from models.sql import AuthSession, User
from resolvers import audit
from resolvers.identity import passwords, preferences
from resolvers.identity.logins import TooManyAttemptsError
from resolvers.mutations.errors import ForbiddenError, InvalidInputError
from resolvers.validation import values
from resolvers.validation.issues import IssueCode, Issues

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context

MAX_NAME = 200
MAX_PART = 100
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,49}")


async def update_profile(
    info: Info[Context],
    *,
    name: str | None,
    first_name: str | None,
    last_name: str | None,
    username: str | None,
    preferences_change: preferences.PreferencesChange | None,
) -> User:
    """Change the caller's own profile. `None` keeps a field; an empty first name, last name
    or username clears it."""
    principal = info.context.principal
    issues = Issues()
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = values.text(issues, "name", name, max_length=MAX_NAME, required=True)
    for path, attribute, value in (
        ("firstName", "first_name", first_name),
        ("lastName", "last_name", last_name),
    ):
        if value is not None:
            changes[attribute] = values.text(issues, path, value, max_length=MAX_PART) or None
    if username is not None:
        changes["username"] = _username(issues, username)
    async with info.context.services.postgres.session() as session, session.begin():
        user = await session.scalar(
            select(User).where(User.id == principal.user_id).with_for_update()
        )
        if user is None:
            raise RuntimeError("the authenticated user no longer exists")
        if preferences_change is not None:
            changes["preferences"] = preferences.apply(
                issues, "preferences", user.preferences, preferences_change
            )
        if issues:
            raise InvalidInputError(issues)
        before = {attribute: getattr(user, attribute) for attribute in changes}
        for attribute, value in changes.items():
            setattr(user, attribute, value)
        summary = audit.changes(before, changes)
        if summary["changed"]:
            audit.add_entry(
                session,
                info.context.actor,
                action="user.profile_update",
                object_type="User",
                object_id=user.id,
                summary=summary,
            )
        try:
            await session.flush()
        except IntegrityError:
            # Two people taking the same username at once: the unique constraint decides.
            issues.add("username", IssueCode.DUPLICATE, "is taken in your organization")
            raise InvalidInputError(issues) from None
    return user


def _username(issues: Issues, value: str) -> str | None:
    cleaned = value.strip().lower()
    if not cleaned:
        return None
    if not _USERNAME.fullmatch(cleaned):
        issues.add(
            "username",
            IssueCode.INVALID,
            "must be 3 to 50 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
        )
    return cleaned


async def change_password(info: Info[Context], *, current: str, new: str) -> User:
    """Change the caller's password; every other login of theirs ends (this one stays)."""
    principal = info.context.principal
    if principal.credential.kind is not CredentialKind.ACCESS_TOKEN:
        raise ForbiddenError("Log in with your password to change it; an API key cannot")
    settings = info.context.services.settings
    try:
        await info.context.guards.rate_limiter.check(
            "password", str(principal.user_id), limit=settings.login_attempts_per_email
        )
    except RateLimited as limited:
        raise TooManyAttemptsError(
            f"Too many password changes; retry in {limited.retry_after} s",
            retryAfter=limited.retry_after,
        ) from None
    issues = Issues()
    async with info.context.services.postgres.session() as session, session.begin():
        user = await session.scalar(
            select(User).where(User.id == principal.user_id).with_for_update()
        )
        if user is None:
            raise RuntimeError("the authenticated user no longer exists")
        if not await info.context.guards.passwords.verify(user.password_hash, current):
            issues.add("currentPassword", IssueCode.INVALID, "is not your current password")
        elif current == new:
            issues.add("newPassword", IssueCode.INVALID, "must differ from the current password")
        passwords.check(issues, "newPassword", new, email=user.email)
        if issues:
            raise InvalidInputError(issues)
        user.password_hash = await passwords.hash_password(new)
        ended = await session.execute(
            update(AuthSession)
            .where(
                AuthSession.user_id == user.id,
                AuthSession.revoked_at.is_(None),
                AuthSession.id != principal.credential.id,
            )
            .values(revoked_at=datetime.now(UTC))
        )
        audit.add_entry(
            session,
            info.context.actor,
            action="user.password_change",
            object_type="User",
            object_id=user.id,
            summary={"ended_logins": ended.rowcount},  # type: ignore[attr-defined]
        )
    info.context.guards.access_changed(user_id=user.id)
    return user

"""`login`, `refreshToken`, `logout`.

A login is an `auth_sessions` row: access tokens name it, and its refresh token is rotated
on each use. A refresh token presented twice (the second time after it was replaced) means
it was copied: the whole login is ended, for the thief and the owner alike, and the owner
logs in again. Every attempt, good or bad, is audited when the email names a user."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from flowgate.auth.credentials import matches, new_refresh_token, parse_refresh_token
from flowgate.auth.passwords import hash_password
from flowgate.auth.rate_limit import RateLimited
from flowgate.auth.tokens import AccessClaims, issue_access_token
from flowgate.principal import Actor, Credential, CredentialKind
from models.sql import AuthSession, User
from resolvers import audit
from resolvers.errors import ClientError
from resolvers.mutations.errors import AuthenticationFailedError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from strawberry import Info

    from resolvers.context import Context

WRONG_LOGIN = "Wrong email or password"
# Verified when the email names no one, so that a wrong email takes as long as a wrong
# password and does not tell which emails exist.
_DUMMY_HASH = hash_password("flowgate: no such user")
# The per-address limit's key for a client without a usable address (no peer, or a peer
# name that is not an IP, see `flowgate.principal.peer_address`): such attempts are limited
# together under this one key rather than not at all.
UNKNOWN_ADDRESS = "unknown"


class TooManyAttemptsError(ClientError):
    code = "RATE_LIMITED"


@dataclass(frozen=True)
class Tokens:
    user: User
    access_token: str
    access_token_expires_at: datetime
    refresh_token: str
    refresh_token_expires_at: datetime


async def login(info: Info[Context], *, email: str, password: str) -> Tokens:
    settings = info.context.services.settings
    email = email.strip().lower()
    if "\x00" in email:  # no user has one, and PostgreSQL text cannot hold it
        raise AuthenticationFailedError(WRONG_LOGIN)
    await _count_attempt(info, "login", email, settings.login_attempts_per_email, "for this email")
    await _count_attempt(
        info,
        "login_address",
        info.context.address or UNKNOWN_ADDRESS,
        settings.login_attempts_per_address,
        "from this address",
    )
    guards = info.context.guards
    async with info.context.services.postgres.session() as session, session.begin():
        user = await session.scalar(select(User).where(User.email == email))
        verified = await guards.passwords.verify(
            user.password_hash if user else _DUMMY_HASH, password
        )
        if user is None:
            raise AuthenticationFailedError(WRONG_LOGIN)
        ok = verified and user.is_active
        if ok:
            await _record_login(session, user)
        login_id, tokens = start(session, info, user) if ok else (None, None)
        # A failed attempt is recorded too (committed: nothing else is written).
        audit.add_entry(
            session,
            Actor.person(user.organization_id, user.id, info.context.address),
            action="auth.login" if ok else "auth.login_failed",
            object_type="User",
            object_id=user.id,
            summary={"session": str(login_id)}
            if ok
            else {"reason": "inactive" if verified else "wrong password"},
        )
    if tokens is None:
        raise AuthenticationFailedError(WRONG_LOGIN)
    return tokens


async def _count_attempt(
    info: Info[Context], scope: str, identity: str, limit: int, what: str
) -> None:
    try:
        await info.context.guards.rate_limiter.check(scope, identity, limit=limit)
    except RateLimited as limited:
        raise TooManyAttemptsError(
            f"Too many login attempts {what}; retry in {limited.retry_after} s",
            retryAfter=limited.retry_after,
        ) from None


async def refresh(info: Info[Context], *, refresh_token: str) -> Tokens:
    parsed = parse_refresh_token(refresh_token.strip())
    if parsed is None:
        raise AuthenticationFailedError("Not a refresh token")
    session_id, secret = parsed
    now = datetime.now(UTC)
    async with info.context.services.postgres.session() as session, session.begin():
        row = (
            await session.execute(
                select(AuthSession, User)
                .join(User, User.id == AuthSession.user_id)
                .where(AuthSession.id == session_id)
                .with_for_update(of=AuthSession)  # two refreshes at once: one wins
            )
        ).one_or_none()
        if row is None:
            raise AuthenticationFailedError("Unknown refresh token: log in again")
        login_row, user = row.AuthSession, row.User
        if login_row.revoked_at is not None or login_row.expires_at <= now:
            raise AuthenticationFailedError("This login has ended: log in again")
        if not matches(secret, login_row.refresh_hash):
            # An old refresh token of a live login: someone kept a copy. End the login.
            login_row.revoked_at = now
            audit.add_entry(
                session,
                Actor.person(user.organization_id, user.id, info.context.address),
                action="auth.refresh_reused",
                object_type="User",
                object_id=user.id,
                summary={"session": str(login_row.id)},
            )
            reused = True
        elif not user.is_active:
            raise AuthenticationFailedError("This user is deactivated")
        else:
            reused = False
            token, digest = new_refresh_token(login_row.id)
            login_row.refresh_hash = digest
            login_row.refreshed_at = now
            access, access_expires = _access_token(info, user, login_row.id)
    if reused:
        _forget(info, session_id)
        raise AuthenticationFailedError(
            "This refresh token was already used; the login is ended: log in again"
        )
    return Tokens(user, access, access_expires, token, login_row.expires_at)


async def logout(info: Info[Context], *, refresh_token: str) -> None:
    """End the login of `refresh_token`: it and every access token of that login stop
    working (in this process at once, elsewhere within `auth_cache_ttl` seconds)."""
    parsed = parse_refresh_token(refresh_token.strip())
    if parsed is None:
        raise AuthenticationFailedError("Not a refresh token")
    session_id, secret = parsed
    async with info.context.services.postgres.session() as session, session.begin():
        login_row = await session.get(AuthSession, session_id, with_for_update=True)
        if login_row is None or not matches(secret, login_row.refresh_hash):
            raise AuthenticationFailedError("Unknown refresh token")
        if login_row.revoked_at is None:
            login_row.revoked_at = datetime.now(UTC)
            audit.add_entry(
                session,
                Actor.person(login_row.organization_id, login_row.user_id, info.context.address),
                action="auth.logout",
                object_type="User",
                object_id=login_row.user_id,
                summary={"session": str(login_row.id)},
            )
    _forget(info, session_id)


def start(session: AsyncSession, info: Info[Context], user: User) -> tuple[uuid.UUID, Tokens]:
    """Begin a login of `user` in `session` (committed with it); its id and tokens."""
    settings = info.context.services.settings
    login_id = uuid.uuid4()
    token, digest = new_refresh_token(login_id)
    expires = datetime.now(UTC) + timedelta(seconds=settings.refresh_token_ttl)
    session.add(
        AuthSession(
            id=login_id,
            organization_id=user.organization_id,
            user_id=user.id,
            refresh_hash=digest,
            expires_at=expires,
        )
    )
    access, access_expires = _access_token(info, user, login_id)
    return login_id, Tokens(user, access, access_expires, token, expires)


async def _record_login(session: AsyncSession, user: User) -> None:
    # `updated_at` is kept as it is: it says when the account was last changed, and a login
    # changes nothing about it.
    now = datetime.now(UTC)
    await session.execute(
        update(User)
        .where(User.id == user.id)
        .values(last_login_at=now, updated_at=User.updated_at)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(user, "last_login_at", now)  # known, and not to be written again


def _access_token(info: Info[Context], user: User, login_id: uuid.UUID) -> tuple[str, datetime]:
    settings = info.context.services.settings
    return issue_access_token(
        AccessClaims(user_id=user.id, organization_id=user.organization_id, session_id=login_id),
        settings.signing_secret,
        settings.access_token_ttl,
    )


def _forget(info: Info[Context], login_id: uuid.UUID) -> None:
    """Stop trusting the login's tokens in this process now, and end its websockets."""
    info.context.guards.access_changed(credential=Credential(CredentialKind.ACCESS_TOKEN, login_id))

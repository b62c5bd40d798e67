"""From `Authorization: Bearer ...` to a `Principal`, or a clear reason why not.

A checked credential is remembered by this process for `auth_cache_ttl` seconds, keyed by a
digest of the secret, so a busy client costs one database read every few seconds rather
than one per request. Requests of one credential that find no entry share one lookup: when
a busy client's entry expired, every request it had in flight read the key at once, each in
a session of its own, and opened pool connections beyond the pool's size to do it (stalls of
100-190 ms every `auth_cache_ttl` seconds in the benchmark, issue 16). A change made through
this process (a revoked key, a lowered role, a logout) forgets the affected entries at once,
and a lookup in flight meanwhile is not remembered; one made on another replica is seen when
the entry expires."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from flowgate.auth.credentials import api_key_prefix, digest, matches
from flowgate.auth.tokens import InvalidAccessTokenError, read_access_token
from flowgate.principal import Credential, CredentialKind, Principal
from flowgate.settings import Settings
from flowgate.stores.postgres import Postgres
from models.enums import UserRole
from models.sql import ApiKey, AuthSession, User

# `last_used_at` is written at most this often per key: a write per request would cost more
# than the read it accompanies.
LAST_USED_RESOLUTION = timedelta(seconds=60)
MAX_CACHED = 10_000


class AuthenticationError(Exception):
    """The credential cannot be used; the message tells the client what to do."""


@dataclass(frozen=True)
class Standing:
    """What a credential is worth right now: its user's organization and role."""

    organization_id: uuid.UUID
    user_id: uuid.UUID
    role: UserRole


class Authenticator:
    def __init__(self, settings: Settings, postgres: Postgres) -> None:
        self._settings = settings
        self._postgres = postgres
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lookups: dict[str, asyncio.Task[Principal]] = {}
        # Moved on by `forget`: a lookup that started before does not fill the cache.
        self._generation = 0

    async def authenticate(self, authorization: str | None) -> Principal | None:
        """The principal of an `Authorization` header value; `None` when there is none."""
        if authorization is None or not authorization.strip():
            return None
        scheme, _, credential = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise AuthenticationError(
                "The Authorization header must be `Bearer <access token or API key>`"
            )
        return await self.principal_for(credential.strip())

    async def principal_for(self, secret: str) -> Principal:
        key = digest(secret)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        lookup = self._lookups.get(key)
        if lookup is None:
            lookup = asyncio.ensure_future(self._look_up(key, secret, self._generation))
            self._lookups[key] = lookup
            lookup.add_done_callback(lambda done: self._settled(key, done))
        # Shielded: a request that goes away does not cancel the others' lookup.
        return await asyncio.shield(lookup)

    async def _look_up(self, key: str, secret: str, generation: int) -> Principal:
        prefix = api_key_prefix(secret)
        if prefix is not None:
            principal = await self._api_key_principal(secret, prefix)
        else:
            principal = await self._access_token_principal(secret)
        if generation == self._generation:
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()  # rare; simpler and cheaper than an LRU on every request
            self._cache[key] = (time.monotonic() + self._settings.auth_cache_ttl, principal)
        return principal

    def _settled(self, key: str, lookup: asyncio.Task[Principal]) -> None:
        if self._lookups.get(key) is lookup:
            del self._lookups[key]
        if not lookup.cancelled():
            lookup.exception()  # seen here: its waiters may all have gone away

    def forget(
        self, *, user_id: uuid.UUID | None = None, credential: Credential | None = None
    ) -> None:
        """Drop cached principals of a user or a credential whose access just changed."""
        self._generation += 1
        self._lookups.clear()  # requests from now on look up afresh
        self._cache = {
            key: (expires, principal)
            for key, (expires, principal) in self._cache.items()
            if principal.user_id != user_id and principal.credential != credential
        }

    async def _api_key_principal(self, secret: str, prefix: str) -> Principal:
        query = (
            select(ApiKey, User.role, User.is_active)
            .join(User, User.id == ApiKey.user_id)
            .where(ApiKey.prefix == prefix)
        )
        async with self._postgres.session() as session, session.begin():
            row = (await session.execute(query)).one_or_none()
            if row is None or not matches(secret, row.ApiKey.key_hash):
                raise AuthenticationError("Unknown API key")
            api_key: ApiKey = row.ApiKey
            now = datetime.now(UTC)
            if api_key.revoked_at is not None:
                raise AuthenticationError("This API key has been revoked")
            if api_key.expires_at is not None and api_key.expires_at <= now:
                raise AuthenticationError("This API key has expired")
            if not row.is_active:
                raise AuthenticationError("The user of this API key is deactivated")
            if api_key.last_used_at is None or api_key.last_used_at < now - LAST_USED_RESOLUTION:
                await session.execute(
                    update(ApiKey).where(ApiKey.id == api_key.id).values(last_used_at=now)
                )
        return Principal(
            organization_id=api_key.organization_id,
            user_id=api_key.user_id,
            role=row.role,
            credential=Credential(CredentialKind.API_KEY, api_key.id),
        )

    async def _access_token_principal(self, token: str) -> Principal:
        try:
            claims = read_access_token(token, self._settings.signing_secret)
        except InvalidAccessTokenError as error:
            raise AuthenticationError(str(error)) from None
        credential = Credential(CredentialKind.ACCESS_TOKEN, claims.session_id)
        standing = (await self.standings([credential])).get(credential)
        if standing is None or standing.user_id != claims.user_id:
            raise AuthenticationError("This login has ended: log in again")
        return Principal(
            organization_id=standing.organization_id,
            user_id=standing.user_id,
            role=standing.role,
            credential=credential,
        )

    async def standings(self, credentials: Iterable[Credential]) -> dict[Credential, Standing]:
        """The current standing of each credential still valid; the others are left out.

        Two queries at most, however many credentials: the live-session check asks about
        every open websocket at once."""
        wanted = set(credentials)
        key_ids = [c.id for c in wanted if c.kind is CredentialKind.API_KEY]
        login_ids = [c.id for c in wanted if c.kind is CredentialKind.ACCESS_TOKEN]
        now = datetime.now(UTC)
        found: dict[Credential, Standing] = {}
        async with self._postgres.session() as session:
            if key_ids:
                keys = await session.execute(
                    select(ApiKey.id, User.organization_id, User.id, User.role)
                    .join(User, User.id == ApiKey.user_id)
                    .where(
                        ApiKey.id.in_(key_ids),
                        ApiKey.revoked_at.is_(None),
                        (ApiKey.expires_at.is_(None)) | (ApiKey.expires_at > now),
                        User.is_active,
                    )
                )
                for key_id, organization_id, user_id, role in keys:
                    found[Credential(CredentialKind.API_KEY, key_id)] = Standing(
                        organization_id, user_id, role
                    )
            if login_ids:
                logins = await session.execute(
                    select(AuthSession.id, User.organization_id, User.id, User.role)
                    .join(User, User.id == AuthSession.user_id)
                    .where(
                        AuthSession.id.in_(login_ids),
                        AuthSession.revoked_at.is_(None),
                        AuthSession.expires_at > now,
                        User.is_active,
                    )
                )
                for login_id, organization_id, user_id, role in logins:
                    found[Credential(CredentialKind.ACCESS_TOKEN, login_id)] = Standing(
                        organization_id, user_id, role
                    )
        return found

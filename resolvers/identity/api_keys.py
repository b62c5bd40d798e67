"""`createApiKey`, `revokeApiKey`, `apiKeys`: credentials for engines and integrations.

A key acts as the user who created it, with that user's role (read when the key is used, so
lowering the role lowers the key). Its secret is returned once, by `createApiKey`; the
database keeps its SHA-256 and a prefix that lists show, so the owner can tell keys apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Select, select

from flowgate.auth.keys import issue
from flowgate.principal import Credential, CredentialKind, Principal
from models.sql import ApiKey
from resolvers import audit
from resolvers.access import is_admin
from resolvers.mutations.errors import InvalidInputError, NotFoundError
from resolvers.validation import values
from resolvers.validation.issues import IssueCode, Issues

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context

MAX_NAME = 200
MAX_EXPIRY_DAYS = 3650


async def create_api_key(
    info: Info[Context], *, name: str, expires_in_days: int | None
) -> tuple[ApiKey, str]:
    principal = info.context.principal
    issues = Issues()
    cleaned = values.text(issues, "input.name", name, max_length=MAX_NAME, required=True)
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        issues.add("input.expiresInDays", IssueCode.OUT_OF_RANGE, f"from 1 to {MAX_EXPIRY_DAYS}")
    if issues or cleaned is None:
        raise InvalidInputError(issues)
    expires_at = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
    async with info.context.services.postgres.session() as session, session.begin():
        key, secret = issue(
            session, principal.organization_id, principal.user_id, cleaned, expires_at
        )
        audit.add_entry(
            session,
            info.context.actor,
            action="api_key.create",
            object_type="ApiKey",
            object_id=key.id,
            summary={"name": cleaned, "prefix": key.prefix, "expires_at": _text(expires_at)},
        )
    return key, secret


async def revoke_api_key(info: Info[Context], *, key_id: str) -> ApiKey:
    """Revoke a key: the owner may revoke their own, an admin any of the organization.
    Revoking twice is not an error (the first revocation time stays)."""
    principal = info.context.principal
    issues = Issues()
    local_id = values.global_id(issues, "id", key_id, "ApiKey")
    if local_id is None:
        raise InvalidInputError(issues)
    async with info.context.services.postgres.session() as session, session.begin():
        key = await session.scalar(
            _visible(principal).where(ApiKey.id == local_id).with_for_update()
        )
        if key is None:
            raise NotFoundError("ApiKey", key_id)
        if key.revoked_at is None:
            key.revoked_at = datetime.now(UTC)
            audit.add_entry(
                session,
                info.context.actor,
                action="api_key.revoke",
                object_type="ApiKey",
                object_id=key.id,
                summary={"name": key.name, "prefix": key.prefix, "owner": str(key.user_id)},
            )
    info.context.guards.access_changed(credential=Credential(CredentialKind.API_KEY, key.id))
    return key


async def list_api_keys(info: Info[Context]) -> list[ApiKey]:
    """The caller's own keys; for an admin, every key of the organization. Newest first."""
    query = _visible(info.context.principal).order_by(ApiKey.created_at.desc(), ApiKey.id)
    async with info.context.services.postgres.session() as session:
        return list((await session.scalars(query)).all())


def _visible(principal: Principal) -> Select[ApiKey]:
    query = select(ApiKey).where(ApiKey.organization_id == principal.organization_id)
    if not is_admin(principal):
        query = query.where(ApiKey.user_id == principal.user_id)
    return query


def _text(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None

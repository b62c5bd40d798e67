"""Issuing API keys: `issue` adds one to a session (the `createApiKey` mutation's and the
tests'), `issue_key` issues one outside a request (the demo's, `flowgate api-key create`'s)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from flowgate.auth.credentials import new_api_key
from flowgate.services import Services
from models.sql import ApiKey, User

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class UnknownUserError(Exception):
    pass


def issue(
    session: AsyncSession,
    principal_org: uuid.UUID,
    user_id: uuid.UUID,
    name: str,
    expires_at: datetime | None,
) -> tuple[ApiKey, str]:
    """Add a new key for `user_id` to `session`; the row and the secret to show once."""
    fresh = new_api_key()
    key = ApiKey(
        id=uuid.uuid4(),
        organization_id=principal_org,
        user_id=user_id,
        name=name,
        prefix=fresh.prefix,
        key_hash=fresh.digest,
        created_at=datetime.now(UTC),
        expires_at=expires_at,
    )
    session.add(key)
    return key, fresh.secret


async def issue_key(services: Services, email: str, name: str, *, replace: bool = False) -> str:
    """A new key for the user `email`; its secret. With `replace`, that user's earlier
    working keys of the same name are revoked (the demo issues one per start)."""
    async with services.postgres.session() as session, session.begin():
        user = await session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise UnknownUserError(f"No user with email {email!r}")
        if replace:
            await session.execute(
                update(ApiKey)
                .where(ApiKey.user_id == user.id, ApiKey.name == name, ApiKey.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        _, secret = issue(session, user.organization_id, user.id, name, None)
    return secret

"""API keys issued outside a request: the demo's, and `flowgate api-key create`'s."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from flowgate.services import Services
from models.sql import ApiKey, User
from resolvers.identity.api_keys import issue


class UnknownUserError(Exception):
    pass


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

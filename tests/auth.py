"""Credentials for tests: real API keys of seeded users, made the way `createApiKey` makes
them (so that authentication in tests is the production path, not a bypass)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from flowgate.auth.credentials import api_key_prefix, digest
from flowgate.auth.keys import issue
from flowgate.principal import Credential, CredentialKind, Principal
from flowgate.services import Services
from models.sql import ApiKey, User

# The seeded role accounts of the first organization by name (see flowgate/seed).
ADMIN = "admin@acme.example"
USER = "user@acme.example"
VIEWER = "viewer@acme.example"
OTHER_ADMIN = "admin@globex.example"


async def user_by_email(services: Services, email: str) -> User:
    async with services.postgres.session() as session:
        user = await session.scalar(select(User).where(User.email == email))
    assert user is not None, f"no seeded user {email}"
    return user


async def api_key_for(services: Services, email: str, name: str = "test") -> tuple[str, Principal]:
    """A new API key of the user `email`: its secret and the principal it stands for."""
    user = await user_by_email(services, email)
    async with services.postgres.session() as session, session.begin():
        key, secret = issue(session, user.organization_id, user.id, name, None)
    principal = Principal(
        user.organization_id, user.id, user.role, Credential(CredentialKind.API_KEY, key.id)
    )
    return secret, principal


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@asynccontextmanager
async def client_as(app: FastAPI, services: Services, email: str) -> AsyncIterator[AsClient]:
    """An HTTP client of `app` signed in (with a new API key) as the seeded user `email`."""
    secret, principal = await api_key_for(services, email)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://flowgate.test", headers=bearer(secret)
    ) as http:
        yield AsClient(http, principal, secret)


@dataclass
class AsClient:
    http: httpx.AsyncClient
    principal: Principal
    secret: str

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}
        )
        assert response.status_code < 500, response.text
        body: dict[str, Any] = response.json()
        return body


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


async def restore_key(services: Services, email: str, secret: str) -> None:
    """Put back a key of `email` with this very secret: a test that reseeds (which deletes
    every user, and so every key) must leave the session's `admin_key` working."""
    user = await user_by_email(services, email)
    prefix = api_key_prefix(secret)
    assert prefix is not None
    async with services.postgres.session() as session, session.begin():
        session.add(
            ApiKey(
                organization_id=user.organization_id,
                user_id=user.id,
                name="tests",
                prefix=prefix,
                key_hash=digest(secret),
            )
        )

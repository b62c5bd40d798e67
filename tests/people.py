"""People the people tests create: invited through the API, named with a prefix of their
own, and hard-deleted (with their invites and audit entries) when the test ends."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import delete, or_, select

from flowgate.services import Services
from models.sql import AuditLogEntry, Invite, User

PASSWORD = "a sturdy test passphrase 42"  # noqa: S105 - a test account's password

INVITE = """
mutation Invite($email: String!, $role: UserRole!) {
  inviteUser(email: $email, role: $role) {
    __typename
    ... on InviteUserPayload { token invite { id email role expiresAt } }
    ... on ValidationError { issues { path code message } }
  }
}
"""
ACCEPT = """
mutation Accept($token: String!, $name: String!, $password: String!) {
  acceptInvite(token: $token, name: $name, password: $password) {
    __typename
    ... on LoginPayload {
      accessToken refreshToken user { id email role isActive lastLoginAt }
    }
    ... on Error { code message }
    ... on ValidationError { issues { path code message } }
  }
}
"""


async def post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code < 500, response.text
    body: dict[str, Any] = response.json()
    return body


@dataclass
class Joined:
    """A person who joined through an invite: their user id and first login."""

    user_id: str
    email: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass
class People:
    services: Services
    admin: httpx.AsyncClient  # the first organization's admin
    anonymous: httpx.AsyncClient
    prefix: str

    @classmethod
    @asynccontextmanager
    async def open(
        cls, services: Services, admin: httpx.AsyncClient, anonymous: httpx.AsyncClient
    ) -> AsyncIterator[People]:
        people = cls(services, admin, anonymous, f"test-people-{uuid.uuid4().hex[:8]}")
        try:
            yield people
        finally:
            await people.remove_everything()

    def email(self, label: str) -> str:
        return f"{self.prefix}-{label}@acme.example"

    async def invite(self, label: str, role: str = "USER") -> str:
        body = await post(self.admin, INVITE, {"email": self.email(label), "role": role})
        result = body["data"]["inviteUser"]
        assert result["__typename"] == "InviteUserPayload", result
        token: str = result["token"]
        return token

    async def accept(self, token: str, password: str = PASSWORD) -> dict[str, Any]:
        body = await post(
            self.anonymous, ACCEPT, {"token": token, "name": "Test Person", "password": password}
        )
        result: dict[str, Any] = body["data"]["acceptInvite"]
        return result

    async def join(self, label: str, role: str = "USER") -> Joined:
        result = await self.accept(await self.invite(label, role))
        assert result["__typename"] == "LoginPayload", result
        return Joined(
            user_id=result["user"]["id"],
            email=result["user"]["email"],
            access_token=result["accessToken"],
            refresh_token=result["refreshToken"],
        )

    async def user(self, label: str) -> User | None:
        async with self.services.postgres.session() as session:
            found: User | None = await session.scalar(
                select(User).where(User.email == self.email(label))
            )
            return found

    async def remove_everything(self) -> None:
        pattern = f"{self.prefix}-%"
        async with self.services.postgres.session() as session, session.begin():
            user_ids = [
                str(i)
                for i in (await session.scalars(select(User.id).where(User.email.like(pattern))))
            ]
            invite_ids = [
                str(i)
                for i in (
                    await session.scalars(select(Invite.id).where(Invite.email.like(pattern)))
                )
            ]
            await session.execute(
                delete(AuditLogEntry).where(
                    or_(
                        AuditLogEntry.object_id.in_(user_ids + invite_ids),
                        AuditLogEntry.actor_id.in_([uuid.UUID(i) for i in user_ids]),
                    )
                )
            )
            await session.execute(delete(Invite).where(Invite.email.like(pattern)))
            await session.execute(delete(User).where(User.email.like(pattern)))

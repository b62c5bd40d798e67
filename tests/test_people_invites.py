"""Invites: an admin invites, the person joins once, within the time allowed, with a
password that keeps the rules. Everything through HTTP, against the real stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import String, func, select, update

from flowgate.seed import DEMO_PASSWORD
from flowgate.services import Services
from models.sql import AuditLogEntry, Invite, User
from resolvers.ids import from_global_id
from tests.auth import USER, client_as, error_codes
from tests.people import INVITE, People, post

ME = "{ me { email role isActive lastLoginAt organization { slug } } }"


@pytest.fixture
async def people(
    services: Services, client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> AsyncIterator[People]:
    async with People.open(services, client, anonymous) as made:
        yield made


async def test_an_invite_works_once_and_signs_the_person_in(people: People, app: FastAPI) -> None:
    # given
    token = await people.invite("once", role="VIEWER")

    # when
    first = await people.accept(token)
    again = await people.accept(token)

    # then: the first joins and is logged in, as a viewer of the inviter's organization
    assert first["__typename"] == "LoginPayload", first
    assert first["user"]["role"] == "VIEWER" and first["user"]["isActive"] is True
    assert first["user"]["lastLoginAt"] is not None
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {first['accessToken']}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as me:
        body = await post(me, ME)
    assert body["data"]["me"]["email"] == people.email("once")
    assert body["data"]["me"]["organization"]["slug"] == "acme"
    # the second use is refused, and creates nobody
    assert again["__typename"] == "AuthenticationFailed"
    assert "already used" in again["message"]
    async with people.services.postgres.session() as session:
        count = await session.scalar(select(func.count()).where(User.email == people.email("once")))
        user_id = from_global_id(first["user"]["id"])[1]
        actions = (
            await session.scalars(
                select(AuditLogEntry.action).where(AuditLogEntry.object_id == str(user_id))
            )
        ).all()
    assert count == 1
    assert list(actions) == ["user.join"]


async def test_an_expired_invite_is_refused_and_nothing_is_written(people: People) -> None:
    # given: an invite past its time
    token = await people.invite("late")
    async with people.services.postgres.session() as session, session.begin():
        await session.execute(
            update(Invite)
            .where(Invite.email == people.email("late"))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    # when
    result = await people.accept(token)

    # then
    assert result["__typename"] == "AuthenticationFailed"
    assert "expired" in result["message"]
    assert await people.user("late") is None


async def test_an_unknown_or_malformed_token_is_refused(people: People) -> None:
    for token in ("fgi_nothing-like-a-real-token", "", "not an invite", "fgi_\x00"):
        result = await people.accept(token)
        assert result["__typename"] == "AuthenticationFailed", (token, result)


@pytest.mark.parametrize(
    ("password", "code", "words"),
    [
        ("short-one", "OUT_OF_RANGE", "at least 12 characters"),
        (DEMO_PASSWORD, "INVALID", "published or commonly used"),
        ("PASSWORD1234", "INVALID", "published or commonly used"),
        ("{email} and more", "INVALID", "email"),
        ("x" * 201, "TOO_LONG", "at most 200"),
    ],
)
async def test_a_weak_password_is_refused_by_name_and_the_invite_stays_usable(
    people: People, password: str, code: str, words: str
) -> None:
    # given
    token = await people.invite("weak")

    # when
    refused = await people.accept(token, password.format(email=people.email("weak")))

    # then: the issue names the argument and the rule; nobody was created
    assert refused["__typename"] == "ValidationError", refused
    [issue] = refused["issues"]
    assert issue["path"] == "password" and issue["code"] == code
    assert words in issue["message"]
    assert await people.user("weak") is None
    # and the invite was not used up by the mistake
    assert (await people.accept(token))["__typename"] == "LoginPayload"


async def test_only_admins_invite_and_an_existing_email_is_a_duplicate(
    people: People, app: FastAPI, services: Services
) -> None:
    async with client_as(app, services, USER) as member:
        body = await member.post(INVITE, {"email": people.email("x"), "role": "ADMIN"})
    assert error_codes(body) == ["FORBIDDEN"]

    taken = await post(people.admin, INVITE, {"email": USER.upper(), "role": "USER"})
    result = taken["data"]["inviteUser"]
    assert result["__typename"] == "ValidationError"
    assert result["issues"][0]["path"] == "email" and result["issues"][0]["code"] == "DUPLICATE"

    for bad in ("no-at-sign", "two@@example.com", " ", "a@b"):
        result = (await post(people.admin, INVITE, {"email": bad, "role": "USER"}))["data"][
            "inviteUser"
        ]
        assert result["__typename"] == "ValidationError", bad
        assert result["issues"][0]["path"] == "email"


async def test_an_invite_is_audited_with_its_inviter(people: People) -> None:
    await people.invite("audited")
    async with people.services.postgres.session() as session:
        entry = await session.scalar(
            select(AuditLogEntry)
            .join(
                Invite,
                AuditLogEntry.object_id == func.cast(Invite.id, String),
            )
            .where(Invite.email == people.email("audited"))
        )
    assert entry is not None and entry.action == "user.invite"
    assert entry.summary["email"] == people.email("audited") and entry.summary["role"] == "user"

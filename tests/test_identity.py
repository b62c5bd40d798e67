"""Identity: login, refresh, logout, API keys, roles, and what a credential may no longer do
once it is revoked, ended or downgraded. Every case goes through HTTP or a real websocket."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from flowgate.auth.tokens import AccessClaims, issue_access_token
from flowgate.seed import DEMO_PASSWORD
from flowgate.services import Services
from flowgate.settings import DEVELOPMENT_SECRET, Settings
from models.sql import ApiKey, AuditLogEntry
from resolvers.ids import to_global_id
from tests.auth import (
    ADMIN,
    USER,
    VIEWER,
    AsClient,
    api_key_for,
    bearer,
    client_as,
    error_codes,
    user_by_email,
)
from tests.scratch import Scratch
from tests.ws import connect

LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    __typename
    ... on LoginPayload { accessToken refreshToken accessTokenExpiresAt user { email role } }
    ... on Error { code message }
  }
}
"""
REFRESH = """
mutation Refresh($token: String!) {
  refreshToken(refreshToken: $token) {
    __typename
    ... on LoginPayload { accessToken refreshToken }
    ... on Error { code message }
  }
}
"""
LOGOUT = """
mutation Logout($token: String!) {
  logout(refreshToken: $token) { __typename ... on Error { code message } }
}
"""
ME = "{ me { email role } }"
CREATE_KEY = """
mutation CreateKey($input: CreateApiKeyInput!) {
  createApiKey(input: $input) {
    __typename
    ... on CreateApiKeyPayload { secret apiKey { id name prefix lastUsedAt revokedAt } }
    ... on ValidationError { issues { path code } }
  }
}
"""
REVOKE_KEY = """
mutation Revoke($id: ID!) {
  revokeApiKey(id: $id) {
    __typename
    ... on RevokeApiKeyPayload { apiKey { revokedAt } }
    ... on Error { code message }
  }
}
"""
SET_ROLE = """
mutation SetRole($id: ID!, $role: UserRole!) {
  updateUserRole(userId: $id, role: $role) {
    __typename
    ... on UpdateUserRolePayload { user { role } }
    ... on Error { code message }
  }
}
"""
CREATE_AGENT = """
mutation($name: String! = "test-identity-refused") {
  createAgent(input: {name: $name, category: "x"}) {
    __typename ... on CreateAgentPayload { agent { id } } } }
"""


async def create_agent(as_client: AsClient, name: str) -> str:
    body = await as_client.post(CREATE_AGENT, {"name": name})
    agent_id: str = body["data"]["createAgent"]["agent"]["id"]
    return agent_id


async def post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, **kw: Any
) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables or {}}, **kw)


async def login(anonymous: httpx.AsyncClient, email: str = USER) -> dict[str, Any]:
    body = (await post(anonymous, LOGIN, {"email": email, "password": DEMO_PASSWORD})).json()
    result: dict[str, Any] = body["data"]["login"]
    assert result["__typename"] == "LoginPayload", result
    return result


async def audit_actions(services: Services, object_id: uuid.UUID) -> list[str]:
    async with services.postgres.session() as session:
        query = (
            select(AuditLogEntry.action)
            .where(AuditLogEntry.object_id == str(object_id))
            .order_by(AuditLogEntry.id)
        )
        return list((await session.scalars(query)).all())


# --- no credential, bad credentials ---------------------------------------------------------


async def test_without_a_credential_only_login_works(
    anonymous: httpx.AsyncClient, seeded: object
) -> None:
    response = await post(anonymous, "{ agents(first: 1) { totalCount } me { email } }")
    body = response.json()
    assert response.status_code == 200
    assert body["data"] is None
    assert set(error_codes(body)) == {"UNAUTHENTICATED"}
    assert "Authorization: Bearer" in body["errors"][0]["message"]
    # and a mutation too
    assert error_codes((await post(anonymous, CREATE_AGENT)).json()) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Basic dXNlcjpwYXNz", "must be `Bearer"),
        ("Bearer ", "must be `Bearer"),
        ("Bearer not-a-token", "Not a valid access token or API key"),
        ("Bearer fgk_0123456789ab_nope", "Unknown API key"),
    ],
)
async def test_an_unusable_credential_is_401_with_a_reason(
    anonymous: httpx.AsyncClient, seeded: object, header: str, message: str
) -> None:
    response = await post(anonymous, "{ __typename }", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert message in error["message"]


async def test_an_expired_or_forged_access_token_is_refused(
    anonymous: httpx.AsyncClient, services: Services, settings: Settings
) -> None:
    user = await user_by_email(services, USER)
    claims = AccessClaims(user.id, user.organization_id, uuid.uuid4())
    expired, _ = issue_access_token(
        claims, settings.signing_secret, 60, now=datetime.now(UTC) - timedelta(hours=1)
    )
    forged, _ = issue_access_token(claims, "another secret of at least 32 characters", 60)

    expired_response = await post(anonymous, ME, headers=bearer(expired))
    forged_response = await post(anonymous, ME, headers=bearer(forged))

    assert expired_response.status_code == 401
    assert "expired" in expired_response.json()["errors"][0]["message"]
    assert forged_response.status_code == 401


# --- login, refresh, logout ---------------------------------------------------------------


async def test_login_gives_tokens_that_work_and_is_audited(
    anonymous: httpx.AsyncClient, services: Services
) -> None:
    # when
    tokens = await login(anonymous)

    # then
    assert tokens["user"] == {"email": USER, "role": "USER"}
    me = (await post(anonymous, ME, headers=bearer(tokens["accessToken"]))).json()
    assert me["data"]["me"] == {"email": USER, "role": "USER"}
    user = await user_by_email(services, USER)
    assert (await audit_actions(services, user.id))[-1] == "auth.login"


@pytest.mark.parametrize("email", [USER, "nobody@acme.example", "nul\x00@acme.example"])
async def test_a_wrong_password_or_unknown_email_get_the_same_answer(
    anonymous: httpx.AsyncClient, services: Services, email: str
) -> None:
    body = (await post(anonymous, LOGIN, {"email": email, "password": "wrong"})).json()

    assert body["data"]["login"] == {
        "__typename": "AuthenticationFailed",
        "code": "AUTHENTICATION_FAILED",
        "message": "Wrong email or password",
    }
    if email == USER:  # a known account records the failed attempt
        user = await user_by_email(services, USER)
        assert (await audit_actions(services, user.id))[-1] == "auth.login_failed"


async def test_login_attempts_per_email_are_limited(
    anonymous: httpx.AsyncClient, settings: Settings, seeded: object
) -> None:
    email = f"guess-{uuid.uuid4().hex[:8]}@acme.example"
    limit = settings.login_attempts_per_email
    answered = 0
    # A sliding window (60 s): the attempts age out only slowly, but a run slower than 6 s
    # frees one more (10 x (1 - 6/60) + 1 = 10), so allow some slack.
    for _ in range(2 * limit + 1):
        body = (await post(anonymous, LOGIN, {"email": email, "password": "x"})).json()
        if "errors" in body:
            break
        assert body["data"]["login"]["__typename"] == "AuthenticationFailed"
        answered += 1
    else:
        raise AssertionError(f"{2 * limit + 1} attempts and never limited")
    assert answered >= limit
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] >= 1
    assert "Too many login attempts" in error["message"]


async def test_a_refresh_token_works_once_and_a_reused_one_ends_the_login(
    anonymous: httpx.AsyncClient,
) -> None:
    first = await login(anonymous)

    # when: refreshed once
    second = (await post(anonymous, REFRESH, {"token": first["refreshToken"]})).json()
    second = second["data"]["refreshToken"]
    assert second["__typename"] == "LoginPayload"
    assert (await post(anonymous, ME, headers=bearer(second["accessToken"]))).status_code == 200

    # when: the first refresh token is presented again (a stolen copy)
    reused = (await post(anonymous, REFRESH, {"token": first["refreshToken"]})).json()

    # then: refused, and the whole login ended, the new tokens included
    assert reused["data"]["refreshToken"]["code"] == "AUTHENTICATION_FAILED"
    assert "already used" in reused["data"]["refreshToken"]["message"]
    after = await post(anonymous, ME, headers=bearer(second["accessToken"]))
    assert after.status_code == 401
    again = (await post(anonymous, REFRESH, {"token": second["refreshToken"]})).json()
    assert again["data"]["refreshToken"]["__typename"] == "AuthenticationFailed"


async def test_logout_ends_the_refresh_token_and_the_access_token(
    anonymous: httpx.AsyncClient,
) -> None:
    tokens = await login(anonymous)

    out = (await post(anonymous, LOGOUT, {"token": tokens["refreshToken"]})).json()

    assert out["data"]["logout"]["__typename"] == "LogoutPayload"
    assert (await post(anonymous, ME, headers=bearer(tokens["accessToken"]))).status_code == 401
    refreshed = (await post(anonymous, REFRESH, {"token": tokens["refreshToken"]})).json()
    assert refreshed["data"]["refreshToken"]["__typename"] == "AuthenticationFailed"


async def test_a_malformed_refresh_token_is_an_authentication_failure(
    anonymous: httpx.AsyncClient, seeded: object
) -> None:
    for token in ["", "fgr_nothex_x", "fgr_" + "0" * 32 + "_secret"]:
        body = (await post(anonymous, REFRESH, {"token": token})).json()
        assert body["data"]["refreshToken"]["__typename"] == "AuthenticationFailed", token


# --- API keys -----------------------------------------------------------------------------


async def test_an_api_key_is_shown_once_works_records_use_and_stops_when_revoked(
    app: FastAPI, services: Services
) -> None:
    async with client_as(app, services, USER) as member:
        created = (await member.post(CREATE_KEY, {"input": {"name": "engine"}}))["data"]
        payload = created["createApiKey"]
        secret, key = payload["secret"], payload["apiKey"]
        assert secret.startswith(key["prefix"])
        assert key["lastUsedAt"] is None
        listed = (await member.post("{ apiKeys { id prefix name } }"))["data"]["apiKeys"]
        assert {"id": key["id"], "prefix": key["prefix"], "name": "engine"} in listed
        assert all(secret not in str(item) for item in listed)

        # when: used
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://flowgate.test", headers=bearer(secret)
        ) as engine:
            assert (await post(engine, ME)).json()["data"]["me"]["email"] == USER
            async with services.postgres.session() as session:
                stored = await session.scalar(select(ApiKey).where(ApiKey.prefix == key["prefix"]))
            assert stored is not None and stored.last_used_at is not None
            assert secret not in stored.key_hash  # only a digest is kept

            # when: revoked
            revoked = (await member.post(REVOKE_KEY, {"id": key["id"]}))["data"]["revokeApiKey"]
            assert revoked["apiKey"]["revokedAt"] is not None

            # then
            refused = await post(engine, ME)
            assert refused.status_code == 401
            assert "revoked" in refused.json()["errors"][0]["message"]
    assert await audit_actions(services, stored.id) == ["api_key.create", "api_key.revoke"]


async def test_a_user_cannot_see_or_revoke_anothers_key_but_an_admin_can(
    app: FastAPI, services: Services
) -> None:
    _, viewer_key = await api_key_for(services, VIEWER, "viewer's")
    key_id = to_global_id("ApiKey", viewer_key.credential.id)
    async with client_as(app, services, USER) as member, client_as(app, services, ADMIN) as admin:
        listed = (await member.post("{ apiKeys { id } }"))["data"]["apiKeys"]
        assert {"id": key_id} not in listed
        refused = (await member.post(REVOKE_KEY, {"id": key_id}))["data"]["revokeApiKey"]
        assert refused["__typename"] == "NotFound"

        assert {"id": key_id} in (await admin.post("{ apiKeys { id } }"))["data"]["apiKeys"]
        done = (await admin.post(REVOKE_KEY, {"id": key_id}))["data"]["revokeApiKey"]
        assert done["__typename"] == "RevokeApiKeyPayload"


@pytest.mark.parametrize(
    ("name", "code"),
    [("  ", "REQUIRED"), ("x" * 201, "TOO_LONG"), ("nul\x00", "INVALID")],  # NUL: found by fuzzing
)
async def test_a_bad_key_input_names_the_field(
    app: FastAPI, services: Services, name: str, code: str
) -> None:
    async with client_as(app, services, USER) as member:
        body = await member.post(CREATE_KEY, {"input": {"name": name, "expiresInDays": 0}})
    assert body["data"]["createApiKey"]["issues"] == [
        {"path": "input.name", "code": code},
        {"path": "input.expiresInDays", "code": "OUT_OF_RANGE"},
    ]


# --- roles --------------------------------------------------------------------------------


async def test_roles_decide_what_may_be_done(app: FastAPI, services: Services) -> None:
    target = await user_by_email(services, VIEWER)
    async with (
        client_as(app, services, VIEWER) as viewer,
        client_as(app, services, USER) as member,
        client_as(app, services, ADMIN) as admin,
    ):
        # a viewer reads but does not write
        assert "errors" not in await viewer.post("{ agents(first: 1) { totalCount } }")
        assert error_codes(await viewer.post(CREATE_AGENT)) == ["FORBIDDEN"]
        # only an admin changes roles
        same = {"id": to_global_id("User", target.id), "role": "VIEWER"}
        assert error_codes(await member.post(SET_ROLE, same)) == ["FORBIDDEN"]
        changed = (await admin.post(SET_ROLE, same))["data"]["updateUserRole"]
        assert changed == {"__typename": "UpdateUserRolePayload", "user": {"role": "VIEWER"}}
        own = {"id": to_global_id("User", admin.principal.user_id), "role": "VIEWER"}
        refused = (await admin.post(SET_ROLE, own))["data"]["updateUserRole"]
        assert refused["__typename"] == "Forbidden"


async def test_a_lowered_role_applies_to_the_next_request_and_is_audited(
    app: FastAPI, services: Services, scratch: Scratch
) -> None:
    async with client_as(app, services, ADMIN) as admin:
        # given: a colleague with the user role, signed in
        colleague = await _colleague(services, admin.principal.organization_id)
        async with client_as(app, services, colleague) as member:
            await create_agent(member, scratch.name("before"))
            role = {"id": to_global_id("User", member.principal.user_id)}
            try:
                # when
                await admin.post(SET_ROLE, {**role, "role": "VIEWER"})

                # then
                assert error_codes(await member.post(CREATE_AGENT)) == ["FORBIDDEN"]
                actions = await audit_actions(services, member.principal.user_id)
                assert actions[-1] == "user.role_change"
            finally:
                await admin.post(SET_ROLE, {**role, "role": "USER"})


async def _colleague(services: Services, organization_id: uuid.UUID) -> str:
    """A seeded member with the user role, other than the role accounts."""
    from models.enums import UserRole
    from models.sql import User

    async with services.postgres.session() as session:
        email = await session.scalar(
            select(User.email)
            .where(
                User.organization_id == organization_id,
                User.role == UserRole.USER,
                User.email != USER,
            )
            .order_by(User.email)
        )
    assert email is not None
    return email


async def test_a_user_changes_only_the_agents_they_own(
    app: FastAPI, services: Services, scratch: Scratch
) -> None:
    async with client_as(app, services, USER) as member, client_as(app, services, ADMIN) as admin:
        mine = await create_agent(member, scratch.name("mine"))
        theirs = await create_agent(admin, scratch.name("theirs"))
        rename = (
            'mutation($id: ID!) { updateAgent(id: $id, input: {description: "x"}) { __typename } }'
        )
        assert (await member.post(rename, {"id": mine}))["data"]["updateAgent"] == {
            "__typename": "UpdateAgentPayload"
        }
        refused = (await member.post(rename, {"id": theirs}))["data"]["updateAgent"]
        assert refused == {"__typename": "Forbidden"}


# --- websockets ---------------------------------------------------------------------------


async def _closed_with(url: str, payload: dict[str, Any]) -> int | None:
    import websockets

    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 10)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_a_websocket_without_a_usable_credential_is_closed_4403(live_server: str) -> None:
    url = f"ws://{live_server}/graphql"
    assert await _closed_with(url, {}) == 4403
    assert await _closed_with(url, {"Authorization": "Bearer fgk_0123456789ab_x"}) == 4403


async def test_revoking_a_key_closes_its_open_subscriptions_within_seconds(
    live_server: str, services: Services, settings: Settings, client: httpx.AsyncClient
) -> None:
    import websockets

    # given: a dashboard subscribed with its own key
    secret, principal = await api_key_for(services, VIEWER, "dashboard")
    key_id = to_global_id("ApiKey", principal.credential.id)
    async with connect(f"ws://{live_server}/graphql", bearer(secret)) as ws:
        await ws.subscribe("subscription { executionUpdates { id } }")

        # when
        body = (await post(client, REVOKE_KEY, {"id": key_id})).json()
        assert body["data"]["revokeApiKey"]["__typename"] == "RevokeApiKeyPayload"

        # then: closed with 4403 well within a few recheck intervals
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.receive(timeout=settings.auth_recheck_interval * 3 + 2)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


# --- production settings ------------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, "short", DEVELOPMENT_SECRET])
def test_production_refuses_a_missing_short_or_published_secret(secret: str | None) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="FLOWGATE_AUTH_SECRET"):
        Settings(environment="production", auth_secret=secret, _env_file=None)  # type: ignore[arg-type,call-arg]


def test_production_accepts_a_long_secret() -> None:
    settings = Settings(
        environment="production",
        auth_secret="x" * 40,  # type: ignore[arg-type]
        _env_file=None,  # type: ignore[call-arg]
    )
    assert settings.signing_secret == "x" * 40


async def test_lowering_a_role_closes_the_members_subscriptions(
    live_server: str, services: Services, settings: Settings, client: httpx.AsyncClient
) -> None:
    import websockets

    # given: a colleague with the user role, subscribed with their own key
    admin = await user_by_email(services, ADMIN)
    colleague = await _colleague(services, admin.organization_id)
    secret, member = await api_key_for(services, colleague, "dashboard")
    role = {"id": to_global_id("User", member.user_id)}
    try:
        async with connect(f"ws://{live_server}/graphql", bearer(secret)) as ws:
            await ws.subscribe("subscription { executionUpdates { id } }")

            # when: an admin makes them a viewer
            body = (await post(client, SET_ROLE, {**role, "role": "VIEWER"})).json()
            assert body["data"]["updateUserRole"]["user"] == {"role": "VIEWER"}

            # then
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.receive(timeout=settings.auth_recheck_interval * 3 + 2)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    finally:
        await post(client, SET_ROLE, {**role, "role": "USER"})

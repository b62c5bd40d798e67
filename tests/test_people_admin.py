"""What admins do to people: list them, deactivate and reactivate them; and the
organization as its members see it and its admins change it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import websockets
from fastapi import FastAPI
from sqlalchemy import delete, select

from flowgate.services import Services
from flowgate.settings import Settings
from models.sql import AuditLogEntry, Organization
from tests.auth import ADMIN, USER, VIEWER, api_key_for, bearer, client_as, error_codes
from tests.graphql import all_edges
from tests.people import People, post
from tests.ws import connect

USERS = """
query Users($first: Int, $after: String, $filter: UserFilter) {
  users(first: $first, after: $after, filter: $filter) {
    totalCount
    edges { node { email isActive role } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
DEACTIVATE = """
mutation($id: ID!) {
  deactivateUser(userId: $id) {
    __typename ... on DeactivateUserPayload { user { isActive } } ... on Error { code message }
  }
}
"""
REACTIVATE = """
mutation($id: ID!) {
  reactivateUser(userId: $id) {
    __typename ... on ReactivateUserPayload { user { isActive } } ... on Error { code message }
  }
}
"""
REFRESH = "mutation($t: String!) { refreshToken(refreshToken: $t) { __typename } }"
ORGANIZATION = """
{ me { organization { name slug createdAt figures { members activeMembers agents executions }
  members(first: 1) { totalCount } } } }
"""
UPDATE_ORGANIZATION = """
mutation($input: UpdateOrganizationInput!) {
  updateOrganization(input: $input) {
    __typename
    ... on UpdateOrganizationPayload { organization { name slug } }
    ... on ValidationError { issues { path code message } }
  }
}
"""


@pytest.fixture
async def people(
    services: Services, client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> AsyncIterator[People]:
    async with People.open(services, client, anonymous) as made:
        yield made


async def test_admins_list_people_with_filters_and_pages(
    people: People, app: FastAPI, services: Services
) -> None:
    await people.join("alpha")
    await people.join("beta", role="VIEWER")
    search = {"search": people.prefix}

    everyone = await all_edges(people.admin, USERS, "users", {"filter": search}, page_size=1)
    assert [e["node"]["email"] for e in everyone] == [people.email("alpha"), people.email("beta")]
    viewers = await post(people.admin, USERS, {"filter": {**search, "roles": ["VIEWER"]}})
    assert viewers["data"]["users"]["totalCount"] == 1
    whole = (await post(people.admin, USERS, {"first": 100}))["data"]["users"]
    assert all(e["node"]["email"].endswith("@acme.example") for e in whole["edges"])

    for email in (USER, VIEWER):
        async with client_as(app, services, email) as member:
            assert error_codes(await member.post(USERS)) == ["FORBIDDEN"]
    bad = await post(people.admin, USERS, {"after": "not-a-cursor"})
    assert error_codes(bad) == ["BAD_USER_INPUT"]


async def test_deactivation_ends_logins_stops_keys_and_closes_websockets(
    people: People, app: FastAPI, live_server: str, settings: Settings
) -> None:
    # given: a member with a login, an API key and an open subscription
    joined = await people.join("leaver")
    secret, _ = await api_key_for(people.services, joined.email, "leaver")
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://t", headers=bearer(secret)) as key,
        connect(f"ws://{live_server}/graphql", bearer(secret)) as ws,
    ):
        await ws.subscribe("subscription { executionUpdates { id } }")
        assert "errors" not in await post(key, "{ me { email } }")

        # when
        result = (await post(people.admin, DEACTIVATE, {"id": joined.user_id}))["data"]
        assert result["deactivateUser"] == {"__typename": "DeactivateUserPayload",
                                            "user": {"isActive": False}}  # fmt: skip

        # then: the socket closes with 4403 within the recheck interval (and some slack)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.receive(timeout=settings.auth_recheck_interval * 3 + 2)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
        # the key no longer works, nor the login
        assert (await key.post("/graphql", json={"query": "{ me { email } }"})).status_code == 401
    refreshed = await post(people.anonymous, REFRESH, {"t": joined.refresh_token})
    assert refreshed["data"]["refreshToken"]["__typename"] == "AuthenticationFailed"

    # when reactivated: the key works again; the ended login stays ended
    result = (await post(people.admin, REACTIVATE, {"id": joined.user_id}))["data"]
    assert result["reactivateUser"]["user"] == {"isActive": True}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers=bearer(secret)
    ) as key:
        assert "errors" not in await post(key, "{ me { email } }")
    refreshed = await post(people.anonymous, REFRESH, {"t": joined.refresh_token})
    assert refreshed["data"]["refreshToken"]["__typename"] == "AuthenticationFailed"


async def test_deactivation_is_for_admins_and_not_of_oneself(
    people: People, app: FastAPI, services: Services
) -> None:
    joined = await people.join("kept")
    async with client_as(app, services, ADMIN) as admin:
        me = (await admin.post("{ me { id } }"))["data"]["me"]["id"]
        own = (await admin.post(DEACTIVATE, {"id": me}))["data"]["deactivateUser"]
    assert own["__typename"] == "Forbidden"
    async with client_as(app, services, USER) as member:
        assert error_codes(await member.post(DEACTIVATE, {"id": joined.user_id})) == ["FORBIDDEN"]
    bad = (await post(people.admin, DEACTIVATE, {"id": "nonsense"}))["data"]["deactivateUser"]
    assert bad["__typename"] == "ValidationError"
    user = await people.user("kept")
    assert user is not None and user.is_active


async def test_the_organization_is_read_through_me_and_changed_by_admins(
    app: FastAPI, services: Services, client: httpx.AsyncClient
) -> None:
    async with services.postgres.session() as session:
        seeded = await session.scalar(select(Organization).where(Organization.slug == "acme"))
    assert seeded is not None
    async with client_as(app, services, VIEWER) as viewer:
        body = await viewer.post(ORGANIZATION)
        # a viewer reads the organization and its figures, not its member list
        assert error_codes(body) == ["FORBIDDEN"]
        org = body["data"]["me"]["organization"] if body["data"] else None
        assert org is None or org["members"] is None
        seen = await viewer.post("{ me { organization { slug figures { members } } } }")
        assert seen["data"]["me"]["organization"]["slug"] == "acme"
        assert seen["data"]["me"]["organization"]["figures"]["members"] > 0
        refused = await viewer.post(UPDATE_ORGANIZATION, {"input": {"name": "x"}})
        assert error_codes(refused) == ["FORBIDDEN"]
    try:
        changed = await post(client, UPDATE_ORGANIZATION, {"input": {"name": "Acme Renamed"}})
        assert changed["data"]["updateOrganization"]["organization"] == {
            "name": "Acme Renamed", "slug": "acme"}  # fmt: skip
        for slug, code in (("Not A Slug", "INVALID"), ("globex", "DUPLICATE")):
            result = await post(client, UPDATE_ORGANIZATION, {"input": {"slug": slug}})
            issues = result["data"]["updateOrganization"]["issues"]
            assert [(i["path"], i["code"]) for i in issues] == [("slug", code)], slug
    finally:
        async with services.postgres.session() as session, session.begin():
            organization = await session.get(Organization, seeded.id)
            assert organization is not None
            organization.name, organization.slug = seeded.name, seeded.slug
            await session.execute(
                delete(AuditLogEntry).where(AuditLogEntry.object_id == str(seeded.id))
            )

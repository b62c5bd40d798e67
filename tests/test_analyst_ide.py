"""GraphiQL for analysts in production: `FLOWGATE_ANALYST_IDE` serves the IDE and answers
introspection, to signed-in callers only."""

from __future__ import annotations

from fastapi import FastAPI

from tests.auth import error_codes
from tests.test_protection import INTROSPECTION, post, variant


async def test_the_analyst_ide_serves_graphiql_and_introspects_for_the_signed_in(
    app: FastAPI, admin_key: str
) -> None:
    async with variant(app, environment="production", analyst_ide=True) as client:
        # the page (static, it holds no data) and the schema for a signed-in analyst
        ide = await client.get("/graphql", headers={"accept": "text/html"})
        assert ide.status_code == 200 and "graphiql" in ide.text.lower()
        described = await post(client, INTROSPECTION)
        assert described["data"]["__schema"]["queryType"]["name"] == "Query"

        # nobody else gets the schema
        del client.headers["Authorization"]
        anonymous = await post(client, INTROSPECTION)
        assert error_codes(anonymous) == ["UNAUTHENTICATED"]
        assert anonymous.get("data") is None
        # ... while what needs no credential still works
        assert "errors" not in await post(client, "{ __typename }")


async def test_production_introspection_turned_on_needs_a_credential_too(
    app: FastAPI, admin_key: str
) -> None:
    async with variant(app, environment="production", introspection=True) as client:
        del client.headers["Authorization"]
        assert error_codes(await post(client, INTROSPECTION)) == ["UNAUTHENTICATED"]


async def test_development_introspection_stays_open(app: FastAPI, admin_key: str) -> None:
    async with variant(app) as client:
        del client.headers["Authorization"]
        assert "errors" not in await post(client, INTROSPECTION)

"""Degrade, do not fail: a gateway process keeps answering while one of its stores is stopped,
names it in `/readyz`, and recovers when the store is back, without being restarted.

Each test stops a store of its own (a private SecantusDB, a private embedded PostgreSQL),
never the session's. The Redis outage (queries and mutations keep working, new subscriptions
get LIVE_UPDATES_UNAVAILABLE, everything recovers) is `tests/test_fanout.py`'s
`test_a_redis_outage_delays_events_but_loses_none`."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from flowgate.auth.keys import issue
from flowgate.settings import Settings
from flowgate.stores.embedded import EmbeddedPostgres, EmbeddedSecantus
from flowgate.stores.postgres import Postgres
from models.enums import UserRole
from models.sql import Organization, User
from tests.auth import bearer
from tests.processes import gateway_process, wait_for

pytestmark = pytest.mark.slow

AGENTS = "query Degraded { agents(first: 3) { edges { node { name flowchart { id } } } } }"
ME = "query Me { me { email } }"


def _env(database_url: str, mongodb_url: str, **more: str) -> dict[str, str]:
    return {
        "FLOWGATE_DATABASE_URL": database_url,
        "FLOWGATE_MONGODB_URL": mongodb_url,
        "FLOWGATE_MONGODB_DATABASE": "flowgate_degradation",
        "FLOWGATE_REDIS_URL": "",
        "FLOWGATE_STORE_TIMEOUT": "2",
        # The session's outboxes are the tests' to drain (tests/conftest.py).
        "FLOWGATE_RELAY_INTERVAL": "3600",
        "FLOWGATE_SEARCH_INDEXER_INTERVAL": "3600",
        **more,
    }


def _post(base_url: str, query: str, secret: str) -> httpx.Response:
    return httpx.post(
        f"{base_url}/graphql", json={"query": query}, headers=bearer(secret), timeout=30
    )


def _readyz(base_url: str) -> httpx.Response:
    return httpx.get(f"{base_url}/readyz", timeout=10)


def test_mongodb_down_degrades_only_the_flowchart_fields_and_recovers(
    tmp_path: Path, settings: Settings, admin_key: str
) -> None:
    # given: a gateway on the session's PostgreSQL and a SecantusDB of its own
    mongo = EmbeddedSecantus(tmp_path / "mongo-store")
    mongo.start()
    env = _env(settings.database_url or "", mongo.url, FLOWGATE_STORE_TIMEOUT="1")
    try:
        with gateway_process("serve", env, data_dir=tmp_path) as (_, base_url):
            up = _post(base_url, AGENTS, admin_key).json()
            assert "errors" not in up, up
            names = [edge["node"]["name"] for edge in up["data"]["agents"]["edges"]]
            assert len(names) == 3
            assert _readyz(base_url).status_code == 200

            # when: SecantusDB stops
            mongo.stop()
            response = _post(base_url, AGENTS, admin_key)
            ready = _readyz(base_url)

            # then: the PostgreSQL fields arrive, with one error per flowchart path
            assert response.status_code == 200
            body = response.json()
            edges = body["data"]["agents"]["edges"]
            assert [edge["node"]["name"] for edge in edges] == names
            assert [edge["node"]["flowchart"] for edge in edges] == [None, None, None]
            errors = body["errors"]
            assert sorted(tuple(error["path"]) for error in errors) == [
                ("agents", "edges", index, "node", "flowchart") for index in range(3)
            ]
            for error in errors:
                assert error["extensions"]["code"] == "STORE_UNAVAILABLE", error
                assert error["extensions"]["store"] == "MongoDB"
                assert error["message"].startswith("MongoDB is unavailable")
            # and readiness names the store that is down
            assert ready.status_code == 503
            assert ready.json()["down"] == ["mongodb"]
            assert ready.json()["stores"]["postgresql"]["status"] == "up"

            # when: it comes back on the same port, without restarting the gateway
            mongo.start()

            # then
            wait_for(lambda: _readyz(base_url).status_code == 200, 30)
            assert _post(base_url, AGENTS, admin_key).json()["data"] == up["data"]
    finally:
        mongo.stop()


async def _first_admin(database_url: str) -> str:
    """An organization with an admin in a fresh database; the admin's new API key."""
    postgres = Postgres(Settings(database_url=database_url, _env_file=None))  # type: ignore[call-arg]
    try:
        async with postgres.session() as session, session.begin():
            organization = Organization(name="Degradation", slug="degradation")
            session.add(organization)
            await session.flush()
            user = User(
                organization_id=organization.id,
                email="admin@degradation.example",
                name="Admin",
                role=UserRole.ADMIN,
                password_hash="-",  # noqa: S106  # never logs in: it uses the key
            )
            session.add(user)
            await session.flush()
            _, secret = issue(session, organization.id, user.id, "degradation", None)
    finally:
        await postgres.close()
    return secret


def _me(base_url: str, secret: str) -> dict[str, Any] | None:
    try:
        body: dict[str, Any] = _post(base_url, ME, secret).json()
    except httpx.HTTPError:
        return None
    return body


def test_postgresql_down_is_named_by_readyz_and_the_gateway_recovers(
    tmp_path: Path, settings: Settings
) -> None:
    # given: a gateway on an embedded PostgreSQL of its own and the session's MongoDB server.
    # Its folder is outside pytest's temp tree: pytest resets that tree's root to 0700, which
    # locks out the server's own user (when run as root) at its next start or stop.
    folder = tempfile.TemporaryDirectory(prefix="flowgate-degradation-")
    postgres = EmbeddedPostgres(Path(folder.name))
    database_url = postgres.start()
    # Every request checks its credential against PostgreSQL (no 5 s cache).
    env = _env(database_url, settings.mongodb_url or "", FLOWGATE_AUTH_CACHE_TTL="0")
    try:
        with gateway_process("serve", env, data_dir=tmp_path) as (_, base_url):
            secret = asyncio.run(_first_admin(database_url))
            up = _me(base_url, secret)
            assert up is not None and up["data"] == {"me": {"email": "admin@degradation.example"}}

            # when: PostgreSQL stops
            postgres.stop()
            ready = _readyz(base_url)
            response = _post(base_url, ME, secret)

            # then: readiness names it; a request gets a 503 naming it, not a 500
            assert ready.status_code == 503
            assert ready.json()["down"] == ["postgresql"]
            assert ready.json()["stores"]["mongodb"]["status"] == "up"
            assert response.status_code == 503
            [error] = response.json()["errors"]
            assert error["extensions"]["code"] == "STORE_UNAVAILABLE"
            assert error["extensions"]["store"] == "PostgreSQL"
            assert error["extensions"]["requestId"] == response.headers["x-request-id"]

            # when: it starts again, without restarting the gateway
            postgres.start()

            # then: ready again, and the same credential works
            wait_for(lambda: _readyz(base_url).status_code == 200, 30)
            assert (_me(base_url, secret) or {}).get("data") == up["data"]
    finally:
        postgres.stop()
        folder.cleanup()

"""Round trips counted on the wire, not by the gateway: proxies between the gateway and each
store (`bench.wire`) count PostgreSQL syncs and simple queries (BEGIN, ROLLBACK and statement
preparation included) and MongoDB commands (`getMore` included). A nested query over both
stores costs the same number of them for 5 agents as for 50."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo.uri_parser import parse_uri
from sqlalchemy.engine import make_url

from bench.wire.mongo import MongoReader
from bench.wire.postgres import PostgresReader
from bench.wire.proxy import Upstream, WireProxy
from flowgate.app import create_app
from flowgate.seed import SeedSummary
from flowgate.services import Services
from flowgate.settings import Settings
from tests.auth import bearer

# Q5 of bench/shapes.py with each execution's steps: every store, every nesting level.
AGENTS_QUERY = """
query Agents($n: Int!) {
  agents(first: $n, orderBy: {field: NAME, direction: ASC}) {
    totalCount
    edges { node {
      id name status
      flowchart { id version nodes { id type label } }
      executions(first: 10) {
        totalCount
        edges { node { id status startedAt durationMs cost
                       workflow { id name } steps { nodeId status durationMs } } }
      }
    } }
  }
}
"""


@dataclass
class Wire:
    client: httpx.AsyncClient
    postgres: WireProxy
    mongo: WireProxy
    path: str  # "compiled" or "resolvers"

    async def run(self, n: int) -> tuple[dict[str, Any], Counter[str], Counter[str]]:
        """One request; its answer and what each proxy saw during it."""
        postgres, mongo = self.postgres.snapshot(), self.mongo.snapshot()
        response = await self.client.post(
            "/graphql", json={"query": AGENTS_QUERY, "variables": {"n": n}}
        )
        body: dict[str, Any] = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body["errors"]
        return body, self.postgres.snapshot() - postgres, self.mongo.snapshot() - mongo


def _postgres_upstream(url: str) -> tuple[Upstream, str]:
    """Where the database of `url` listens, and `url` pointed at `{proxy}` instead."""
    parsed = make_url(url)
    socket_dir = parsed.query.get("host")
    port = parsed.port or 5432
    if isinstance(socket_dir, str):
        upstream = Upstream(path=f"{socket_dir}/.s.PGSQL.{port}")
    else:
        upstream = Upstream(host=parsed.host or "127.0.0.1", port=port)
    proxied = parsed.difference_update_query(["host"]).set(host="127.0.0.1", port=0)
    return upstream, proxied.render_as_string(hide_password=False)


# Both paths of an operation: the compiled one (one JSON-building statement) and the
# resolvers' (loader batches), each flat on the wire.
PATHS = {"compiled": True, "resolvers": False}
# PostgreSQL syncs per path: the compiled statement; or the agents page, its totalCount and
# the executions pages.
POSTGRES_SYNCS = {"compiled": 1, "resolvers": 3}


@pytest.fixture(scope="module", params=sorted(PATHS))
async def wire(
    request: pytest.FixtureRequest,
    settings: Settings,
    services: Services,
    seeded: SeedSummary,
    admin_key: str,
) -> AsyncIterator[Wire]:
    postgres_upstream, postgres_url = _postgres_upstream(str(settings.database_url))
    mongo_host, mongo_port = parse_uri(str(settings.mongodb_url))["nodelist"][0]
    postgres = await WireProxy(postgres_upstream, PostgresReader).start()
    mongo = await WireProxy(Upstream(mongo_host, mongo_port), MongoReader).start()
    proxied = settings.model_copy(
        update={
            "database_url": postgres_url.replace(":0/", f":{postgres.port}/"),
            "mongodb_url": f"mongodb://127.0.0.1:{mongo.port}/?directConnection=true",
            # The credential is checked once, not again mid-test: the proxies count every
            # trip, the authentication's too (which `extensions.roundTrips` leaves out).
            "auth_cache_ttl": 3600,
            # Counts, not speed: a busy machine must not fail this test with a timeout.
            "store_timeout": 30.0,
            "compiled_execution": PATHS[request.param],
        }
    )
    application: FastAPI = create_app(proxied)
    try:
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://flowgate.test", headers=bearer(admin_key)
            ) as client:
                yield Wire(client, postgres, mongo, request.param)
    finally:
        await postgres.stop()
        await mongo.stop()
        # Beanie binds the documents to one client per process: the proxied gateway's, which
        # its lifespan has closed. Bind them back to the session's (as tests/compiled.py does).
        await services.mongo.open()


async def test_the_proxies_count_what_the_gateway_sends(wire: Wire) -> None:
    # when: a first request (connections opened, statements prepared: counted too)
    _, postgres, mongo = await wire.run(5)

    # then: both stores were reached through the proxies
    assert postgres["round_trips"] > 0, postgres
    assert mongo["command:find"] > 0, mongo


async def test_nested_query_costs_the_same_on_the_wire_for_5_and_50_agents(wire: Wire) -> None:
    # given: whatever a process does once is done (connections, type introspection, the
    # statements prepared). The compiled path writes a page's size into its statement
    # (`resolvers.compiled.run`: planned once, not at every run), so 5 and 50 agents are two
    # statements, each prepared once per connection (the next test pins that cost); the
    # resolvers' statements are the same for both.
    for n in (5, 50, 5, 50):
        await wire.run(n)

    # when
    small, small_postgres, small_mongo = await wire.run(5)
    large, large_postgres, large_mongo = await wire.run(50)

    # then: the answers differ in size...
    edges = large["data"]["agents"]["edges"]
    assert len(small["data"]["agents"]["edges"]) == 5
    assert len(edges) == 50
    assert sum(len(edge["node"]["executions"]["edges"]) for edge in edges) >= 250
    # ...but not in what crossed the wire
    assert small_postgres == large_postgres
    assert _requests(small_mongo) == _requests(large_mongo)
    # PostgreSQL: one sync per statement, no BEGIN or ROLLBACK, no statement prepared again.
    # MongoDB: flowcharts, workflows, traces: one `find` each, no
    # `getMore`.
    syncs = POSTGRES_SYNCS[wire.path]
    assert large_postgres == Counter({"round_trips": syncs, "sync": syncs})
    assert _requests(large_mongo) == Counter({"round_trips": 3, "command:find": 3})


async def test_a_page_size_first_asked_for_is_prepared_once(wire: Wire) -> None:
    if wire.path != "compiled":
        pytest.skip("the resolvers' statements take the page size as a parameter")
    # given: the operation's other statements are prepared
    await wire.run(5)

    # when: a page size not asked for before, twice
    _, first, _ = await wire.run(7)
    _, again, _ = await wire.run(7)

    # then: its statement is prepared the first time only (one trip more), then only run
    syncs = POSTGRES_SYNCS[wire.path]
    assert first == Counter({"round_trips": syncs + 1, "sync": syncs, "parse": 1, "flush": 1})
    assert again == Counter({"round_trips": syncs, "sync": syncs})


def _requests(counts: Counter[str]) -> Counter[str]:
    """What the request asked; the driver's monitor's heartbeats come on their own clock."""
    return Counter({key: n for key, n in counts.items() if not key.startswith("heartbeat:")})

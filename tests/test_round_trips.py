"""Round trips per request depend on the query's shape, never on how many rows it returns.

The counts come from the SQL and MongoDB command counters (`flowgate.stores.roundtrips`),
reported in `extensions.roundTrips` because the test settings turn `debug_round_trips` on."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

DASHBOARD_QUERY = """
query Dashboard($n: Int!) {
  agents(first: $n) {
    totalCount
    edges {
      node {
        name
        owner { email }
        flowchart { nodes { id agent { name } } }
        executions(first: 10) {
          totalCount
          edges { node { status steps { nodeId status } workflow { name } } }
        }
        stats { successRate }
      }
    }
  }
}
"""

EXECUTIONS_QUERY = """
query Executions($n: Int!) {
  executions(first: $n) {
    edges { node { status agent { name owner { email } } workflow { name owner { email } }
                   progress { percent currentNode } steps { nodeId } } }
  }
}
"""

WORKFLOWS_QUERY = """
query Workflows($n: Int!) {
  workflows(first: $n) {
    edges { node { name owner { email } stats { successRate }
                   executions(first: 5) { edges { node { agent { name } } } } } }
  }
}
"""


async def _run(client: httpx.AsyncClient, query: str, n: int) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": {"n": n}})
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body["errors"]
    return body


@pytest.fixture
async def warm(client: httpx.AsyncClient, seeded: object) -> httpx.AsyncClient:
    # The first request of the process looks up the development principal once.
    await _run(client, "query($n: Int!) { agents(first: $n) { totalCount } }", 1)
    return client


async def test_nested_dashboard_query_costs_the_same_for_5_and_50_agents(
    warm: httpx.AsyncClient,
) -> None:
    # when
    small = await _run(warm, DASHBOARD_QUERY, 5)
    large = await _run(warm, DASHBOARD_QUERY, 50)

    # then: the answers differ in size...
    assert len(small["data"]["agents"]["edges"]) == 5
    assert len(large["data"]["agents"]["edges"]) == 50
    # ...but not in round trips
    assert small["extensions"]["roundTrips"] == large["extensions"]["roundTrips"]
    # one per store per nesting level at most: PostgreSQL answers the page, its count,
    # owners, node agents, execution pages and stats; MongoDB flowcharts, traces, workflows.
    assert large["extensions"]["roundTrips"] == {"sql": 6, "mongo": 3}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # executions page; agents; owners of agents and workflows (one batch); MongoDB:
        # workflows, traces (steps and progress share the loader)
        (EXECUTIONS_QUERY, {"sql": 3, "mongo": 2}),
        # workflows page (MongoDB); owners, stats, execution pages, their agents (SQL)
        (WORKFLOWS_QUERY, {"sql": 4, "mongo": 1}),
    ],
)
async def test_round_trips_do_not_grow_with_the_page(
    warm: httpx.AsyncClient, query: str, expected: dict[str, int]
) -> None:
    # when
    small = await _run(warm, query, 3)
    large = await _run(warm, query, 30)

    # then
    assert small["extensions"]["roundTrips"] == large["extensions"]["roundTrips"] == expected


async def test_round_trips_are_exported_as_metrics(warm: httpx.AsyncClient) -> None:
    # given
    def observed(text: str) -> float:
        for line in text.splitlines():
            if line.startswith('flowgate_request_round_trips_sum{store="postgresql"}'):
                return float(line.split()[-1])
        return 0.0

    before = observed((await warm.get("/metrics")).text)

    # when
    body = await _run(warm, DASHBOARD_QUERY, 5)

    # then: the histogram grew by exactly this operation's SQL round trips
    after = observed((await warm.get("/metrics")).text)
    assert after - before == body["extensions"]["roundTrips"]["sql"]

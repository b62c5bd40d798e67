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
query Executions($n: Int!, $workflow: ID) {
  executions(first: $n, filter: {workflowId: $workflow}) {
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


async def _run(client: httpx.AsyncClient, query: str, n: int, **variables: Any) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": {"n": n, **variables}}
    )
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body["errors"]
    return body


@pytest.fixture
async def warm(client: httpx.AsyncClient, seeded: object) -> httpx.AsyncClient:
    # One request first: whatever the process does once (not per query) is done.
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


async def _busiest_workflow(client: httpx.AsyncClient) -> str:
    body = await _run(
        client,
        "query($n: Int!) { workflows(first: $n) { edges { node { id "
        "executions(first: 0) { totalCount } } } } }",
        100,
    )
    nodes = [edge["node"] for edge in body["data"]["workflows"]["edges"]]
    busiest = max(nodes, key=lambda node: node["executions"]["totalCount"])
    assert busiest["executions"]["totalCount"] >= 20, "the seed runs workflows often enough"
    return str(busiest["id"])


async def test_execution_round_trips_do_not_grow_with_the_page(warm: httpx.AsyncClient) -> None:
    # given: executions that all have a workflow, so every row asks for one
    workflow = await _busiest_workflow(warm)

    # when
    small = await _run(warm, EXECUTIONS_QUERY, 3, workflow=workflow)
    large = await _run(warm, EXECUTIONS_QUERY, 20, workflow=workflow)

    # then: executions page, agents, agents' owners, workflows' creators (PostgreSQL);
    # workflows, traces (MongoDB; steps and progress share the trace loader)
    assert len(large["data"]["executions"]["edges"]) == 20
    assert small["extensions"]["roundTrips"] == large["extensions"]["roundTrips"]
    assert large["extensions"]["roundTrips"] == {"sql": 4, "mongo": 2}


async def test_workflow_round_trips_do_not_grow_with_the_page(warm: httpx.AsyncClient) -> None:
    # when
    small = await _run(warm, WORKFLOWS_QUERY, 3)
    large = await _run(warm, WORKFLOWS_QUERY, 10)

    # then: workflows page (MongoDB); owners, stats, execution pages, their agents (SQL)
    assert len(large["data"]["workflows"]["edges"]) == 10
    assert small["extensions"]["roundTrips"] == large["extensions"]["roundTrips"]
    assert large["extensions"]["roundTrips"] == {"sql": 4, "mongo": 1}


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

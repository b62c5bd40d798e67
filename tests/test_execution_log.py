"""The event log as a connection (`Execution.events`), `appendExecutionLog`, and the actor
on events: good input and bad."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from resolvers.ids import to_global_id
from tests.execution_settings import LOG, create_workflow, remove_workflows, start, step
from tests.scratch import Scratch, gql

EVENTS = """
query($id: ID!, $types: [ExecutionEventType!], $first: Int, $after: String) {
  execution(id: $id) {
    events(types: $types, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { seq type nodeId payload actorType clientAddress actor { email } } }
    }
  }
}
"""


@pytest.fixture
async def run(scratch: Scratch) -> AsyncIterator[tuple[Scratch, str]]:
    agent_id = await scratch.create_agent("runner")
    workflow_id = await create_workflow(scratch, agent_id, concurrency=5)
    execution_id = (await start(scratch.client, workflow_id))["execution"]["id"]
    try:
        yield scratch, execution_id
    finally:
        await remove_workflows(scratch)


async def _log(client: httpx.AsyncClient, execution_id: str, **variables: Any) -> dict[str, Any]:
    data = await gql(client, LOG, {"id": execution_id, **variables})
    result: dict[str, Any] = data["appendExecutionLog"]
    return result


async def _events(client: httpx.AsyncClient, execution_id: str, **variables: Any) -> Any:
    return (await gql(client, EVENTS, {"id": execution_id, **variables}))["execution"]["events"]


async def test_log_lines_join_the_event_log_in_order(run: tuple[Scratch, str]) -> None:
    # given
    scratch, execution_id = run
    await step(scratch.client, execution_id, "a", "STARTED")

    # when
    logged = await _log(
        scratch.client,
        execution_id,
        message="  fetching the page  ",
        level="WARNING",
        node="a",
        data={"url": "https://example.test"},
    )
    logs = await _events(scratch.client, execution_id, types=["LOG"])
    everything = await _events(scratch.client, execution_id)

    # then
    assert logged["__typename"] == "AppendExecutionLogPayload", logged
    assert logs["totalCount"] == 1
    node = logs["edges"][0]["node"]
    assert node["seq"] == logged["eventSeq"]
    assert (node["type"], node["nodeId"]) == ("LOG", "a")
    assert node["payload"] == {
        "level": "warning",
        "message": "fetching the page",
        "data": {"url": "https://example.test"},
    }
    # who did it: the admin's API key, from the test client's address (shown to admins)
    assert node["actorType"] == "api_key"
    assert node["actor"] == {"email": "admin@acme.example"}
    assert node["clientAddress"] == "127.0.0.1"
    types = [edge["node"]["type"] for edge in everything["edges"]]
    assert types == ["STATUS_CHANGED", "STATUS_CHANGED", "STEP_STARTED", "LOG"]
    assert everything["totalCount"] == 4


async def test_events_page_forward_by_cursor(run: tuple[Scratch, str]) -> None:
    # given: five events
    scratch, execution_id = run
    for index in range(3):
        await _log(scratch.client, execution_id, message=f"line {index}")

    # when
    first = await _events(scratch.client, execution_id, first=2)
    rest = await _events(
        scratch.client, execution_id, first=10, after=first["pageInfo"]["endCursor"]
    )

    # then
    assert [e["node"]["seq"] for e in first["edges"]] == [1, 2]
    assert first["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["seq"] for e in rest["edges"]] == [3, 4]
    assert rest["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "endCursor": rest["edges"][-1]["cursor"],
    }
    assert rest["totalCount"] == first["totalCount"] == 4


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"first": -1}, "first"),
        ({"first": 100_000}, "first"),
        ({"after": "not-a-cursor"}, "after"),
        ({"types": []}, "types"),
    ],
)
async def test_bad_event_arguments_name_the_argument(
    run: tuple[Scratch, str], variables: dict[str, Any], argument: str
) -> None:
    scratch, execution_id = run
    response = await scratch.client.post(
        "/graphql", json={"query": EVENTS, "variables": {"id": execution_id, **variables}}
    )
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", errors
    assert argument in errors[0]["message"]


async def test_an_unknown_event_type_or_level_is_refused_by_the_schema(
    run: tuple[Scratch, str],
) -> None:
    scratch, execution_id = run
    for query, variables in (
        (EVENTS, {"id": execution_id, "types": ["NOPE"]}),
        (LOG, {"id": execution_id, "message": "x", "level": "LOUD"}),
    ):
        response = await scratch.client.post(
            "/graphql", json={"query": query, "variables": variables}
        )
        body = response.json()
        assert "data" not in body or body["data"] is None, body
        assert "NOPE" in str(body["errors"]) or "LOUD" in str(body["errors"])


@pytest.mark.parametrize(
    ("variables", "path", "code"),
    [
        ({"message": ""}, "message", "REQUIRED"),
        ({"message": "   "}, "message", "REQUIRED"),
        ({"message": "x" * 4001}, "message", "TOO_LONG"),
        ({"message": "x", "node": ""}, "nodeId", "REQUIRED"),
        ({"message": "x", "data": {"big": "y" * 20_000}}, "data", "TOO_LARGE"),
        ({"message": "x", "data": [1, 2]}, "data", "INVALID"),
    ],
)
async def test_bad_log_lines_are_refused_whole(
    run: tuple[Scratch, str], variables: dict[str, Any], path: str, code: str
) -> None:
    scratch, execution_id = run
    before = (await _events(scratch.client, execution_id))["totalCount"]
    result = await _log(scratch.client, execution_id, **variables)
    assert result["__typename"] == "ValidationError", result
    assert {"path": path, "code": code} in result["issues"]
    assert (await _events(scratch.client, execution_id))["totalCount"] == before


async def test_a_finished_run_takes_no_log_lines(run: tuple[Scratch, str]) -> None:
    scratch, execution_id = run
    cancelled = await gql(
        scratch.client,
        "mutation($id: ID!) { cancelExecution(executionId: $id) { __typename } }",
        {"id": execution_id},
    )
    assert cancelled["cancelExecution"]["__typename"] == "FinishExecutionPayload"
    result = await _log(scratch.client, execution_id, message="too late")
    assert result["__typename"] == "InvalidTransition", result
    assert "closed" in result["message"]


async def test_a_log_line_for_an_unknown_execution_is_not_found(scratch: Scratch) -> None:
    unknown = to_global_id("Execution", uuid.uuid4())
    result = await _log(scratch.client, unknown, message="hello")
    assert result["__typename"] == "NotFound", result


EVENTS_OF_MANY = """
query($n: Int!) {
  executions(first: $n) {
    edges { node { events(first: 3, types: [STATUS_CHANGED, LOG]) {
      totalCount edges { node { seq actor { email } } }
    } } }
  }
}
"""


async def test_events_of_a_page_of_executions_cost_the_same_for_2_and_20(
    client: httpx.AsyncClient, seeded: object
) -> None:
    async def round_trips(n: int) -> tuple[dict[str, int], int]:
        response = await client.post(
            "/graphql", json={"query": EVENTS_OF_MANY, "variables": {"n": n}}
        )
        body = response.json()
        assert "errors" not in body, body["errors"]
        edges = body["data"]["executions"]["edges"]
        seen = sum(len(edge["node"]["events"]["edges"]) for edge in edges)
        trips: dict[str, int] = body["extensions"]["roundTrips"]
        return trips, seen

    await round_trips(1)  # what the process does once
    small, small_seen = await round_trips(2)
    large, large_seen = await round_trips(20)
    assert large_seen > small_seen > 0  # the larger page did read more events
    assert small == large

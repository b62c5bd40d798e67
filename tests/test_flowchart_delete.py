"""`deleteFlowchart`, and the flowchart of a deleted agent (not readable, back with a restored
agent), through HTTP: typed results, the version check, audit, and nothing removed when
anything is wrong."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from flowgate.services import Services
from resolvers.ids import from_global_id, to_global_id
from tests.auth import USER, VIEWER, client_as
from tests.scratch import DELETE_AGENT, Scratch, gql
from tests.test_flowchart_mutations import graph, save, stored

DELETE_FLOWCHART = """
mutation Delete($agentId: ID!, $expected: Int) {
  deleteFlowchart(agentId: $agentId, expectedVersion: $expected) {
    __typename
    ... on DeleteFlowchartPayload { flowchart { id version nodes { id } } }
    ... on Error { code message }
    ... on ValidationError { issues { path code } }
    ... on NotFound { id }
    ... on VersionConflict { currentVersion }
  }
}
"""
READ = "query Read($agentId: ID!) { flowchart(agentId: $agentId) { id version } }"
RESTORE_AGENT = """
mutation Restore($id: ID!) {
  restoreAgent(id: $id) {
    __typename
    ... on RestoreAgentPayload { agent { id deletedAt flowchart { version } } }
    ... on Error { code message }
    ... on ValidationError { issues { path code } }
  }
}
"""
FLOWCHART_NODE = "query($id: ID!) { node(id: $id) { ... on Flowchart { version } } }"


async def delete(
    client: httpx.AsyncClient, agent_id: str, expected: int | None = None
) -> dict[str, Any]:
    data = await gql(client, DELETE_FLOWCHART, {"agentId": agent_id, "expected": expected})
    result: dict[str, Any] = data["deleteFlowchart"]
    return result


async def test_delete_removes_the_flowchart_and_a_later_save_starts_again(
    scratch: Scratch,
) -> None:
    # given: a flowchart at version 2
    agent_id = await scratch.create_agent()
    await save(scratch, agent_id, graph())
    await save(scratch, agent_id, graph("second"), expected_version=1)

    # when
    result = await delete(scratch.client, agent_id, expected=2)

    # then: answered with what was deleted; gone from reads; audited; a new save is version 1
    assert result["__typename"] == "DeleteFlowchartPayload", result
    assert result["flowchart"]["version"] == 2
    assert len(result["flowchart"]["nodes"]) == 4
    assert await stored(agent_id) is None
    assert (await gql(scratch.client, READ, {"agentId": agent_id}))["flowchart"] is None
    flowchart_id = from_global_id(result["flowchart"]["id"])[1]
    entry = (await scratch.audit_entries(flowchart_id))[-1]
    assert (entry.action, entry.summary["version"]) == ("flowchart.delete", 2)
    again = await save(scratch, agent_id, graph())
    assert again["flowchart"]["version"] == 1


async def test_a_stale_version_conflicts_and_deletes_nothing(scratch: Scratch) -> None:
    agent_id = await scratch.create_agent()
    await save(scratch, agent_id, graph())

    result = await delete(scratch.client, agent_id, expected=7)

    assert (result["__typename"], result["currentVersion"]) == ("VersionConflict", 1)
    assert await stored(agent_id) is not None


@pytest.mark.parametrize(
    ("agent", "expected", "issue"),
    [
        ("not-an-id", None, ("agentId", "INVALID_ID")),
        (to_global_id("Execution", uuid.UUID(int=1)), None, ("agentId", "INVALID_ID")),
        ("agent", 0, ("expectedVersion", "OUT_OF_RANGE")),
        ("agent", -3, ("expectedVersion", "OUT_OF_RANGE")),
    ],
)
async def test_bad_input_is_a_field_issue(
    scratch: Scratch, agent: str, expected: int | None, issue: tuple[str, str]
) -> None:
    agent_id = await scratch.create_agent() if agent == "agent" else agent
    if agent == "agent":
        await save(scratch, agent_id, graph())

    result = await delete(scratch.client, agent_id, expected)

    assert result["__typename"] == "ValidationError", result
    assert {(i["path"], i["code"]) for i in result["issues"]} == {issue}
    if agent == "agent":
        assert await stored(agent_id) is not None


@pytest.mark.parametrize("case", ["unknown", "other organization", "deleted", "no flowchart"])
async def test_a_missing_agent_or_flowchart_is_not_found(scratch: Scratch, case: str) -> None:
    if case == "unknown":
        agent_id = to_global_id("Agent", uuid.uuid4())
    elif case == "other organization":
        agent_id = await scratch.foreign_agent_id()
    elif case == "deleted":
        agent_id = await scratch.create_deleted_agent()
    else:
        agent_id = await scratch.create_agent()
    before = await scratch.counts()

    result = await delete(scratch.client, agent_id)

    assert (result["__typename"], result["code"]) == ("NotFound", "NOT_FOUND"), result
    assert await scratch.counts() == before


async def test_only_those_who_may_change_the_agent_may_delete_its_flowchart(
    scratch: Scratch, app: FastAPI, services: Services
) -> None:
    # given: the admin's agent with a flowchart
    agent_id = await scratch.create_agent()
    await save(scratch, agent_id, graph())

    async with client_as(app, services, USER) as user, client_as(app, services, VIEWER) as viewer:
        # when
        by_user = await delete(user.http, agent_id)
        by_viewer = await viewer.post(DELETE_FLOWCHART, {"agentId": agent_id})

    # then: a user who does not own it is refused by the union; a viewer by permission
    assert by_user["__typename"] == "Forbidden", by_user
    assert by_viewer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await stored(agent_id) is not None


async def test_a_deleted_agents_flowchart_is_not_readable_until_it_is_restored(
    scratch: Scratch,
) -> None:
    # given: an agent with a flowchart
    agent_id = await scratch.create_agent()
    saved = await save(scratch, agent_id, graph())
    flowchart_id = saved["flowchart"]["id"]

    # when: the agent is deleted
    await gql(scratch.client, DELETE_AGENT, {"id": agent_id})
    hidden = await gql(scratch.client, READ, {"agentId": agent_id})
    hidden_node = await gql(scratch.client, FLOWCHART_NODE, {"id": flowchart_id})
    restored = (await gql(scratch.client, RESTORE_AGENT, {"id": agent_id}))["restoreAgent"]
    shown = await gql(scratch.client, READ, {"agentId": agent_id})

    # then: kept, but not readable while the agent is deleted; back with it
    assert hidden["flowchart"] is None
    assert hidden_node["node"] is None
    assert await stored(agent_id) is not None
    assert restored["__typename"] == "RestoreAgentPayload", restored
    assert restored["agent"]["flowchart"] == {"version": 1}
    assert shown["flowchart"] == {"id": flowchart_id, "version": 1}

"""`restoreAgent` through HTTP: a deleted agent comes back into lists and `agent(id)`, audited;
restoring a live, unknown or foreign agent changes nothing and says why."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI

from flowgate.services import Services
from resolvers.ids import from_global_id, to_global_id
from tests.auth import USER, VIEWER, client_as
from tests.scratch import Scratch, gql

RESTORE_AGENT = """
mutation Restore($id: ID!) {
  restoreAgent(id: $id) {
    __typename
    ... on RestoreAgentPayload { agent { id name deletedAt } }
    ... on Error { code message }
    ... on ValidationError { issues { path code } }
    ... on NotFound { id }
  }
}
"""
LISTED = "query($name: String!) { agents(filter: {nameContains: $name}) { totalCount } }"
AGENT = "query($id: ID!) { agent(id: $id) { id } }"


async def restore(scratch: Scratch, agent_id: str) -> dict[str, object]:
    result: dict[str, object] = (await gql(scratch.client, RESTORE_AGENT, {"id": agent_id}))[
        "restoreAgent"
    ]
    return result


async def test_a_deleted_agent_is_restored_into_lists_and_audited(scratch: Scratch) -> None:
    # given
    agent_id = await scratch.create_deleted_agent("back")
    assert (await gql(scratch.client, AGENT, {"id": agent_id}))["agent"] is None

    # when
    result = await restore(scratch, agent_id)

    # then
    assert result == {
        "__typename": "RestoreAgentPayload",
        "agent": {"id": agent_id, "name": scratch.name("back"), "deletedAt": None},
    }
    assert (await gql(scratch.client, AGENT, {"id": agent_id}))["agent"] == {"id": agent_id}
    listed = await gql(scratch.client, LISTED, {"name": scratch.name("back")})
    assert listed["agents"]["totalCount"] == 1
    entry = (await scratch.audit_entries(from_global_id(agent_id)[1]))[-1]
    assert (entry.action, entry.summary["changed"]) == ("agent.restore", ["deleted_at"])


async def test_restoring_a_live_agent_is_an_invalid_transition(scratch: Scratch) -> None:
    agent_id = await scratch.create_agent()
    before = await scratch.counts()

    result = await restore(scratch, agent_id)

    assert (result["__typename"], result["code"]) == ("InvalidTransition", "INVALID_TRANSITION")
    assert await scratch.counts() == before


@pytest.mark.parametrize("case", ["unknown", "other organization"])
async def test_an_unknown_or_foreign_agent_is_not_found(scratch: Scratch, case: str) -> None:
    if case == "unknown":
        agent_id = to_global_id("Agent", uuid.uuid4())
    else:
        agent_id = await scratch.foreign_agent_id()
    before = await scratch.counts()

    result = await restore(scratch, agent_id)

    assert (result["__typename"], result["id"]) == ("NotFound", agent_id)
    assert await scratch.counts() == before


@pytest.mark.parametrize(
    "bad_id", ["not-an-id", "", to_global_id("Execution", uuid.UUID(int=1))], ids=str
)
async def test_a_malformed_id_is_a_field_issue(scratch: Scratch, bad_id: str) -> None:
    result = await restore(scratch, bad_id)

    assert result["__typename"] == "ValidationError", result
    assert result["issues"] == [{"path": "id", "code": "INVALID_ID"}]


async def test_only_those_who_may_change_the_agent_may_restore_it(
    scratch: Scratch, app: FastAPI, services: Services
) -> None:
    # given: the admin's deleted agent
    agent_id = await scratch.create_deleted_agent()

    async with client_as(app, services, USER) as user, client_as(app, services, VIEWER) as viewer:
        # when
        by_user = (await user.post(RESTORE_AGENT, {"id": agent_id}))["data"]["restoreAgent"]
        by_viewer = await viewer.post(RESTORE_AGENT, {"id": agent_id})

    # then: refused (by the union for a user who does not own it, by permission for a viewer)
    assert by_user["__typename"] == "Forbidden", by_user
    assert by_viewer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await gql(scratch.client, AGENT, {"id": agent_id}))["agent"] is None

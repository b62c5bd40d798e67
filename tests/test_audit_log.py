"""The audit trail as read: `auditLog` for admins, `Agent.history` and `Workflow.history`
for whoever may read the object; and the round trips of history in a list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import delete

from flowgate.services import Services
from models.documents import Workflow
from models.sql import AuditLogEntry
from tests.auth import ADMIN, USER, VIEWER, client_as, error_codes
from tests.graphql import all_edges, gql, gql_data, local_id
from tests.scratch import Scratch

AUDIT_LOG = """
query Audit($first: Int, $after: String, $filter: AuditLogFilter) {
  auditLog(first: $first, after: $after, filter: $filter) {
    totalCount
    edges { node { id action actorType objectType objectId summary clientAddress createdAt
                   actor { email } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
UPDATE_AGENT = """
mutation($id: ID!, $description: String!) {
  updateAgent(id: $id, input: {description: $description}) { __typename }
}
"""
AGENT_HISTORY = """
query($id: ID!) { agent(id: $id) { history { action clientAddress actor { email } summary } } }
"""
AGENTS_HISTORY = """
query($n: Int!, $name: String!) {
  agents(first: $n, filter: {nameContains: $name}) {
    edges { node { name history(first: 5) { action actor { email name } } } }
  }
}
"""


async def _agent_with_changes(scratch: Scratch, label: str, changes: int = 2) -> str:
    agent_id = await scratch.create_agent(label)
    for number in range(changes):
        body = await gql_data(
            scratch.client, UPDATE_AGENT, {"id": agent_id, "description": f"take {number}"}
        )
        assert body["updateAgent"]["__typename"] == "UpdateAgentPayload"
    return agent_id


async def test_admins_read_who_did_what_newest_first_filtered_and_paged(
    scratch: Scratch,
) -> None:
    # given: an agent created and changed twice by the admin
    before = datetime.now(UTC) - timedelta(seconds=1)
    agent_id = await _agent_with_changes(scratch, "audited")
    by_object = {"objectId": agent_id}

    # when
    edges = await all_edges(
        scratch.client, AUDIT_LOG, "auditLog", {"filter": by_object}, page_size=1
    )

    # then: every change, newest first, with its actor, address and recorded change
    entries = [edge["node"] for edge in edges]
    assert [e["action"] for e in entries] == ["agent.update", "agent.update", "agent.create"]
    assert all(e["actor"] == {"email": ADMIN} and e["actorType"] == "api_key" for e in entries)
    assert all(e["objectType"] == "Agent" for e in entries)
    assert entries[0]["objectId"] == str(local_id(agent_id))
    assert entries[0]["summary"]["new"] == {"description": "take 1"}
    assert entries[0]["clientAddress"] == "127.0.0.1"
    # the same through the UUID, an action prefix and a time window
    uuid_filter = {"objectId": str(local_id(agent_id)), "action": ["agent.create"]}
    one = await gql_data(scratch.client, AUDIT_LOG, {"filter": uuid_filter})
    assert one["auditLog"]["totalCount"] == 1
    prefixed = {**by_object, "action": ["agent."], "since": before.isoformat()}
    assert (await gql_data(scratch.client, AUDIT_LOG, {"filter": prefixed}))["auditLog"][
        "totalCount"
    ] == 3
    past = {**by_object, "until": before.isoformat()}
    assert (await gql_data(scratch.client, AUDIT_LOG, {"filter": past}))["auditLog"][
        "totalCount"
    ] == 0


async def test_only_admins_read_the_audit_log(app: FastAPI, services: Services) -> None:
    for email in (USER, VIEWER):
        async with client_as(app, services, email) as member:
            assert error_codes(await member.post(AUDIT_LOG)) == ["FORBIDDEN"]


async def test_bad_audit_log_arguments_are_named(client: httpx.AsyncClient) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"after": "garbage"}, "after"),
        ({"first": 101}, "first"),
        ({"first": -1}, "first"),
        ({"filter": {"actor": "not-an-id"}}, "filter.actor"),
        ({"filter": {"objectId": "neither"}}, "filter.objectId"),
    ]
    for variables, argument in cases:
        body = await gql(client, AUDIT_LOG, variables)
        assert error_codes(body) == ["BAD_USER_INPUT"], variables
        assert body["errors"][0]["extensions"]["argument"] == argument


async def test_an_agents_history_is_read_by_its_readers_without_addresses(
    scratch: Scratch, app: FastAPI, services: Services
) -> None:
    agent_id = await _agent_with_changes(scratch, "history", changes=1)
    async with client_as(app, services, VIEWER) as viewer:
        body = await viewer.post(AGENT_HISTORY, {"id": agent_id})
    history = body["data"]["agent"]["history"]
    assert [entry["action"] for entry in history] == ["agent.update", "agent.create"]
    assert all(entry["clientAddress"] is None for entry in history)
    assert history[0]["actor"] == {"email": ADMIN}
    admin_view = await gql_data(scratch.client, AGENT_HISTORY, {"id": agent_id})
    assert admin_view["agent"]["history"][0]["clientAddress"] == "127.0.0.1"
    too_many = await gql(scratch.client, "query($id: ID!) { agent(id: $id) { history(first: "
                         "101) { action } } }", {"id": agent_id})  # fmt: skip
    assert error_codes(too_many) == ["BAD_USER_INPUT"]


async def test_a_workflows_history_is_read_through_the_workflow(scratch: Scratch) -> None:
    created = await gql_data(
        scratch.client,
        "mutation($n: String!) { createWorkflow(input: {name: $n}) { __typename "
        "... on CreateWorkflowPayload { workflow { id } } } }",
        {"n": scratch.name("workflow")},
    )
    workflow_id = created["createWorkflow"]["workflow"]["id"]
    try:
        body = await gql_data(
            scratch.client,
            "query($id: ID!) { workflow(id: $id) { history { action actor { email } } } }",
            {"id": workflow_id},
        )
        assert body["workflow"]["history"] == [
            {"action": "workflow.create", "actor": {"email": ADMIN}}
        ]
    finally:
        await Workflow.find({"_id": local_id(workflow_id)}).delete()
        async with scratch.services.postgres.session() as session, session.begin():
            await session.execute(
                delete(AuditLogEntry).where(AuditLogEntry.object_id == str(local_id(workflow_id)))
            )


async def test_history_in_a_list_costs_the_same_for_2_and_6_agents(scratch: Scratch) -> None:
    # given: six agents, each with entries by the admin
    for number in range(6):
        await _agent_with_changes(scratch, f"trips-{number}", changes=1)

    # when
    async def run(n: int) -> dict[str, Any]:
        response = await scratch.client.post(
            "/graphql",
            json={"query": AGENTS_HISTORY, "variables": {"n": n, "name": scratch.prefix}},
        )
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return body

    small, large = await run(2), await run(6)

    # then: more agents and entries, the same round trips
    assert len(small["data"]["agents"]["edges"]) == 2
    assert len(large["data"]["agents"]["edges"]) == 6
    assert all(len(e["node"]["history"]) == 2 for e in large["data"]["agents"]["edges"])
    assert small["extensions"]["roundTrips"] == large["extensions"]["roundTrips"]

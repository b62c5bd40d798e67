"""`createAgent`, `updateAgent`, `deleteAgent` through HTTP: typed results, nothing written
on failure, and an audit entry in the same transaction as each change."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from flowgate.services import Services
from models.enums import ExecutionStatus
from models.sql import Agent, Execution
from resolvers.ids import from_global_id, to_global_id
from tests.auth import ADMIN, VIEWER, client_as, error_codes, user_by_email
from tests.scratch import Scratch, gql

AGENT_FIELDS = "id name description status category configuration capabilities deletedAt"
ERROR_FIELDS = """
    ... on Error { code message }
    ... on ValidationError { issues { path code message } }
"""

CREATE_AGENT = f"""
mutation CreateAgent($input: CreateAgentInput!) {{
  createAgent(input: $input) {{
    __typename
    ... on CreateAgentPayload {{ agent {{ {AGENT_FIELDS} }} }}
    {ERROR_FIELDS}
  }}
}}
"""

UPDATE_AGENT = f"""
mutation UpdateAgent($id: ID!, $input: UpdateAgentInput!) {{
  updateAgent(id: $id, input: $input) {{
    __typename
    ... on UpdateAgentPayload {{ agent {{ {AGENT_FIELDS} updatedAt }} }}
    ... on NotFound {{ id }}
    {ERROR_FIELDS}
  }}
}}
"""

DELETE_AGENT = f"""
mutation DeleteAgent($id: ID!) {{
  deleteAgent(id: $id) {{
    __typename
    ... on DeleteAgentPayload {{ agent {{ {AGENT_FIELDS} }} }}
    ... on NotFound {{ id }}
    {ERROR_FIELDS}
  }}
}}
"""

AGENT = f"query Agent($id: ID!) {{ agent(id: $id) {{ {AGENT_FIELDS} }} }}"

AGENTS_NAMED = """
query AgentsNamed($name: String!) {
  agents(filter: {nameContains: $name}) { totalCount edges { node { id } } }
}
"""

EXECUTION_AGENT = """
query ExecutionAgent($id: ID!) {
  execution(id: $id) { id agent { id name deletedAt } }
}
"""


def issues_of(result: dict[str, Any]) -> set[tuple[str, str]]:
    assert result["__typename"] == "ValidationError", result
    assert result["code"] == "VALIDATION_FAILED"
    return {(issue["path"], issue["code"]) for issue in result["issues"]}


async def row(services: Services, global_id: str) -> Agent | None:
    async with services.postgres.session() as session:
        return await session.get(Agent, from_global_id(global_id)[1])


async def test_create_agent_stores_the_cleaned_agent_and_audits_it(scratch: Scratch) -> None:
    # given
    input_ = {
        "name": f"  {scratch.name('created')}  ",
        "category": " support ",
        "description": "Answers tickets",
        "status": "PAUSED",
        "configuration": {"provider": "openai", "model": "gpt-4o", "temperature": 0.2},
        "capabilities": ["email", "search"],
    }

    # when
    data = await gql(scratch.client, CREATE_AGENT, {"input": input_})

    # then: the payload and the row agree, with names trimmed
    result = data["createAgent"]
    assert result["__typename"] == "CreateAgentPayload", result
    agent = result["agent"]
    assert agent["name"] == scratch.name("created")
    assert agent["category"] == "support"
    assert agent["status"] == "PAUSED"
    assert agent["deletedAt"] is None
    stored = await row(scratch.services, agent["id"])
    assert stored is not None
    assert stored.organization_id == scratch.organization_id
    assert (stored.name, stored.category, stored.capabilities) == (
        scratch.name("created"),
        "support",
        ["email", "search"],
    )
    assert stored.configuration == input_["configuration"]
    # and one audit entry names the action, the actor and the new values
    [entry] = await scratch.audit_entries(stored.id)
    assert (entry.action, entry.object_type, entry.actor_type) == (
        "agent.create",
        "Agent",
        "api_key",  # the `client` fixture signs in with an API key
    )
    assert entry.actor_id == (await user_by_email(scratch.services, ADMIN)).id
    assert entry.organization_id == scratch.organization_id
    assert str(entry.client_address) == "127.0.0.1"  # httpx's ASGI transport's client
    assert set(entry.summary["changed"]) == set(input_)
    assert entry.summary["new"]["name"] == scratch.name("created")
    assert entry.summary["new"]["status"] == "paused"


async def test_create_agent_reports_every_invalid_field_and_writes_nothing(
    scratch: Scratch,
) -> None:
    # given
    before = await scratch.counts()
    input_ = {
        "name": "   ",
        "category": "c" * 101,
        "description": "d" * 5_001,
        "configuration": {"temperature": 2.5},
        "capabilities": [f"skill-{n}" for n in range(51)],
    }

    # when
    data = await gql(scratch.client, CREATE_AGENT, {"input": input_})

    # then
    assert issues_of(data["createAgent"]) == {
        ("name", "REQUIRED"),
        ("category", "TOO_LONG"),
        ("description", "TOO_LONG"),
        ("configuration.temperature", "OUT_OF_RANGE"),
        ("capabilities", "TOO_MANY"),
    }
    assert "5 problems" in data["createAgent"]["message"]
    assert await scratch.counts() == before


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"configuration": [1, 2]}, {("configuration", "INVALID")}),
        ({"configuration": {"temperature": "hot"}}, {("configuration.temperature", "INVALID")}),
        ({"configuration": {"temperature": True}}, {("configuration.temperature", "INVALID")}),
        ({"configuration": {"prompt": "x" * 17_000}}, {("configuration", "TOO_LARGE")}),
        ({"configuration": {"$where": 1}}, {("configuration", "INVALID")}),
        (
            {"capabilities": ["ok", " ", "y" * 101]},
            {("capabilities[1]", "REQUIRED"), ("capabilities[2]", "TOO_LONG")},
        ),
        ({"name": "n" * 201}, {("name", "TOO_LONG")}),
        ({"name": "nul\u0000byte"}, {("name", "INVALID")}),
    ],
)
async def test_create_agent_checks_each_limit(
    scratch: Scratch, fields: dict[str, Any], expected: set[tuple[str, str]]
) -> None:
    # given
    before = await scratch.counts()
    input_ = {"name": scratch.name("limits"), "category": "testing", **fields}

    # when
    data = await gql(scratch.client, CREATE_AGENT, {"input": input_})

    # then
    assert issues_of(data["createAgent"]) == expected
    assert await scratch.counts() == before


async def test_update_agent_changes_only_the_given_fields_and_audits_old_and_new(
    scratch: Scratch,
) -> None:
    # given
    agent_id = await scratch.create_agent(
        "before", description="old text", configuration={"model": "gpt-4o"}, capabilities=["a"]
    )
    created = await row(scratch.services, agent_id)
    assert created is not None

    # when
    data = await gql(
        scratch.client,
        UPDATE_AGENT,
        {"id": agent_id, "input": {"name": scratch.name("after"), "status": "INACTIVE"}},
    )

    # then: the two fields changed, every other kept its value
    result = data["updateAgent"]
    assert result["__typename"] == "UpdateAgentPayload", result
    assert result["agent"]["name"] == scratch.name("after")
    assert result["agent"]["status"] == "INACTIVE"
    stored = await row(scratch.services, agent_id)
    assert stored is not None
    assert (stored.name, stored.status) == (scratch.name("after"), "inactive")
    assert (stored.description, stored.configuration, stored.capabilities, stored.category) == (
        "old text",
        {"model": "gpt-4o"},
        ["a"],
        "testing",
    )
    assert stored.updated_at > created.updated_at
    # and the audit entry says what changed, from what to what
    create_entry, update_entry = await scratch.audit_entries(stored.id)
    assert create_entry.action == "agent.create"
    assert update_entry.action == "agent.update"
    assert update_entry.summary == {
        "changed": ["name", "status"],
        "old": {"name": scratch.name("before"), "status": "active"},
        "new": {"name": scratch.name("after"), "status": "inactive"},
    }


async def test_update_agent_keeps_large_values_out_of_the_audit_summary(scratch: Scratch) -> None:
    # given
    agent_id = await scratch.create_agent("large")
    description = "long " * 200

    # when
    data = await gql(
        scratch.client, UPDATE_AGENT, {"id": agent_id, "input": {"description": description}}
    )

    # then: the change is named, its values are not copied
    assert data["updateAgent"]["agent"]["description"] == description.strip()
    entry = (await scratch.audit_entries(from_global_id(agent_id)[1]))[-1]
    assert entry.summary == {"changed": ["description"], "old": {"description": ""}, "new": {}}


async def test_update_agent_with_null_or_invalid_fields_changes_nothing(scratch: Scratch) -> None:
    # given
    agent_id = await scratch.create_agent("unchanged")
    before = await scratch.counts()

    # when: one valid change among invalid ones
    data = await gql(
        scratch.client,
        UPDATE_AGENT,
        {
            "id": agent_id,
            "input": {"name": None, "category": "", "description": "valid on its own"},
        },
    )

    # then: nothing is applied, not even the valid field
    assert issues_of(data["updateAgent"]) == {("name", "REQUIRED"), ("category", "REQUIRED")}
    stored = await row(scratch.services, agent_id)
    assert stored is not None
    assert (stored.name, stored.description) == (scratch.name("unchanged"), "")
    assert await scratch.counts() == before


@pytest.mark.parametrize("case", ["unknown", "other organization", "deleted"])
async def test_update_agent_that_is_not_yours_or_not_live_is_not_found(
    scratch: Scratch, case: str
) -> None:
    # given
    if case == "unknown":
        agent_id = to_global_id("Agent", uuid.uuid4())
    elif case == "other organization":
        agent_id = await scratch.foreign_agent_id()
    else:
        agent_id = await scratch.create_deleted_agent()
    before = await scratch.counts()

    # when
    data = await gql(
        scratch.client, UPDATE_AGENT, {"id": agent_id, "input": {"name": scratch.name("x")}}
    )

    # then
    result = data["updateAgent"]
    assert result["__typename"] == "NotFound", result
    assert (result["code"], result["id"]) == ("NOT_FOUND", agent_id)
    assert await scratch.counts() == before


@pytest.mark.parametrize(
    ("operation", "field"), [(UPDATE_AGENT, "updateAgent"), (DELETE_AGENT, "deleteAgent")]
)
@pytest.mark.parametrize(
    "bad_id", ["not-an-id", to_global_id("Execution", uuid.UUID(int=1))], ids=["garbage", "type"]
)
async def test_a_malformed_agent_id_is_a_field_issue(
    scratch: Scratch, operation: str, field: str, bad_id: str
) -> None:
    # when
    data = await gql(scratch.client, operation, {"id": bad_id, "input": {}})

    # then
    assert issues_of(data[field]) == {("id", "INVALID_ID")}


async def test_delete_agent_hides_it_but_its_executions_still_show_it(scratch: Scratch) -> None:
    # given: an agent with one past execution
    agent_id = await scratch.create_agent("doomed")
    execution = Execution(
        organization_id=scratch.organization_id,
        agent_id=from_global_id(agent_id)[1],
        status=ExecutionStatus.SUCCEEDED,
    )
    async with scratch.services.postgres.session() as session, session.begin():
        session.add(execution)
    execution_id = to_global_id("Execution", execution.id)

    # when
    data = await gql(scratch.client, DELETE_AGENT, {"id": agent_id})

    # then: the payload shows the deletion, the row is kept with deleted_at set
    result = data["deleteAgent"]
    assert result["__typename"] == "DeleteAgentPayload", result
    assert result["agent"]["deletedAt"] is not None
    stored = await row(scratch.services, agent_id)
    assert stored is not None
    assert stored.deleted_at is not None
    # and it is gone from `agent(id)` and from lists
    assert (await gql(scratch.client, AGENT, {"id": agent_id}))["agent"] is None
    listed = await gql(scratch.client, AGENTS_NAMED, {"name": scratch.prefix})
    assert listed["agents"]["totalCount"] == 0
    # but its execution still resolves it, marked deleted
    shown = (await gql(scratch.client, EXECUTION_AGENT, {"id": execution_id}))["execution"]
    assert shown["agent"]["id"] == agent_id
    assert shown["agent"]["deletedAt"] is not None
    # and the deletion is audited
    entry = (await scratch.audit_entries(stored.id))[-1]
    assert entry.action == "agent.delete"
    assert entry.summary["changed"] == ["deleted_at"]
    assert entry.summary["name"] == scratch.name("doomed")


async def test_deleting_twice_is_not_found_the_second_time(scratch: Scratch) -> None:
    # given
    agent_id = await scratch.create_deleted_agent()
    before = await scratch.counts()

    # when
    data = await gql(scratch.client, DELETE_AGENT, {"id": agent_id})

    # then
    assert data["deleteAgent"]["__typename"] == "NotFound"
    assert await scratch.counts() == before


async def test_a_viewer_is_forbidden_and_nothing_is_written(scratch: Scratch, app: FastAPI) -> None:
    # given: a viewer of the same organization
    agent_id = await scratch.create_agent("viewed")
    before = await scratch.counts()

    # when
    async with client_as(app, scratch.services, VIEWER) as viewer:
        created = await viewer.post(
            CREATE_AGENT, {"input": {"name": scratch.name("nope"), "category": "x"}}
        )
        deleted = await viewer.post(DELETE_AGENT, {"id": agent_id})

    # then: refused by the mutations' permission class, before any resolver ran
    assert error_codes(created) == ["FORBIDDEN"]
    assert created["data"] is None
    assert error_codes(deleted) == ["FORBIDDEN"]
    assert "Viewers may read" in deleted["errors"][0]["message"]
    assert await scratch.counts() == before
    async with scratch.services.postgres.session() as session:
        names = (await session.scalars(select(Agent.name).where(Agent.deleted_at.is_(None)))).all()
    assert scratch.name("viewed") in names

"""Relay `node(id)`: every type round-trips by its global id, within the organization only."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from flowgate.services import Services
from models.documents import Flowchart, Workflow
from models.sql import Agent, Execution, User
from resolvers.ids import to_global_id
from tests.graphql import gql, gql_data, organization_ids

AGENT_FIELDS = "id name status category createdAt"
EXECUTION_FIELDS = "id status startedAt durationMs cost"
WORKFLOW_FIELDS = "id name status tags updatedAt"
USER_FIELDS = "id email name role"
FLOWCHART_FIELDS = "id version nodes { id type } metadata { title }"

TYPED = f"""
query Typed {{
  agents(first: 5) {{
    edges {{
      node {{
        {AGENT_FIELDS}
        owner {{ {USER_FIELDS} }}
        flowchart {{ {FLOWCHART_FIELDS} }}
      }}
    }}
  }}
  executions(first: 5, filter: {{status: [SUCCEEDED]}}) {{
    edges {{ node {{ {EXECUTION_FIELDS} workflow {{ {WORKFLOW_FIELDS} }} }} }}
  }}
  workflows(first: 5) {{ edges {{ node {{ {WORKFLOW_FIELDS} }} }} }}
}}
"""

FIELDS = {
    "Agent": AGENT_FIELDS,
    "Execution": EXECUTION_FIELDS,
    "Workflow": WORKFLOW_FIELDS,
    "User": USER_FIELDS,
    "Flowchart": FLOWCHART_FIELDS,
}

# One query per type: fields of one name but different types (`status`) cannot share a
# selection set.
NODE_AS = {
    type_name: f"""
query Node($id: ID!) {{
  node(id: $id) {{ __typename ... on {type_name} {{ {fields} }} }}
}}
"""
    for type_name, fields in FIELDS.items()
}

NODE = """
query Node($id: ID!) {
  node(id: $id) { __typename id }
}
"""

AGENT = f"""
query Agent($id: ID!) {{
  agent(id: $id) {{ {AGENT_FIELDS} }}
}}
"""

BY_TYPE = """
query ByType($id: ID!) {
  agent(id: $id) { id }
}
"""

OTHER_TENANT = """
query OtherTenant($agent: ID!, $execution: ID!, $workflow: ID!) {
  agent(id: $agent) { id }
  execution(id: $execution) { id }
  workflow(id: $workflow) { id }
  flowchart(agentId: $agent) { id }
}
"""


@pytest.fixture
async def typed(client: httpx.AsyncClient, seeded: object) -> dict[str, list[dict[str, Any]]]:
    """Objects of every node type, as the typed fields show them."""
    data = await gql_data(client, TYPED)
    agents = [edge["node"] for edge in data["agents"]["edges"]]
    executions = [edge["node"] for edge in data["executions"]["edges"]]
    strip = ("owner", "flowchart", "workflow")
    return {
        "Agent": [{k: v for k, v in a.items() if k not in strip} for a in agents],
        "User": [a["owner"] for a in agents if a["owner"]],
        "Flowchart": [a["flowchart"] for a in agents if a["flowchart"]],
        "Execution": [{k: v for k, v in e.items() if k not in strip} for e in executions],
        "Workflow": [edge["node"] for edge in data["workflows"]["edges"]]
        + [e["workflow"] for e in executions if e["workflow"]],
    }


@pytest.mark.parametrize("type_name", ["Agent", "Execution", "Workflow", "User", "Flowchart"])
async def test_node_returns_what_the_typed_field_returns(
    client: httpx.AsyncClient, typed: dict[str, list[dict[str, Any]]], type_name: str
) -> None:
    # given
    objects = typed[type_name]
    assert objects

    # when
    found = [await gql_data(client, NODE_AS[type_name], {"id": obj["id"]}) for obj in objects]

    # then
    assert [f["node"] for f in found] == [{"__typename": type_name, **obj} for obj in objects]


async def test_node_of_an_agent_equals_agent_by_id(
    client: httpx.AsyncClient, typed: dict[str, list[dict[str, Any]]]
) -> None:
    # given
    agent_id = typed["Agent"][0]["id"]

    # when
    node = await gql_data(client, NODE_AS["Agent"], {"id": agent_id})
    agent = await gql_data(client, AGENT, {"id": agent_id})

    # then
    assert {k: v for k, v in node["node"].items() if k != "__typename"} == agent["agent"]


async def _second_organization_ids(services: Services) -> dict[str, uuid.UUID]:
    other = (await organization_ids(services))[1]
    async with services.postgres.session() as session:
        agent_id = await session.scalar(
            select(Agent.id).where(Agent.organization_id == other, Agent.deleted_at.is_(None))
        )
        execution_id = await session.scalar(
            select(Execution.id).where(Execution.organization_id == other)
        )
        user_id = await session.scalar(select(User.id).where(User.organization_id == other))
    workflow = await Workflow.find_one({"organization_id": other})
    flowchart = await Flowchart.find_one({"organization_id": other})
    assert agent_id is not None
    assert execution_id is not None
    assert user_id is not None
    assert workflow is not None
    assert flowchart is not None
    return {
        "Agent": agent_id,
        "Execution": execution_id,
        "User": user_id,
        "Workflow": workflow.id,
        "Flowchart": flowchart.id,
        "FlowchartAgent": flowchart.agent_id,
    }


@pytest.mark.parametrize("type_name", ["Agent", "Execution", "Workflow", "User", "Flowchart"])
async def test_an_object_of_another_organization_is_null(
    client: httpx.AsyncClient, services: Services, seeded: object, type_name: str
) -> None:
    # given
    other = await _second_organization_ids(services)

    # when
    body = await gql(client, NODE, {"id": to_global_id(type_name, other[type_name])})

    # then
    assert body["data"] == {"node": None}
    assert "errors" not in body


async def test_typed_fields_do_not_reach_another_organization(
    client: httpx.AsyncClient, services: Services, seeded: object
) -> None:
    # given
    other = await _second_organization_ids(services)

    # when
    body = await gql(
        client,
        OTHER_TENANT,
        {
            "agent": to_global_id("Agent", other["FlowchartAgent"]),
            "execution": to_global_id("Execution", other["Execution"]),
            "workflow": to_global_id("Workflow", other["Workflow"]),
        },
    )

    # then
    assert body["data"] == {
        "agent": None,
        "execution": None,
        "workflow": None,
        "flowchart": None,
    }
    assert "errors" not in body


@pytest.mark.parametrize("type_name", ["Agent", "Execution", "Workflow", "User", "Flowchart"])
async def test_a_missing_object_is_null(
    client: httpx.AsyncClient, seeded: object, type_name: str
) -> None:
    # when
    body = await gql(client, NODE, {"id": to_global_id(type_name, uuid.uuid4())})

    # then
    assert body["data"] == {"node": None}
    assert "errors" not in body


@pytest.mark.parametrize("type_name", ["Gizmo", "Organization", "ApiKey", "agent", ""])
async def test_an_unknown_type_is_null_without_error(
    client: httpx.AsyncClient, services: Services, seeded: object, type_name: str
) -> None:
    # given: a well-formed id whose uuid exists, under a type `node` does not serve
    mine = (await organization_ids(services))[0]
    raw = f"{type_name}:{mine}".encode()
    global_id = base64.urlsafe_b64encode(raw).decode().rstrip("=")

    # when
    body = await gql(client, NODE, {"id": global_id})

    # then
    assert body["data"] == {"node": None}
    assert "errors" not in body


async def test_a_typed_field_rejects_an_id_of_another_type(
    client: httpx.AsyncClient, typed: dict[str, list[dict[str, Any]]]
) -> None:
    # given
    execution_id = typed["Execution"][0]["id"]

    # when
    body = await gql(client, BY_TYPE, {"id": execution_id})

    # then
    assert body["data"] == {"agent": None}
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "id"}
    assert "Agent" in error["message"]
    assert error["path"] == ["agent"]

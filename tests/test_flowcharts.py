"""`flowchart(agentId)` and the flowchart's cross-store fields through HTTP, checked against
the MongoDB documents and PostgreSQL rows read independently. (Saving a flowchart is in
`tests/test_flowchart_mutations.py`.)"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from flowgate.services import Services
from models.documents import Flowchart
from models.sql import Agent
from resolvers.ids import to_global_id
from tests.graphql import gql, gql_data, local_id, organization_ids
from tests.scratch import Scratch

FLOWCHART = """
query Flowchart($agentId: ID!) {
  flowchart(agentId: $agentId) {
    id version updatedAt
    nodes { id type label position { x y } data agent { id name } }
    connections { source target condition }
    metadata { title description layout }
    agent { id name }
  }
}
"""


@pytest.fixture
async def organization_id(services: Services, seeded: object) -> uuid.UUID:
    return (await organization_ids(services))[0]


@pytest.fixture
async def flowcharts(organization_id: uuid.UUID) -> list[Flowchart]:
    """The organization's flowcharts, those with most nodes calling other agents first."""
    found = await Flowchart.find({"organization_id": organization_id}).to_list()
    return sorted(found, key=lambda f: -sum("agentId" in node.data for node in f.nodes))


async def _agents_by_id(services: Services, organization_id: uuid.UUID) -> dict[uuid.UUID, Agent]:
    async with services.postgres.session() as session:
        rows = await session.scalars(select(Agent).where(Agent.organization_id == organization_id))
        return {agent.id: agent for agent in rows}


async def test_an_agents_flowchart_is_its_document(
    client: httpx.AsyncClient, flowcharts: list[Flowchart]
) -> None:
    # given
    document = flowcharts[0]

    # when
    data = await gql_data(client, FLOWCHART, {"agentId": to_global_id("Agent", document.agent_id)})

    # then
    flowchart = data["flowchart"]
    assert local_id(flowchart["id"]) == document.id
    assert flowchart["version"] == document.version
    assert [(n["id"], n["type"].lower(), n["label"]) for n in flowchart["nodes"]] == [
        (n.id, n.type.value, n.label) for n in document.nodes
    ]
    assert [n["position"] for n in flowchart["nodes"]] == [
        {"x": n.position.x, "y": n.position.y} for n in document.nodes
    ]
    assert [n["data"] for n in flowchart["nodes"]] == [n.data for n in document.nodes]
    assert flowchart["connections"] == [
        {"source": c.source, "target": c.target, "condition": c.condition}
        for c in document.connections
    ]
    assert flowchart["metadata"] == document.metadata.model_dump()


async def test_the_flowchart_and_its_nodes_name_their_agents_from_postgresql(
    client: httpx.AsyncClient,
    services: Services,
    organization_id: uuid.UUID,
    flowcharts: list[Flowchart],
) -> None:
    # given: a flowchart with nodes that call other agents (the seed has some)
    document = flowcharts[0]
    calls = {node.id: node.data.get("agentId") for node in document.nodes}
    assert any(calls.values())
    agents = await _agents_by_id(services, organization_id)

    # when
    data = await gql_data(client, FLOWCHART, {"agentId": to_global_id("Agent", document.agent_id)})

    # then
    flowchart = data["flowchart"]
    owner = agents[document.agent_id]
    assert flowchart["agent"] == {"id": to_global_id("Agent", owner.id), "name": owner.name}
    for node in flowchart["nodes"]:
        called = calls[node["id"]]
        expected: dict[str, Any] | None = None
        if called is not None:
            agent = agents.get(uuid.UUID(called))
            if agent is not None and agent.deleted_at is None:
                expected = {"id": to_global_id("Agent", agent.id), "name": agent.name}
        assert node["agent"] == expected, node["id"]


async def test_an_agent_without_a_flowchart_has_none(scratch: Scratch) -> None:
    # given
    agent_id = await scratch.create_agent("no-flowchart")

    # when
    data = await gql_data(scratch.client, FLOWCHART, {"agentId": agent_id})

    # then
    assert data["flowchart"] is None


async def test_another_organizations_flowchart_is_not_found(scratch: Scratch) -> None:
    # given: a seeded agent of the other organization, which has a flowchart
    agent_id = await scratch.foreign_agent_id()
    assert await Flowchart.find_one({"agent_id": local_id(agent_id)}) is not None

    # when
    body = await gql(scratch.client, FLOWCHART, {"agentId": agent_id})

    # then: null, as for an agent that does not exist, and no error that would reveal it
    assert "errors" not in body, body["errors"]
    assert body["data"] == {"flowchart": None}


@pytest.mark.parametrize(
    "agent_id",
    ["not-an-id", to_global_id("Workflow", uuid.UUID(int=1))],
    ids=["garbage", "other-type"],
)
async def test_an_agent_id_that_is_not_an_agents_is_an_error_naming_agent_id(
    client: httpx.AsyncClient, agent_id: str
) -> None:
    # when
    body = await gql(client, FLOWCHART, {"agentId": agent_id})

    # then: no flowchart, and one error that names the argument
    assert body["data"] == {"flowchart": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["argument"] == "agentId", error

"""`agents` and `agent(id)` through HTTP, checked against independent reads of the stores."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from flowgate.services import Services
from models.documents import Flowchart
from models.enums import TERMINAL_EXECUTION_STATUSES, ExecutionStatus
from models.sql import Agent, Execution, User
from resolvers.ids import to_global_id
from tests.connections import ConnectionSpec, ConnectionTests, FilterCase
from tests.graphql import all_edges, gql, gql_data, local_id, local_ids, organization_ids

AGENTS = """
query Agents(
  $first: Int, $after: String, $last: Int, $before: String,
  $filter: AgentFilter, $orderBy: AgentOrder
) {
  agents(
    first: $first, after: $after, last: $last, before: $before,
    filter: $filter, orderBy: $orderBy
  ) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges {
      cursor
      node {
        id name description status category configuration capabilities
        createdAt updatedAt lastExecutionAt executionCount deletedAt
      }
    }
  }
}
"""

AGENT = """
query Agent($id: ID!) {
  agent(id: $id) {
    id name description status category configuration capabilities
    createdAt updatedAt lastExecutionAt executionCount deletedAt
  }
}
"""

AGENTS_WITH_RELATIONS = """
query AgentsWithRelations($first: Int, $after: String) {
  agents(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        id
        flowchart { id agent { id } nodes { id type agent { id name } } }
        owner { id email }
        executions(first: 3) { totalCount edges { node { id } } }
        stats { executions successRate }
      }
    }
  }
}
"""

PAGE_SIZE = 7


@pytest.fixture
async def organization_id(services: Services, seeded: object) -> uuid.UUID:
    return (await organization_ids(services))[0]


async def live_agents(
    services: Services, organization_id: uuid.UUID, *order_by: Any
) -> list[Agent]:
    """The organization's agents that are not deleted, by SQL of our own."""
    query = select(Agent).where(
        Agent.organization_id == organization_id, Agent.deleted_at.is_(None)
    )
    if order_by:
        query = query.order_by(*order_by)
    async with services.postgres.session() as session:
        return list((await session.scalars(query)).all())


def newest_first(agents: list[Agent]) -> list[uuid.UUID]:
    return [a.id for a in sorted(agents, key=lambda a: (a.created_at, a.id), reverse=True)]


def _filter_cases() -> tuple[FilterCase, ...]:
    """(GraphQL filter, predicate on an Agent row), built from the seeded agents."""

    def status(agents: list[Agent], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        # Every status but the most common: several values, not all agents.
        most_common = Counter(a.status for a in agents).most_common(1)[0][0]
        wanted = {a.status for a in agents} - {most_common}
        return (
            {"status": sorted(s.name for s in wanted)},
            lambda a: a.status in wanted,
        )

    def category(agents: list[Agent], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        wanted = [c for c, _ in Counter(a.category for a in agents).most_common()[:2]]
        return {"category": wanted}, lambda a: a.category in wanted

    def name_contains(agents: list[Agent], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        word = agents[len(agents) // 2].name.split()[0]
        return (
            {"nameContains": word[1:].swapcase()},
            lambda a: word[1:].lower() in a.name.lower(),
        )

    def name_contains_wildcards(
        agents: list[Agent], ctx: dict[str, Any]
    ) -> tuple[dict[str, Any], Any]:
        # LIKE wildcards in the text are matched as themselves.
        return {"nameContains": "%_"}, lambda a: "%_" in a.name

    def owner(agents: list[Agent], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        owner_id = Counter(a.owner_id for a in agents if a.owner_id).most_common(1)[0][0]
        return (
            {"ownerId": to_global_id("User", owner_id)},
            lambda a: a.owner_id == owner_id,
        )

    def created(agents: list[Agent], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        times = sorted(a.created_at for a in agents)
        start, end = times[len(times) // 4], times[3 * len(times) // 4]
        return (
            {"created": {"from": start.isoformat(), "to": end.isoformat()}},
            lambda a: start <= a.created_at < end,
        )

    def created_from_only(agents: list[Agent], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        start = sorted(a.created_at for a in agents)[len(agents) // 2]
        return {"created": {"from": start.isoformat()}}, lambda a: a.created_at >= start

    def has_flowchart(agents: list[Agent], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        return {"hasFlowchart": True}, lambda a: a.id in ctx["with_flowchart"]

    def has_no_flowchart(agents: list[Agent], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        return {"hasFlowchart": False}, lambda a: a.id not in ctx["with_flowchart"]

    def combined(agents: list[Agent], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        category = Counter(a.category for a in agents).most_common(1)[0][0]
        return (
            {"category": [category], "hasFlowchart": True},
            lambda a: a.category == category and a.id in ctx["with_flowchart"],
        )

    cases = [
        status,
        category,
        name_contains,
        name_contains_wildcards,
        owner,
        created,
        created_from_only,
        has_flowchart,
        has_no_flowchart,
        combined,
    ]
    return tuple(cases)


async def test_filters_that_select_some_agents_do_not_select_all(
    services: Services, organization_id: uuid.UUID
) -> None:
    # The filter cases above prove something only if the seeded data tells them apart.
    # (Every seeded agent has a flowchart: `hasFlowchart` true must give all, false none.)
    # given
    agents = await live_agents(services, organization_id)

    # then
    assert len({a.status for a in agents}) > 1
    assert len({a.category for a in agents}) > 2
    assert len({a.owner_id for a in agents}) > 1


async def test_a_created_bound_without_time_zone_is_utc(
    client: httpx.AsyncClient, services: Services, organization_id: uuid.UUID
) -> None:
    # given
    agents = await live_agents(services, organization_id)
    times = sorted(a.created_at for a in agents)
    start, end = times[len(times) // 4], times[3 * len(times) // 4]
    naive_start = start.replace(tzinfo=None).isoformat()

    # when
    data = await gql_data(
        client,
        AGENTS,
        {"first": 100, "filter": {"created": {"from": naive_start, "to": end.isoformat()}}},
    )

    # then
    assert data["agents"]["totalCount"] == sum(start <= t < end for t in times)


ORDER_COLUMNS = {
    "CREATED_AT": Agent.created_at,
    "UPDATED_AT": Agent.updated_at,
    "NAME": Agent.name,
    "LAST_EXECUTION_AT": Agent.last_execution_at,
    "EXECUTION_COUNT": Agent.execution_count,
}


async def _newest_first(services: Services, organization_id: uuid.UUID) -> list[Agent]:
    agents = await live_agents(services, organization_id)
    return sorted(agents, key=lambda a: (a.created_at, a.id), reverse=True)


async def _ordered_ids(
    services: Services, organization_id: uuid.UUID, field: str, direction: str
) -> list[uuid.UUID]:
    # Ties broken by id; agents that never ran sort before all others ascending.
    column = ORDER_COLUMNS[field]
    order = (
        (column.asc().nulls_first(), Agent.id.asc())
        if direction == "ASC"
        else (column.desc().nulls_last(), Agent.id.desc())
    )
    return [a.id for a in await live_agents(services, organization_id, *order)]


async def _with_flowchart(services: Services, organization_id: uuid.UUID) -> dict[str, Any]:
    flowcharts = await Flowchart.find({"organization_id": organization_id}).to_list()
    return {"with_flowchart": {f.agent_id for f in flowcharts}}


class TestAgentsConnection(ConnectionTests):
    spec = ConnectionSpec(
        field="agents",
        query=AGENTS,
        page_size=PAGE_SIZE,
        rows=_newest_first,
        ordered_ids=_ordered_ids,
        order_fields=tuple(ORDER_COLUMNS),
        filter_cases=_filter_cases(),
        context=_with_flowchart,
    )


async def test_agent_by_id_is_the_same_as_in_the_list(
    client: httpx.AsyncClient, organization_id: uuid.UUID
) -> None:
    # given
    listed = (await gql_data(client, AGENTS, {"first": 10}))["agents"]["edges"]

    # when
    found = [await gql_data(client, AGENT, {"id": edge["node"]["id"]}) for edge in listed]

    # then
    assert [f["agent"] for f in found] == [edge["node"] for edge in listed]


async def test_agent_by_id_matches_the_row(
    client: httpx.AsyncClient, services: Services, organization_id: uuid.UUID
) -> None:
    # given
    agent = (await live_agents(services, organization_id))[0]

    # when
    data = await gql_data(client, AGENT, {"id": to_global_id("Agent", agent.id)})

    # then
    node = data["agent"]
    assert node["name"] == agent.name
    assert node["status"] == agent.status.name
    assert node["category"] == agent.category
    assert node["configuration"] == agent.configuration
    assert node["capabilities"] == agent.capabilities
    assert datetime.fromisoformat(node["createdAt"]) == agent.created_at
    assert node["executionCount"] == agent.execution_count


async def test_an_unknown_well_formed_id_gives_null_without_error(
    client: httpx.AsyncClient, organization_id: uuid.UUID
) -> None:
    # when
    body = await gql(client, AGENT, {"id": to_global_id("Agent", uuid.uuid4())})

    # then
    assert body["data"] == {"agent": None}
    assert "errors" not in body


async def test_cross_store_fields_match_both_stores(
    client: httpx.AsyncClient, services: Services, organization_id: uuid.UUID
) -> None:
    # given
    agents = await live_agents(services, organization_id)
    live_names = {a.id: a.name for a in agents}
    flowcharts = {
        f.agent_id: f for f in await Flowchart.find({"organization_id": organization_id}).to_list()
    }
    async with services.postgres.session() as session:
        emails = dict(
            (
                await session.execute(
                    select(User.id, User.email).where(User.organization_id == organization_id)
                )
            ).all()
        )
        executions = list(
            (
                await session.scalars(
                    select(Execution)
                    .where(Execution.organization_id == organization_id)
                    .order_by(Execution.started_at.desc(), Execution.id.desc())
                )
            ).all()
        )
    by_agent: dict[uuid.UUID, list[Execution]] = {}
    for execution in executions:
        by_agent.setdefault(execution.agent_id, []).append(execution)

    # when
    edges = await all_edges(client, AGENTS_WITH_RELATIONS, "agents")

    # then
    assert local_ids(edges) == newest_first(agents)
    checked_node_agents = 0
    for edge in edges:
        node = edge["node"]
        agent_id = local_id(node["id"])
        agent = next(a for a in agents if a.id == agent_id)

        flowchart = flowcharts.get(agent_id)
        if flowchart is None:
            assert node["flowchart"] is None
        else:
            assert node["flowchart"]["agent"] == {"id": node["id"]}
            assert [(n["id"], n["type"]) for n in node["flowchart"]["nodes"]] == [
                (n.id, n.type.name) for n in flowchart.nodes
            ]
            for shown, stored in zip(node["flowchart"]["nodes"], flowchart.nodes, strict=True):
                called = _called_agent(stored.data)
                if called in live_names:
                    checked_node_agents += 1
                    assert shown["agent"] == {
                        "id": to_global_id("Agent", called),
                        "name": live_names[called],
                    }
                else:
                    assert shown["agent"] is None

        expected_email = emails.get(agent.owner_id) if agent.owner_id else None
        assert (node["owner"] or {}).get("email") == expected_email

        runs = by_agent.get(agent_id, [])
        assert node["executions"]["totalCount"] == len(runs)
        assert local_ids(node["executions"]["edges"]) == [e.id for e in runs[:3]]

        finished = [e for e in runs if e.status in TERMINAL_EXECUTION_STATUSES]
        succeeded = [e for e in runs if e.status is ExecutionStatus.SUCCEEDED]
        assert node["stats"]["executions"] == len(runs)
        if finished:
            assert node["stats"]["successRate"] == pytest.approx(len(succeeded) / len(finished))
        else:
            assert node["stats"]["successRate"] is None
    assert checked_node_agents > 0
    assert any(edge["node"]["executions"]["totalCount"] > 3 for edge in edges)


def _called_agent(data: dict[str, Any]) -> uuid.UUID | None:
    value = data.get("agentId")
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


NESTED_TOTALS_ONLY = """
query NestedTotalsOnly {
  agents(first: 100) {
    edges {
      node { id executions(first: 0) { totalCount edges { cursor } pageInfo { hasNextPage } } }
    }
  }
}
"""


async def test_nested_executions_count_even_when_no_edge_is_asked_for(
    client: httpx.AsyncClient, services: Services, organization_id: uuid.UUID
) -> None:
    # given
    async with services.postgres.session() as session:
        counts = dict(
            (
                await session.execute(
                    select(Execution.agent_id, func.count())
                    .where(Execution.organization_id == organization_id)
                    .group_by(Execution.agent_id)
                )
            ).all()
        )

    # when
    data = await gql_data(client, NESTED_TOTALS_ONLY)

    # then
    edges = data["agents"]["edges"]
    assert any(counts.get(local_id(edge["node"]["id"]), 0) > 0 for edge in edges)
    for edge in edges:
        total = counts.get(local_id(edge["node"]["id"]), 0)
        assert edge["node"]["executions"] == {
            "totalCount": total,
            "edges": [],
            "pageInfo": {"hasNextPage": total > 0},
        }

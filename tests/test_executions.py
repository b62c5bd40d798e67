"""`executions` and `execution(id)` through HTTP, checked against independent reads of the
stores."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from flowgate.services import Services
from models.documents import ExecutionTrace, Workflow
from models.enums import ExecutionStatus
from models.sql import Agent, Execution
from resolvers.ids import to_global_id
from tests.connections import ConnectionSpec, ConnectionTests, FilterCase
from tests.graphql import gql, gql_data, local_id, organization_ids

EXECUTIONS = """
query Executions(
  $first: Int, $after: String, $last: Int, $before: String,
  $filter: ExecutionFilter, $orderBy: ExecutionOrder
) {
  executions(
    first: $first, after: $after, last: $last, before: $before,
    filter: $filter, orderBy: $orderBy
  ) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges {
      cursor
      node {
        id status startedAt endedAt durationMs error aiProvider aiCalls tokens cost
      }
    }
  }
}
"""

EXECUTION = """
query Execution($id: ID!) {
  execution(id: $id) {
    id status startedAt endedAt durationMs error aiProvider aiCalls tokens cost
  }
}
"""

EXECUTIONS_WITH_RELATIONS = """
query ExecutionsWithRelations($first: Int, $after: String, $filter: ExecutionFilter) {
  executions(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        id
        agent { id name deletedAt }
        workflow { id name }
        steps { nodeId status }
        progress { nodesDone nodesTotal percent }
      }
    }
  }
}
"""


@pytest.fixture
async def organization_id(services: Services, seeded: object) -> uuid.UUID:
    return (await organization_ids(services))[0]


@pytest.fixture
async def executions(services: Services, organization_id: uuid.UUID) -> list[Execution]:
    """The organization's executions, newest first (the default order), by SQL of our own."""
    return await _newest_first(services, organization_id)


def _filter_cases() -> tuple[FilterCase, ...]:
    """(GraphQL filter, predicate on an Execution row), built from the seeded executions."""

    def status(rows: list[Execution], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        wanted = {ExecutionStatus.FAILED, ExecutionStatus.CANCELLED}
        return {"status": ["FAILED", "CANCELLED"]}, lambda e: e.status in wanted

    def agent(rows: list[Execution], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        agent_id = Counter(e.agent_id for e in rows).most_common(1)[0][0]
        return {"agentId": to_global_id("Agent", agent_id)}, lambda e: e.agent_id == agent_id

    def workflow(rows: list[Execution], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        workflow_id = Counter(e.workflow_id for e in rows if e.workflow_id).most_common(1)[0][0]
        return (
            {"workflowId": to_global_id("Workflow", workflow_id)},
            lambda e: e.workflow_id == workflow_id,
        )

    def started(rows: list[Execution], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        # Bounds on existing start times: `from` is inclusive, `to` exclusive.
        start, end = rows[len(rows) // 2].started_at, rows[len(rows) // 3].started_at
        return (
            {"started": {"from": start.isoformat(), "to": end.isoformat()}},
            lambda e: start <= e.started_at < end,
        )

    def duration(rows: list[Execution], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        durations = sorted(e.duration_ms for e in rows if e.duration_ms is not None)
        low, high = durations[len(durations) // 4], durations[len(durations) // 2]
        return (
            {"durationMs": {"min": low, "max": high}},
            lambda e: e.duration_ms is not None and low <= e.duration_ms <= high,
        )

    def duration_min_only(rows: list[Execution], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        durations = sorted(e.duration_ms for e in rows if e.duration_ms is not None)
        low = durations[len(durations) // 2]
        return (
            {"durationMs": {"min": low}},
            lambda e: e.duration_ms is not None and e.duration_ms >= low,
        )

    def error_text(rows: list[Execution], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        # A word of the most common failure, in other case: only failed executions match.
        error = Counter(
            e.error for e in rows if e.status is ExecutionStatus.FAILED and e.error
        ).most_common(1)[0][0]
        word = max(re.findall(r"[A-Za-z]{4,}", error), key=len)
        return {"errorContains": word.swapcase()}, _failed_with(word)

    def error_operator(rows: list[Execution], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        return {"errorContains": '{"$gt": ""}'}, _failed_with('{"$gt": ""}')

    def error_percent(rows: list[Execution], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        return {"errorContains": "%"}, _failed_with("%")

    def error_underscore(rows: list[Execution], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        return {"errorContains": "_"}, _failed_with("_")

    def combined(rows: list[Execution], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        agent_id = Counter(e.agent_id for e in rows).most_common(1)[0][0]
        return (
            {"agentId": to_global_id("Agent", agent_id), "status": ["SUCCEEDED"]},
            lambda e: e.agent_id == agent_id and e.status is ExecutionStatus.SUCCEEDED,
        )

    cases = [
        status,
        agent,
        workflow,
        started,
        duration,
        duration_min_only,
        error_text,
        error_operator,
        error_percent,
        error_underscore,
        combined,
    ]
    return tuple(cases)


def _failed_with(text: str) -> Callable[[Execution], bool]:
    return lambda e: (
        e.status is ExecutionStatus.FAILED
        and e.error is not None
        and text.lower() in e.error.lower()
    )


async def test_the_seed_tells_the_filters_apart(executions: list[Execution]) -> None:
    # The filter cases prove something only if each selects some executions, not all.
    # then
    failed = [e for e in executions if e.status is ExecutionStatus.FAILED]
    assert failed
    assert all(e.error for e in failed)
    assert any(e.workflow_id for e in executions)
    assert any(e.workflow_id is None for e in executions)
    assert any(e.duration_ms is None for e in executions)
    assert len({e.agent_id for e in executions}) > 1


ORDER_COLUMNS = {
    "STARTED_AT": Execution.started_at,
    "DURATION": Execution.duration_ms,
    "COST": Execution.cost,
    "TOKENS": Execution.tokens,
}


async def _newest_first(services: Services, organization_id: uuid.UUID) -> list[Execution]:
    query = (
        select(Execution)
        .where(Execution.organization_id == organization_id)
        .order_by(Execution.started_at.desc(), Execution.id.desc())
    )
    async with services.postgres.session() as session:
        return list((await session.scalars(query)).all())


async def _ordered_ids(
    services: Services, organization_id: uuid.UUID, field: str, direction: str
) -> list[uuid.UUID]:
    # Ties broken by id; executions without a duration yet sort before all others ascending.
    column = ORDER_COLUMNS[field]
    order = (
        (column.asc().nulls_first(), Execution.id.asc())
        if direction == "ASC"
        else (column.desc().nulls_last(), Execution.id.desc())
    )
    query = select(Execution.id).where(Execution.organization_id == organization_id)
    async with services.postgres.session() as session:
        return list((await session.scalars(query.order_by(*order))).all())


class TestExecutionsConnection(ConnectionTests):
    spec = ConnectionSpec(
        field="executions",
        query=EXECUTIONS,
        page_size=25,
        rows=_newest_first,
        ordered_ids=_ordered_ids,
        order_fields=tuple(ORDER_COLUMNS),
        filter_cases=_filter_cases(),
    )


async def test_execution_by_id_is_the_same_as_in_the_list(client: httpx.AsyncClient) -> None:
    # given
    failed = await gql_data(client, EXECUTIONS, {"first": 10, "filter": {"status": ["FAILED"]}})
    newest = await gql_data(client, EXECUTIONS, {"first": 10})
    listed = failed["executions"]["edges"] + newest["executions"]["edges"]

    # when
    found = [await gql_data(client, EXECUTION, {"id": edge["node"]["id"]}) for edge in listed]

    # then
    assert [f["execution"] for f in found] == [edge["node"] for edge in listed]


async def test_execution_fields_match_the_row(
    client: httpx.AsyncClient, executions: list[Execution]
) -> None:
    # given
    failed = next(e for e in executions if e.status is ExecutionStatus.FAILED)

    # when
    data = await gql_data(client, EXECUTION, {"id": to_global_id("Execution", failed.id)})

    # then
    node = data["execution"]
    assert node["status"] == "FAILED"
    assert node["error"] == failed.error
    assert node["durationMs"] == failed.duration_ms
    assert node["tokens"] == failed.tokens
    assert node["cost"] == pytest.approx(float(failed.cost))
    assert node["aiCalls"] == failed.ai_calls


async def test_an_unknown_execution_id_gives_null(client: httpx.AsyncClient) -> None:
    # when
    body = await gql(client, EXECUTION, {"id": to_global_id("Execution", uuid.uuid4())})

    # then
    assert body["data"] == {"execution": None}
    assert "errors" not in body


@pytest.mark.parametrize("with_workflow", [True, False])
async def test_cross_store_fields_match_both_stores(
    client: httpx.AsyncClient,
    services: Services,
    organization_id: uuid.UUID,
    executions: list[Execution],
    with_workflow: bool,
) -> None:
    # given: a page of executions run in workflows, and one of any executions
    graphql_filter: dict[str, Any] = {}
    if with_workflow:
        runs = Counter(e.workflow_id for e in executions if e.workflow_id)
        workflow_id = runs.most_common(1)[0][0]
        graphql_filter = {"workflowId": to_global_id("Workflow", workflow_id)}
    async with services.postgres.session() as session:
        agents = {
            a.id: a
            for a in (
                await session.scalars(select(Agent).where(Agent.organization_id == organization_id))
            ).all()
        }
    workflows = {
        w.id: w for w in await Workflow.find({"organization_id": organization_id}).to_list()
    }
    by_id = {e.id: e for e in executions}

    # when
    data = await gql_data(
        client, EXECUTIONS_WITH_RELATIONS, {"first": 100, "filter": graphql_filter}
    )

    # then
    edges = data["executions"]["edges"]
    assert edges
    traces = {
        t.execution_id: t
        for t in await ExecutionTrace.find(
            {"execution_id": {"$in": [local_id(edge["node"]["id"]) for edge in edges]}}
        ).to_list()
    }
    for edge in edges:
        node = edge["node"]
        execution = by_id[local_id(node["id"])]
        agent = agents[execution.agent_id]
        assert node["agent"]["id"] == to_global_id("Agent", agent.id)
        assert node["agent"]["name"] == agent.name
        assert (node["agent"]["deletedAt"] is None) == (agent.deleted_at is None)

        if execution.workflow_id is None:
            assert node["workflow"] is None
        else:
            assert node["workflow"] == {
                "id": to_global_id("Workflow", execution.workflow_id),
                "name": workflows[execution.workflow_id].name,
            }

        trace = traces.get(execution.id)
        expected_steps = (
            [{"nodeId": s.node_id, "status": s.status.name} for s in trace.steps] if trace else []
        )
        assert node["steps"] == expected_steps

        done, total = execution.nodes_done, execution.nodes_total
        assert node["progress"]["nodesDone"] == done
        assert node["progress"]["nodesTotal"] == total
        expected_percent = 100 * done / total if total else 0.0
        assert node["progress"]["percent"] == pytest.approx(expected_percent, abs=0.01)
    if with_workflow:
        assert all(edge["node"]["workflow"] for edge in edges)
    else:
        assert any(edge["node"]["workflow"] is None for edge in edges)
    assert any(edge["node"]["steps"] for edge in edges)

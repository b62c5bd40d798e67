"""`workflows` and `workflow(id)` through HTTP, checked against independent reads of the
stores."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from flowgate.services import Services
from models.documents import Workflow
from models.enums import TERMINAL_EXECUTION_STATUSES, ExecutionStatus
from models.sql import Execution, User
from resolvers.ids import to_global_id
from tests.connections import ConnectionSpec, ConnectionTests, FilterCase
from tests.graphql import all_edges, gql, gql_data, local_ids, organization_ids

WORKFLOWS = """
query Workflows(
  $first: Int, $after: String, $last: Int, $before: String,
  $filter: WorkflowFilter, $orderBy: WorkflowOrder
) {
  workflows(
    first: $first, after: $after, last: $last, before: $before,
    filter: $filter, orderBy: $orderBy
  ) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges {
      cursor
      node { id name description version status tags category createdAt updatedAt }
    }
  }
}
"""

WORKFLOW = """
query Workflow($id: ID!) {
  workflow(id: $id) {
    id name description version status tags category createdAt updatedAt
  }
}
"""

WORKFLOWS_WITH_RELATIONS = """
query WorkflowsWithRelations($first: Int, $after: String) {
  workflows(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        id
        owner { id email }
        executions(first: 5) { totalCount edges { node { id } } }
        stats { executions successRate executionsLast24Hours }
      }
    }
  }
}
"""

PAGE_SIZE = 3
INJECTION = '{"$gt": ""}'


@pytest.fixture
async def organization_id(services: Services, seeded: object) -> uuid.UUID:
    return (await organization_ids(services))[0]


@pytest.fixture
async def workflows(services: Services, organization_id: uuid.UUID) -> list[Workflow]:
    """The organization's workflows, last updated first (the default order)."""
    return await _last_updated_first(services, organization_id)


def ids(workflows: list[Workflow]) -> list[uuid.UUID]:
    return [w.id for w in workflows]


def _filter_cases() -> tuple[FilterCase, ...]:
    """(GraphQL filter, predicate on a Workflow), built from the seeded workflows."""

    def status(rows: list[Workflow], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        most_common = Counter(w.status for w in rows).most_common(1)[0][0]
        wanted = {w.status for w in rows} - {most_common}
        return {"status": sorted(s.name for s in wanted)}, lambda w: w.status in wanted

    def tags_any(rows: list[Workflow], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        counts = Counter(t for w in rows for t in w.tags).most_common()
        wanted = {counts[-1][0], counts[len(counts) // 2][0]}
        return {"tagsAny": sorted(wanted)}, lambda w: bool(wanted & set(w.tags))

    def tags_all(rows: list[Workflow], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        wanted = set(next(w for w in rows if len(w.tags) >= 2).tags[:2])
        return {"tagsAll": sorted(wanted)}, lambda w: wanted <= set(w.tags)

    def tags_any_and_all(rows: list[Workflow], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        tagged = next(w for w in rows if len(w.tags) >= 2)
        any_of, all_of = set(tagged.tags[:2]), {tagged.tags[0]}
        return (
            {"tagsAny": sorted(any_of), "tagsAll": sorted(all_of)},
            lambda w: bool(any_of & set(w.tags)) and all_of <= set(w.tags),
        )

    def category(rows: list[Workflow], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        wanted = Counter(w.category for w in rows).most_common(1)[0][0]
        return {"category": wanted}, lambda w: w.category == wanted

    def created_by(rows: list[Workflow], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        creator = Counter(w.created_by for w in rows if w.created_by).most_common(1)[0][0]
        return (
            {"createdBy": to_global_id("User", creator)},
            lambda w: w.created_by == creator,
        )

    def text_in_name(rows: list[Workflow], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        word = max(rows[0].name.split(), key=len)
        return {"text": word.swapcase()}, _containing(word)

    def text_in_description(
        rows: list[Workflow], ctx: dict[str, Any]
    ) -> tuple[dict[str, Any], Any]:
        word = max(rows[-1].description.split(), key=len)
        return {"text": word.upper()}, _containing(word)

    def text_operator(rows: list[Workflow], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        return {"text": INJECTION}, _containing(INJECTION)

    def text_regex(rows: list[Workflow], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        return {"text": ".*"}, _containing(".*")

    def tags_any_operator(rows: list[Workflow], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        return {"tagsAny": [INJECTION]}, lambda w: INJECTION in w.tags

    def tags_all_operator(rows: list[Workflow], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        return {"tagsAll": [INJECTION]}, lambda w: INJECTION in w.tags

    def category_operator(rows: list[Workflow], ctx: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        return {"category": INJECTION}, lambda w: w.category == INJECTION

    cases = [
        status,
        tags_any,
        tags_all,
        tags_any_and_all,
        category,
        created_by,
        text_in_name,
        text_in_description,
        text_operator,
        text_regex,
        tags_any_operator,
        tags_all_operator,
        category_operator,
    ]
    return tuple(cases)


def _containing(text: str) -> Any:
    return lambda w: text.lower() in w.name.lower() or text.lower() in w.description.lower()


async def test_the_seed_tells_the_filters_apart(workflows: list[Workflow]) -> None:
    # The filter cases prove something only if each selects some workflows, not all.
    # then
    assert len({w.status for w in workflows}) > 1
    assert len({t for w in workflows for t in w.tags}) > 2
    assert any(len(w.tags) >= 2 for w in workflows)
    assert len({w.category for w in workflows}) > 1
    assert len({w.created_by for w in workflows}) > 1


ORDER_KEYS = {
    "UPDATED_AT": lambda w: (w.updated_at, w.id),
    "CREATED_AT": lambda w: (w.created_at, w.id),
    "NAME": lambda w: (w.name, w.id),
}


async def _last_updated_first(services: Services, organization_id: uuid.UUID) -> list[Workflow]:
    found = await Workflow.find({"organization_id": organization_id}).to_list()
    return sorted(found, key=lambda w: (w.updated_at, w.id), reverse=True)


async def _ordered_ids(
    services: Services, organization_id: uuid.UUID, field: str, direction: str
) -> list[uuid.UUID]:
    # MongoDB compares names by code point, as Python does; ties broken by id.
    found = await Workflow.find({"organization_id": organization_id}).to_list()
    return ids(sorted(found, key=ORDER_KEYS[field], reverse=direction == "DESC"))


class TestWorkflowsConnection(ConnectionTests):
    spec = ConnectionSpec(
        field="workflows",
        query=WORKFLOWS,
        page_size=PAGE_SIZE,
        rows=_last_updated_first,
        ordered_ids=_ordered_ids,
        order_fields=tuple(ORDER_KEYS),
        filter_cases=_filter_cases(),
    )


async def test_workflow_by_id_is_the_same_as_in_the_list(client: httpx.AsyncClient) -> None:
    # given
    listed = (await gql_data(client, WORKFLOWS, {"first": 100}))["workflows"]["edges"]

    # when
    found = [await gql_data(client, WORKFLOW, {"id": edge["node"]["id"]}) for edge in listed]

    # then
    assert [f["workflow"] for f in found] == [edge["node"] for edge in listed]


async def test_workflow_fields_match_the_document(
    client: httpx.AsyncClient, workflows: list[Workflow]
) -> None:
    # given
    workflow = workflows[0]

    # when
    data = await gql_data(client, WORKFLOW, {"id": to_global_id("Workflow", workflow.id)})

    # then
    node = data["workflow"]
    assert node["name"] == workflow.name
    assert node["description"] == workflow.description
    assert node["version"] == workflow.version
    assert node["status"] == workflow.status.name
    assert node["tags"] == workflow.tags
    assert node["category"] == workflow.category
    assert datetime.fromisoformat(node["updatedAt"]) == workflow.updated_at


async def test_an_unknown_workflow_id_gives_null(client: httpx.AsyncClient) -> None:
    # when
    body = await gql(client, WORKFLOW, {"id": to_global_id("Workflow", uuid.uuid4())})

    # then
    assert body["data"] == {"workflow": None}
    assert "errors" not in body


async def test_cross_store_fields_match_both_stores(
    client: httpx.AsyncClient,
    services: Services,
    organization_id: uuid.UUID,
    workflows: list[Workflow],
) -> None:
    # given
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
                    .where(
                        Execution.organization_id == organization_id,
                        Execution.workflow_id.is_not(None),
                    )
                    .order_by(Execution.started_at.desc(), Execution.id.desc())
                )
            ).all()
        )
    by_workflow: dict[uuid.UUID, list[Execution]] = {}
    for execution in executions:
        assert execution.workflow_id is not None
        by_workflow.setdefault(execution.workflow_id, []).append(execution)

    # when
    edges = await all_edges(client, WORKFLOWS_WITH_RELATIONS, "workflows")
    day_ago = datetime.now(UTC) - timedelta(hours=24)

    # then
    assert local_ids(edges) == ids(workflows)
    for edge, workflow in zip(edges, workflows, strict=True):
        node = edge["node"]
        expected_email = emails.get(workflow.created_by) if workflow.created_by else None
        assert (node["owner"] or {}).get("email") == expected_email

        runs = by_workflow.get(workflow.id, [])
        assert node["executions"]["totalCount"] == len(runs)
        assert local_ids(node["executions"]["edges"]) == [e.id for e in runs[:5]]

        finished = [e for e in runs if e.status in TERMINAL_EXECUTION_STATUSES]
        succeeded = [e for e in runs if e.status is ExecutionStatus.SUCCEEDED]
        stats = node["stats"]
        assert stats["executions"] == len(runs)
        if finished:
            assert stats["successRate"] == pytest.approx(len(succeeded) / len(finished))
        else:
            assert stats["successRate"] is None
        # The window moves while the test runs: allow for executions crossing its edge.
        recent = sum(e.started_at >= day_ago for e in runs)
        near_edge = sum(abs(e.started_at - day_ago) < timedelta(minutes=1) for e in runs)
        assert abs(stats["executionsLast24Hours"] - recent) <= near_edge
    assert any(edge["node"]["executions"]["totalCount"] > 5 for edge in edges)
    assert any(edge["node"]["stats"]["executionsLast24Hours"] > 0 for edge in edges)

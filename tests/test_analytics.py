"""`executionAggregate` over the seeded executions, checked against the rows themselves;
bad arguments named; the cost limit counting groups; round trips fixed by the shape."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from flowgate.services import Services
from models.sql import Agent, Execution
from resolvers.ids import to_global_id
from tests.auth import ADMIN, error_codes, user_by_email
from tests.graphql import gql, gql_data

AGGREGATE = """
query Aggregate($groupBy: [GroupKey!]!, $filter: ExecutionFilter, $orderBy: AggregateOrder,
                $first: Int) {
  executionAggregate(groupBy: $groupBy, filter: $filter, orderBy: $orderBy, first: $first) {
    key { status provider model category period agentId workflowId userId }
    count succeeded failed successRate durationP50Ms durationP95Ms durationP99Ms
    aiCalls totalTokens promptTokens completionTokens cost
  }
}
"""
WITH_OBJECTS = """
query($first: Int!) {
  executionAggregate(groupBy: [AGENT, USER], first: $first) {
    count key { agent { name owner { email } } user { email } }
  }
}
"""


@pytest.fixture
async def rows(services: Services, seeded: object) -> list[Any]:
    """The first organization's executions with their agents' model and category."""
    admin = await user_by_email(services, ADMIN)
    async with services.postgres.session() as session:
        result = await session.execute(
            select(Execution, Agent.configuration["model"].astext, Agent.category)
            .join(Agent, Agent.id == Execution.agent_id)
            .where(Execution.organization_id == admin.organization_id)
        )
        return list(result.all())


def _month(moment: datetime) -> str:
    start = moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start.isoformat()


async def test_groups_by_status_match_the_rows(client: httpx.AsyncClient, rows: list[Any]) -> None:
    data = await gql_data(client, AGGREGATE, {"groupBy": ["STATUS"]})
    groups = data["executionAggregate"]
    expected = Counter(row.Execution.status.name for row in rows)
    assert {g["key"]["status"]: g["count"] for g in groups} == dict(expected)
    # biggest first, and only the grouped key is set
    assert [g["count"] for g in groups] == sorted((g["count"] for g in groups), reverse=True)
    assert all(g["key"]["agentId"] is None and g["key"]["period"] is None for g in groups)


async def test_two_keys_agent_and_month_with_figures_match_the_rows(
    client: httpx.AsyncClient, rows: list[Any]
) -> None:
    data = await gql_data(client, AGGREGATE, {"groupBy": ["AGENT", "MONTH"], "first": 1000})
    groups = data["executionAggregate"]
    expected: dict[tuple[str, str], list[Execution]] = {}
    for row in rows:
        key = (to_global_id("Agent", row.Execution.agent_id), _month(row.Execution.started_at))
        expected.setdefault(key, []).append(row.Execution)
    got = {
        (g["key"]["agentId"], datetime.fromisoformat(g["key"]["period"]).isoformat()): g
        for g in groups
    }
    assert len(groups) < 1000
    assert set(got) == set(expected)
    for key, executions in expected.items():
        group = got[key]
        assert group["count"] == len(executions)
        assert group["failed"] == sum(e.status.name == "FAILED" for e in executions)
        assert group["totalTokens"] == sum(e.tokens for e in executions)
        assert group["promptTokens"] == sum(e.prompt_tokens for e in executions)
        assert group["completionTokens"] == sum(e.completion_tokens for e in executions)
        # the seed splits every call's tokens
        assert group["promptTokens"] + group["completionTokens"] == group["totalTokens"]
        assert group["aiCalls"] == sum(e.ai_calls for e in executions)
        assert Decimal(str(group["cost"])).quantize(Decimal("0.0001")) == sum(
            (e.cost for e in executions), Decimal(0)
        ).quantize(Decimal("0.0001"))


async def test_model_category_and_user_groups_match_the_rows(
    client: httpx.AsyncClient, rows: list[Any]
) -> None:
    for key, oracle in (
        ("MODEL", Counter(row[1] for row in rows)),
        ("CATEGORY", Counter(row[2] for row in rows)),
        (
            "USER",
            Counter(
                to_global_id("User", row.Execution.started_by_id)
                if row.Execution.started_by_id
                else None
                for row in rows
            ),
        ),
    ):
        groups = (await gql_data(client, AGGREGATE, {"groupBy": [key]}))["executionAggregate"]
        field = {"MODEL": "model", "CATEGORY": "category", "USER": "userId"}[key]
        assert {g["key"][field]: g["count"] for g in groups} == dict(oracle), key


async def test_order_by_a_figure_and_a_time_series_oldest_first(client: httpx.AsyncClient) -> None:
    by_cost = (
        await gql_data(
            client,
            AGGREGATE,
            {"groupBy": ["AGENT"], "orderBy": {"field": "COST", "direction": "ASC"}, "first": 5},
        )
    )["executionAggregate"]
    assert len(by_cost) == 5
    assert [g["cost"] for g in by_cost] == sorted(g["cost"] for g in by_cost)
    days = (await gql_data(client, AGGREGATE, {"groupBy": ["DAY"]}))["executionAggregate"]
    periods = [g["key"]["period"] for g in days]
    assert periods == sorted(periods)


async def test_started_by_is_exposed_and_filters_lists_and_groups(
    client: httpx.AsyncClient, rows: list[Any]
) -> None:
    starter = next(row.Execution.started_by_id for row in rows if row.Execution.started_by_id)
    user_id = to_global_id("User", starter)
    expected = sum(row.Execution.started_by_id == starter for row in rows)
    listed = await gql_data(
        client,
        "query($u: ID!) { executions(first: 100, filter: {startedBy: $u}) { totalCount "
        "edges { node { startedBy { id } } } } }",
        {"u": user_id},
    )
    assert listed["executions"]["totalCount"] == expected
    assert {e["node"]["startedBy"]["id"] for e in listed["executions"]["edges"]} == {user_id}
    grouped = await gql_data(
        client, AGGREGATE, {"groupBy": ["STATUS"], "filter": {"startedBy": user_id}}
    )
    assert sum(g["count"] for g in grouped["executionAggregate"]) == expected


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"groupBy": ["AGENT", "DAY", "STATUS"]}, "groupBy"),
        ({"groupBy": ["DAY", "DAY"]}, "groupBy"),
        ({"groupBy": []}, "groupBy"),
        ({"groupBy": ["AGENT"], "first": 1001}, "first"),
        ({"groupBy": ["AGENT"], "first": -1}, "first"),
        ({"groupBy": ["AGENT"], "filter": {"startedBy": "nonsense"}}, "filter.startedBy"),
    ],
)
async def test_bad_arguments_are_named(
    client: httpx.AsyncClient, variables: dict[str, Any], argument: str
) -> None:
    body = await gql(client, AGGREGATE, variables)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["argument"] == argument
    assert body["data"] is None


async def test_the_cost_limit_counts_groups_like_a_page(client: httpx.AsyncClient) -> None:
    nested = (
        "{ executionAggregate(groupBy: [AGENT], first: 1000) { key { agent { "
        "executions(first: 100) { edges { node { id } } } } } } }"
    )
    assert error_codes(await gql(client, nested)) == ["QUERY_TOO_COSTLY"]
    small = nested.replace("first: 1000", "first: 2")
    assert "errors" not in await gql(client, small)


async def test_round_trips_do_not_grow_with_the_groups(client: httpx.AsyncClient) -> None:
    async def run(first: int) -> dict[str, Any]:
        response = await client.post(
            "/graphql", json={"query": WITH_OBJECTS, "variables": {"first": first}}
        )
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return body

    small, large = await run(2), await run(40)
    assert len(small["data"]["executionAggregate"]) == 2
    assert len(large["data"]["executionAggregate"]) == 40
    assert small["extensions"]["roundTrips"] == large["extensions"]["roundTrips"]


async def test_a_foreign_or_unknown_agent_filter_counts_nothing(client: httpx.AsyncClient) -> None:
    other = to_global_id("Agent", uuid.uuid4())
    data = await gql_data(client, AGGREGATE, {"groupBy": ["STATUS"], "filter": {"agentId": other}})
    assert data["executionAggregate"] == []


@pytest.mark.parametrize(
    ("field", "figure"),
    [("PROMPT_TOKENS", "promptTokens"), ("COMPLETION_TOKENS", "completionTokens")],
)
async def test_groups_order_by_a_token_part(
    client: httpx.AsyncClient, field: str, figure: str
) -> None:
    variables = {"groupBy": ["AGENT"], "orderBy": {"field": field, "direction": "DESC"}}
    groups = (await gql_data(client, AGGREGATE, variables))["executionAggregate"]
    values = [group[figure] for group in groups]
    assert len(set(values)) > 1  # an order that could be wrong
    assert values == sorted(values, reverse=True)

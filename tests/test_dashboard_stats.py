"""`dashboardStats` against the seeded data, each figure checked against an independent
computation: raw rows read with plain SQL and plain MongoDB finds, then counted in Python."""

from __future__ import annotations

import math
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from flowgate.services import Services
from resolvers.ids import to_global_id
from tests.graphql import organization_ids

DASHBOARD = """
query Dashboard($since: DateTime, $until: DateTime, $agentId: ID, $workflowId: ID) {
  dashboardStats(since: $since, until: $until, agentId: $agentId, workflowId: $workflowId) {
    since
    until
    totalExecutions
    byStatus { status count }
    successRate
    durationP50Ms
    durationP95Ms
    totalCost
    totalTokens
    byProvider { provider executions cost tokens }
    perDay { day total succeeded failed }
    topFailingAgents { agent { id name } failures executions }
    byNodeType { nodeType steps averageDurationMs failureRate }
  }
}
"""

SQL_FIGURES_ONLY = """
query SqlFigures($since: DateTime, $until: DateTime) {
  dashboardStats(since: $since, until: $until) {
    totalExecutions
    perDay { day total }
    topFailingAgents { failures }
  }
}
"""

WINDOW_ONLY = """
query Window($since: DateTime, $until: DateTime) {
  dashboardStats(since: $since, until: $until) { since until totalExecutions }
}
"""

EXECUTIONS_SQL = text(
    "SELECT status::text AS status, started_at, duration_ms, cost, tokens, ai_provider, "
    "agent_id, workflow_id FROM executions WHERE organization_id = :organization_id"
)
AGENT_NAMES_SQL = text("SELECT id, name FROM agents WHERE organization_id = :organization_id")

# Whole seconds: MongoDB keeps milliseconds, so the window bounds mean the same in both stores.
UNTIL = datetime.now(UTC).replace(microsecond=0)
SINCE = UNTIL - timedelta(days=30)
WINDOW = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}


@dataclass
class Store:
    """The principal's raw rows and traces, read once for the module."""

    organization_id: uuid.UUID
    executions: list[Any]
    agent_names: dict[uuid.UUID, str]
    traces: list[dict[str, Any]]

    def in_window(self, **equal: Any) -> list[Any]:
        return [
            row
            for row in self.executions
            if SINCE <= row.started_at < UNTIL
            and all(getattr(row, key) == value for key, value in equal.items())
        ]


@pytest.fixture(scope="module")
async def store(seeded: object, app: FastAPI, services: Services) -> Store:
    # The organization the app acts for, found the way the app finds it.
    organization_id = (await organization_ids(services))[0]
    async with services.postgres.session() as session:
        executions = (
            await session.execute(EXECUTIONS_SQL, {"organization_id": organization_id})
        ).all()
        names = (await session.execute(AGENT_NAMES_SQL, {"organization_id": organization_id})).all()
    traces = await (
        services.mongo.database["execution_traces"]
        .find({"organization_id": organization_id}, {"steps": 1, "agent_id": 1, "workflow_id": 1})
        .to_list()
    )
    return Store(organization_id, list(executions), dict(names), traces)


async def dashboard(client: httpx.AsyncClient, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": DASHBOARD, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    stats: dict[str, Any] = body["data"]["dashboardStats"]
    return stats


async def errors_of(client: httpx.AsyncClient, query: str, **variables: Any) -> list[Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None
    errors: list[Any] = body["errors"]
    return errors


def percentile(values: list[int], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def expected_totals(rows: list[Any]) -> dict[str, Any]:
    statuses = Counter(row.status for row in rows)
    finished = statuses["succeeded"] + statuses["failed"] + statuses["cancelled"]
    durations = [row.duration_ms for row in rows if row.duration_ms is not None]
    return {
        "totalExecutions": len(rows),
        "byStatus": {status.upper(): count for status, count in statuses.items()},
        "successRate": statuses["succeeded"] / finished if finished else None,
        "durationP50Ms": percentile(durations, 0.5),
        "durationP95Ms": percentile(durations, 0.95),
        "totalCost": float(sum((row.cost for row in rows), Decimal(0))),
        "totalTokens": sum(row.tokens for row in rows),
    }


def actual_totals(stats: dict[str, Any]) -> dict[str, Any]:
    return {
        "totalExecutions": stats["totalExecutions"],
        # Statuses with no execution are listed as zeros; the expectation omits them.
        "byStatus": {row["status"]: row["count"] for row in stats["byStatus"] if row["count"]},
        "successRate": stats["successRate"],
        "durationP50Ms": stats["durationP50Ms"],
        "durationP95Ms": stats["durationP95Ms"],
        "totalCost": stats["totalCost"],
        "totalTokens": stats["totalTokens"],
    }


def expected_node_types(traces: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    steps: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    finished: Counter[str] = Counter()
    durations: defaultdict[str, list[int]] = defaultdict(list)
    for trace in traces:
        for step in trace.get("steps", []):
            if not SINCE <= step["started_at"] < UNTIL:
                continue
            kind = step["node_type"].upper()
            steps[kind] += 1
            failed[kind] += step["status"] == "failed"
            finished[kind] += step["status"] in ("failed", "succeeded")
            if step.get("duration_ms") is not None:
                durations[kind].append(step["duration_ms"])
    return {
        kind: {
            "steps": steps[kind],
            "averageDurationMs": (
                sum(durations[kind]) / len(durations[kind]) if durations[kind] else None
            ),
            "failureRate": failed[kind] / finished[kind] if finished[kind] else None,
        }
        for kind in steps
    }


def actual_node_types(stats: dict[str, Any]) -> dict[str, dict[str, Any]]:
    # Every node type is listed; the expectation has only those with steps.
    return {
        row["nodeType"]: {key: row[key] for key in ("steps", "averageDurationMs", "failureRate")}
        for row in stats["byNodeType"]
        if row["steps"]
    }


def flat(nested: dict[Any, Any], prefix: str = "") -> dict[str, Any]:
    """`{"a": {"b": 1}}` -> `{"a.b": 1}`: pytest.approx compares flat mappings only."""
    out: dict[str, Any] = {}
    for key, value in nested.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def assert_close(actual: dict[Any, Any], expected: dict[Any, Any]) -> None:
    # Floats from two computations (Decimal sums, interpolations) agree to rounding only.
    assert flat(actual) == pytest.approx(flat(expected), rel=1e-9, abs=1e-6)


async def test_totals_status_counts_and_percentiles_match_the_rows(
    client: httpx.AsyncClient, store: Store
) -> None:
    # given
    rows = store.in_window()
    assert len(rows) > 100, "the seed should put executions in the last 30 days"

    # when
    stats = await dashboard(client, **WINDOW)

    # then
    assert stats["since"] == SINCE.isoformat()
    assert stats["until"] == UNTIL.isoformat()
    assert [row["status"] for row in stats["byStatus"]] == [
        "PENDING", "RUNNING", "PAUSED", "SUCCEEDED", "FAILED", "CANCELLED"
    ]  # fmt: skip
    assert_close(actual_totals(stats), expected_totals(rows))


async def test_usage_per_provider_matches_the_rows(client: httpx.AsyncClient, store: Store) -> None:
    # given
    by_provider: defaultdict[str | None, list[Any]] = defaultdict(list)
    for row in store.in_window():
        by_provider[row.ai_provider].append(row)
    expected = {
        provider: {
            "executions": len(rows),
            "cost": float(sum((row.cost for row in rows), Decimal(0))),
            "tokens": sum(row.tokens for row in rows),
        }
        for provider, rows in by_provider.items()
    }

    # when
    stats = await dashboard(client, **WINDOW)

    # then
    actual = {
        row["provider"]: {key: row[key] for key in ("executions", "cost", "tokens")}
        for row in stats["byProvider"]
    }
    assert_close(actual, expected)
    counts = [row["executions"] for row in stats["byProvider"]]
    assert counts == sorted(counts, reverse=True), "most used first"


async def test_per_day_lists_every_day_of_the_window_with_zeros(
    client: httpx.AsyncClient, store: Store
) -> None:
    # given
    days = {SINCE.date() + timedelta(days=n) for n in range((UNTIL.date() - SINCE.date()).days + 1)}
    expected = {day: {"total": 0, "succeeded": 0, "failed": 0} for day in days}
    for row in store.in_window():
        counts = expected[row.started_at.astimezone(UTC).date()]
        counts["total"] += 1
        if row.status in ("succeeded", "failed"):
            counts[row.status] += 1

    # when
    stats = await dashboard(client, **WINDOW)

    # then
    listed = [date.fromisoformat(row["day"]) for row in stats["perDay"]]
    assert listed == sorted(days), "every UTC day of the window, oldest first, none twice"
    actual = {
        date.fromisoformat(row["day"]): {k: row[k] for k in ("total", "succeeded", "failed")}
        for row in stats["perDay"]
    }
    assert actual == expected
    assert sum(row["total"] for row in stats["perDay"]) == stats["totalExecutions"]


async def test_top_failing_agents_are_those_with_most_failures(
    client: httpx.AsyncClient, store: Store
) -> None:
    # given
    rows = store.in_window()
    failures = Counter(row.agent_id for row in rows if row.status == "failed")
    executions = Counter(row.agent_id for row in rows)
    ranked = sorted(failures, key=lambda agent: (-failures[agent], store.agent_names[agent], agent))
    expected = [
        {
            "agent": {"id": to_global_id("Agent", agent), "name": store.agent_names[agent]},
            "failures": failures[agent],
            "executions": executions[agent],
        }
        for agent in ranked[:5]
    ]

    # when
    stats = await dashboard(client, **WINDOW)

    # then
    assert expected, "the seed should have failed executions in the window"
    assert stats["topFailingAgents"] == expected


async def test_node_type_figures_match_the_traces(client: httpx.AsyncClient, store: Store) -> None:
    # given
    expected = expected_node_types(store.traces)
    assert expected, "the seed should have trace steps in the window"

    # when
    stats = await dashboard(client, **WINDOW)

    # then
    assert [row["nodeType"] for row in stats["byNodeType"]] == [
        "AI", "HUMAN", "DECISION", "ACTION", "TIMER"
    ]  # fmt: skip
    assert_close(actual_node_types(stats), expected)


async def test_agent_filter_narrows_every_figure(client: httpx.AsyncClient, store: Store) -> None:
    # given: the agent with the most executions in the window
    rows = store.in_window()
    agent_id, _ = Counter(row.agent_id for row in rows).most_common(1)[0]
    agent_rows = store.in_window(agent_id=agent_id)

    # when
    stats = await dashboard(client, **WINDOW, agentId=to_global_id("Agent", agent_id))

    # then
    assert 0 < stats["totalExecutions"] < len(rows)
    assert_close(actual_totals(stats), expected_totals(agent_rows))
    assert sum(row["total"] for row in stats["perDay"]) == len(agent_rows)
    assert {row["agent"]["id"] for row in stats["topFailingAgents"]} <= {
        to_global_id("Agent", agent_id)
    }


async def test_agent_filter_narrows_node_type_figures(
    client: httpx.AsyncClient, store: Store
) -> None:
    # given
    with_agent = [trace for trace in store.traces if trace.get("agent_id") is not None]
    if not with_agent:
        pytest.skip("no seeded trace carries agent_id yet, so traces cannot be told apart by agent")
    agent_id, _ = Counter(trace["agent_id"] for trace in with_agent).most_common(1)[0]
    expected = expected_node_types([t for t in with_agent if t["agent_id"] == agent_id])

    # when
    stats = await dashboard(client, **WINDOW, agentId=to_global_id("Agent", agent_id))

    # then
    assert_close(actual_node_types(stats), expected)
    assert sum(row["steps"] for row in stats["byNodeType"]) < len(
        [s for t in store.traces for s in t.get("steps", []) if SINCE <= s["started_at"] < UNTIL]
    )


async def test_workflow_filter_narrows_to_the_workflow(
    client: httpx.AsyncClient, store: Store
) -> None:
    # given
    workflows = Counter(row.workflow_id for row in store.in_window() if row.workflow_id)
    if not workflows:
        pytest.skip("no seeded execution in the window belongs to a workflow")
    workflow_id, _ = workflows.most_common(1)[0]

    # when
    stats = await dashboard(client, **WINDOW, workflowId=to_global_id("Workflow", workflow_id))

    # then
    assert_close(actual_totals(stats), expected_totals(store.in_window(workflow_id=workflow_id)))


async def test_another_organizations_agent_sees_nothing(
    client: httpx.AsyncClient, store: Store, services: Services
) -> None:
    # given: an agent of another tenant
    async with services.postgres.session() as session:
        foreign = await session.scalar(
            text("SELECT id FROM agents WHERE organization_id <> :org LIMIT 1"),
            {"org": store.organization_id},
        )
    if foreign is None:
        pytest.skip("the seed created a single organization")

    # when
    stats = await dashboard(client, **WINDOW, agentId=to_global_id("Agent", foreign))

    # then
    assert stats["totalExecutions"] == 0
    assert stats["topFailingAgents"] == []
    assert all(row["steps"] == 0 for row in stats["byNodeType"])


async def test_window_defaults_to_the_last_30_days(client: httpx.AsyncClient) -> None:
    # when
    response = await client.post("/graphql", json={"query": WINDOW_ONLY})

    # then
    stats = response.json()["data"]["dashboardStats"]
    since, until = datetime.fromisoformat(stats["since"]), datetime.fromisoformat(stats["until"])
    assert abs(until - datetime.now(UTC)) < timedelta(minutes=1)
    assert until - since == timedelta(days=30)


async def test_since_after_until_is_bad_input_naming_since(client: httpx.AsyncClient) -> None:
    # when
    errors = await errors_of(client, WINDOW_ONLY, since=UNTIL.isoformat(), until=SINCE.isoformat())

    # then
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["extensions"]["argument"] == "since"
    assert "`since`" in errors[0]["message"]


async def test_window_longer_than_a_year_is_bad_input(client: httpx.AsyncClient) -> None:
    # when
    errors = await errors_of(
        client,
        WINDOW_ONLY,
        since=(UNTIL - timedelta(days=400)).isoformat(),
        until=UNTIL.isoformat(),
    )

    # then
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["extensions"]["argument"] == "since"


async def test_malformed_agent_id_is_bad_input_naming_agent_id(client: httpx.AsyncClient) -> None:
    # when
    errors = await errors_of(client, DASHBOARD, agentId="not-an-id")

    # then
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["extensions"]["argument"] == "agentId"
    assert "`agentId`" in errors[0]["message"]


async def test_costs_three_sql_round_trips_and_one_mongo(
    client: httpx.AsyncClient, store: Store
) -> None:
    # given: the principal is already known (it is looked up once per process)
    await dashboard(client, **WINDOW)

    # when
    response = await client.post("/graphql", json={"query": DASHBOARD, "variables": WINDOW})

    # then
    assert response.json()["extensions"]["roundTrips"] == {"sql": 3, "mongo": 1}


async def test_mongo_is_asked_only_for_node_types(client: httpx.AsyncClient, store: Store) -> None:
    # given: the principal is already known
    await dashboard(client, **WINDOW)

    # when
    response = await client.post("/graphql", json={"query": SQL_FIGURES_ONLY, "variables": WINDOW})

    # then
    body = response.json()
    assert body["data"]["dashboardStats"]["totalExecutions"] == len(store.in_window())
    assert body["extensions"]["roundTrips"] == {"sql": 3, "mongo": 0}

"""`usage`: AI calls, tokens and cost per period, from the seeded steps, checked against the
traces themselves (the executions' side only: the chats' side and the two together are
tests/test_usage_chats.py's)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from flowgate.services import Services
from models.documents import ExecutionTrace
from models.sql import Agent
from resolvers.ids import to_global_id
from tests.auth import ADMIN, error_codes, user_by_email
from tests.graphql import gql, gql_data

USAGE = """
query Usage($since: DateTime, $until: DateTime, $bucket: UsageBucket!, $groupBy: UsageGroup!) {
  usage(since: $since, until: $until, bucket: $bucket, groupBy: $groupBy,
        sources: [EXECUTIONS]) {
    period calls tokens promptTokens completionTokens cost provider model agent { id } user { id }
  }
}
"""


@pytest.fixture
async def steps(services: Services, seeded: object) -> tuple[datetime, datetime, list[Any]]:
    """The window of the 7 days up to the last seeded step, and (trace, step) in it."""
    admin = await user_by_email(services, ADMIN)
    traces = await ExecutionTrace.find({"organization_id": admin.organization_id}).to_list()
    last = max(step.started_at for trace in traces for step in trace.steps)
    until = last.replace(tzinfo=UTC) + timedelta(seconds=1)
    since = until - timedelta(days=7)
    chosen = [
        (trace, step)
        for trace in traces
        for step in trace.steps
        if since <= step.started_at.replace(tzinfo=UTC) < until and step.ai_provider
    ]
    assert chosen, "the seed has no AI steps in its last week"
    return since, until, chosen


def _day(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC, hour=0, minute=0, second=0, microsecond=0).isoformat()


async def test_usage_per_provider_and_day_matches_the_steps(
    client: httpx.AsyncClient, steps: tuple[datetime, datetime, list[Any]]
) -> None:
    since, until, chosen = steps
    expected: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for _, step in chosen:
        totals = expected[(_day(step.started_at), step.ai_provider)]
        totals[0] += 1
        totals[1] += step.tokens
        totals[2] += step.prompt_tokens or 0
        totals[3] += step.completion_tokens or 0
    variables = {"since": since.isoformat(), "until": until.isoformat(), "bucket": "DAY",
                 "groupBy": "PROVIDER"}  # fmt: skip
    points = (await gql_data(client, USAGE, variables))["usage"]
    got = {
        (datetime.fromisoformat(p["period"]).isoformat(), p["provider"]): [
            p["calls"],
            p["tokens"],
            p["promptTokens"],
            p["completionTokens"],
        ]
        for p in points
    }
    assert got == dict(expected)
    periods = [p["period"] for p in points]
    assert periods == sorted(periods)


async def test_weeks_and_models_fold_the_same_calls(
    client: httpx.AsyncClient,
    services: Services,
    steps: tuple[datetime, datetime, list[Any]],
) -> None:
    since, until, chosen = steps
    async with services.postgres.session() as session:
        result = await session.execute(select(Agent.id, Agent.configuration["model"].astext))
        models = {agent_id: model for agent_id, model in result.all()}
    expected: dict[str | None, int] = defaultdict(int)
    for trace, _ in chosen:
        expected[models.get(trace.agent_id)] += 1
    variables = {"since": since.isoformat(), "until": until.isoformat(), "bucket": "WEEK",
                 "groupBy": "MODEL"}  # fmt: skip
    points = (await gql_data(client, USAGE, variables))["usage"]
    totals: dict[str | None, int] = defaultdict(int)
    for point in points:
        assert datetime.fromisoformat(point["period"]).weekday() == 0  # a Monday
        totals[point["model"]] += point["calls"]
    assert totals == expected


async def test_agents_and_users_are_resolved(
    client: httpx.AsyncClient, steps: tuple[datetime, datetime, list[Any]]
) -> None:
    since, until, chosen = steps
    window = {"since": since.isoformat(), "until": until.isoformat(), "bucket": "WEEK"}
    by_agent = (await gql_data(client, USAGE, {**window, "groupBy": "AGENT"}))["usage"]
    agents = {to_global_id("Agent", trace.agent_id) for trace, _ in chosen}
    assert {p["agent"]["id"] for p in by_agent if p["agent"]} == agents
    by_user = (await gql_data(client, USAGE, {**window, "groupBy": "USER"}))["usage"]
    assert sum(p["calls"] for p in by_user) == len(chosen)
    assert all(p["provider"] is None and p["agent"] is None for p in by_user)


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
        ({"since": "2025-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
    ],
)
async def test_a_bad_window_is_named(
    client: httpx.AsyncClient, variables: dict[str, Any], argument: str
) -> None:
    body = await gql(client, USAGE, {**variables, "bucket": "DAY", "groupBy": "PROVIDER"})
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["argument"] == argument


async def test_round_trips_do_not_grow_with_the_points(
    client: httpx.AsyncClient, steps: tuple[datetime, datetime, list[Any]]
) -> None:
    since, until, _ = steps

    async def run(start: datetime) -> dict[str, Any]:
        variables = {"since": start.isoformat(), "until": until.isoformat(), "bucket": "HOUR",
                     "groupBy": "AGENT"}  # fmt: skip
        response = await client.post("/graphql", json={"query": USAGE, "variables": variables})
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return body

    small, large = await run(until - timedelta(hours=2)), await run(since)
    assert len(large["data"]["usage"]) > max(101, len(small["data"]["usage"]))
    assert small["extensions"]["roundTrips"] == large["extensions"]["roundTrips"]

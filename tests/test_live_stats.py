"""`dashboardStatsChanged` through a real websocket client: the figures of `dashboardStats`
at once, then again when events change them (at most once a second, once per group)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI

from flowgate.metrics import SUBSCRIPTION_RENDERS
from tests.scratch import Scratch, gql
from tests.test_board import refusal, run_execution, wait_for_hub
from tests.test_execution_lifecycle import start
from tests.test_subscriptions import Live, live
from tests.ws import connect

__all__ = ["live"]  # the fixture, shared with tests.test_subscriptions

FIGURES = "totalExecutions byStatus { status count } totalCost totalTokens since until"
LIVE = f"""
subscription($w: Int!, $f: DashboardStatsFilter) {{
  dashboardStatsChanged(window: $w, filter: $f) {{ {FIGURES} }}
}}
"""
STATS = f"""
query($since: DateTime!, $until: DateTime!, $a: ID) {{
  dashboardStats(since: $since, until: $until, agentId: $a) {{ {FIGURES} }}
}}
"""


def _succeeded(figures: dict[str, Any]) -> int:
    return next(row["count"] for row in figures["byStatus"] if row["status"] == "SUCCEEDED")


def _all_succeeded(count: int) -> Callable[[dict[str, Any]], bool]:
    return lambda figures: _succeeded(figures) == figures["totalExecutions"] == count


def _counted(count: int) -> Callable[[dict[str, Any]], bool]:
    return lambda figures: bool(figures["totalExecutions"] == count)


async def _figures(
    live: Live,
    variables: dict[str, Any],
    done: Callable[[dict[str, Any]], bool],
    into: list[dict[str, Any]],
) -> None:
    """Figures until a set is `done`."""
    async with connect(live.url, live.payload) as ws:
        operation = await ws.subscribe(LIVE, variables)
        async for payload in ws.results(operation, timeout=30):
            assert not payload.get("errors"), payload
            into.append(payload["data"]["dashboardStatsChanged"])
            if done(into[-1]):
                return


async def test_the_figures_come_at_once_then_as_executions_change_them(
    scratch: Scratch, live: Live, app: FastAPI
) -> None:
    # given: a live dashboard of one (new) agent
    agent_id = await scratch.create_agent("figures")
    variables = {"w": 3600, "f": {"agentId": agent_id}}
    received: list[dict[str, Any]] = []
    before = app.state.services.bus.hub.subscriber_count
    watcher = asyncio.create_task(_figures(live, variables, _all_succeeded(3), received))
    await wait_for_hub(app, before)

    # when: three executions run (a burst of status changes and steps)
    for _ in range(3):
        await run_execution(scratch, agent_id, steps=1)
    await asyncio.wait_for(watcher, 60)

    # then: the first figures were the empty ones, the last count all three
    assert received[0]["totalExecutions"] == 0
    last = received[-1]
    assert last["totalExecutions"] == _succeeded(last) == 3
    # each set is `dashboardStats` of its own window
    for figures in (received[0], last):
        window = {"since": figures["since"], "until": figures["until"], "a": agent_id}
        assert (await gql(scratch.client, STATS, window))["dashboardStats"] == figures
    # at most one set a second (the window ends when they were computed)
    ends = [datetime.fromisoformat(figures["until"]) for figures in received]
    assert all((b - a).total_seconds() >= 1 for a, b in itertools.pairwise(ends))


async def test_alike_dashboards_get_the_figures_computed_once(
    scratch: Scratch, live: Live, app: FastAPI
) -> None:
    # given: three dashboards with the same arguments
    agent_id = await scratch.create_agent("shared-figures")
    variables = {"w": 3600, "f": {"agentId": agent_id}}
    received: list[list[dict[str, Any]]] = [[], [], []]
    before = app.state.services.bus.hub.subscriber_count
    renders = SUBSCRIPTION_RENDERS._value.get()
    watchers = [
        asyncio.create_task(_figures(live, variables, _counted(1), into)) for into in received
    ]
    await wait_for_hub(app, before)
    await asyncio.sleep(0.5)  # every dashboard joined

    # when: an execution starts
    await start(scratch, agent_id)
    await asyncio.wait_for(asyncio.gather(*watchers), 60)

    # then: each got the same figures, each set computed once for all three
    assert received[0][-1] == received[1][-1] == received[2][-1]
    assert received[0][-1]["totalExecutions"] == 1
    assert SUBSCRIPTION_RENDERS._value.get() - renders == max(len(r) for r in received)
    # and the group left the hub with its last member
    async with asyncio.timeout(10):
        while app.state.services.bus.hub.subscriber_count > before:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"w": 0}, "window"),
        ({"w": 59}, "window"),
        ({"w": 366 * 86400 + 1}, "window"),
        ({"w": 3600, "f": {"agentId": "garbage"}}, "filter.agentId"),
        ({"w": 3600, "f": {"workflowId": "QWdlbnQ6MQ"}}, "filter.workflowId"),
    ],
)
async def test_a_bad_window_or_filter_gets_an_error_naming_it(
    live: Live, variables: dict[str, Any], argument: str
) -> None:
    errors = await refusal(live, LIVE, variables)
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", errors
    assert errors[0]["extensions"]["argument"] == argument

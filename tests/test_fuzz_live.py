"""Fuzzing the live board and figures (`executionUpdates`, `dashboardStatsChanged`) over a
real websocket: generated arguments (seeded, so a failure is reproducible) never crash an
operation or the socket; every refusal is a coded error. (`tests/test_fuzz.py` fuzzes
queries and mutations over HTTP, where subscriptions are refused.)"""

from __future__ import annotations

import base64
import random
from typing import Any

import pytest

from resolvers.live_stats import MAX_WINDOW_SECONDS
from tests.test_fuzz import unexpected_errors
from tests.test_subscriptions import Live, live
from tests.ws import GraphQLWebSocket, SubscriptionError, connect

__all__ = ["live"]  # the fixture, shared with tests.test_subscriptions

SEED = 1717
CASES = 40
BOARD = """
subscription($f: ExecutionUpdatesFilter, $p: Boolean!) {
  executionUpdates(filter: $f, progress: $p) { id kind status cost tokens progress { percent } }
}
"""
FIGURES = """
subscription($w: Int!, $f: DashboardStatsFilter) {
  dashboardStatsChanged(window: $w, filter: $f) {
    totalExecutions successRate byStatus { count } perDay { total } topFailingAgents { failures }
  }
}
"""
STATUSES = ["PENDING", "RUNNING", "PAUSED", "SUCCEEDED", "FAILED", "CANCELLED"]


def _id(rng: random.Random) -> str:
    kind = rng.choice(["Agent", "Workflow", "Execution", "User", "", "Agent:"])
    local = rng.choice(["", "1", "not-a-uuid", "00000000-0000-0000-0000-000000000000"])
    text = f"{kind}:{local}" if rng.random() < 0.8 else "".join(rng.choices("xyz=/+-_", k=9))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _ids(rng: random.Random) -> list[str] | None:
    return None if rng.random() < 0.3 else [_id(rng) for _ in range(rng.randint(0, 3))]


def _board(rng: random.Random) -> tuple[str, dict[str, Any]]:
    filter_: dict[str, Any] | None = None
    if rng.random() < 0.8:
        filter_ = {
            "agentIds": _ids(rng),
            "workflowIds": _ids(rng),
            "statuses": rng.sample(STATUSES, rng.randint(0, 3)) if rng.random() < 0.6 else None,
        }
    return BOARD, {"f": filter_, "p": rng.random() < 0.5}


def _figures(rng: random.Random) -> tuple[str, dict[str, Any]]:
    window = rng.choice(
        [-1, 0, 59, 60, 3600, MAX_WINDOW_SECONDS, MAX_WINDOW_SECONDS + 1, 2**31 - 1]
    )
    filter_ = None
    if rng.random() < 0.7:
        filter_ = {
            "agentId": _id(rng) if rng.random() < 0.6 else None,
            "workflowId": _id(rng) if rng.random() < 0.6 else None,
        }
    return FIGURES, {"w": window, "f": filter_}


def cases() -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(SEED)
    return [(_board if index % 2 else _figures)(rng) for index in range(CASES)]


async def _first(ws: GraphQLWebSocket, operation: str) -> dict[str, Any] | None:
    """The operation's first answer (its errors, if refused), or None if it stays quiet."""
    try:
        async for payload in ws.results(operation, timeout=1.0):
            return payload
    except TimeoutError:
        return None
    except SubscriptionError as refused:  # the protocol's `error` message
        return {"errors": refused.errors}
    return None


@pytest.mark.parametrize("index", range(0, CASES, 10))
async def test_no_generated_live_operation_crashes_the_gateway(live: Live, index: int) -> None:
    async with connect(live.url, live.payload) as ws:
        for query, variables in cases()[index : index + 10]:
            operation = await ws.subscribe(query, variables)
            answer = await _first(ws, operation)
            assert answer is None or not unexpected_errors(answer), (variables, answer)
            await ws.send({"id": operation, "type": "complete"})
        # the socket still serves
        check = await ws.subscribe("{ __typename }")
        answers = [payload async for payload in ws.results(check)]
        assert [answer["data"] for answer in answers] == [{"__typename": "Query"}]

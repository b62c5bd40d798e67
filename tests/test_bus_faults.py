"""The bus under faults, with real gateway processes and a private `redis-server`: a paused
Redis does not hold mutations, and a dashboard on another replica ends up with every status
change made while Redis was paused or down (filled from the log), never silence."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from flowgate.services import Services
from flowgate.settings import Settings
from tests.redis_server import RedisServer
from tests.scratch import Scratch, gql
from tests.test_execution_lifecycle import start
from tests.test_fanout import (
    CANCEL,
    UPDATES,
    Stream,
    _gateway_env,
    _gateways,
    _private_redis,
    _scratch_via,
    _wait_until,
    needs_redis_server,
    streams,
)

__all__ = ["streams"]  # the fixture, used by name

pytestmark = [pytest.mark.slow, needs_redis_server]

# A mutation must not wait for the bus: well under redis-py's 30 s, and the store timeout.
MUTATION_BOUND_SECONDS = 5.0
# A publish times out after 1 s (flowgate.bus.redis.PUBLISH_TIMEOUT); the rest is slack.
DEGRADED_WITHIN_SECONDS = 5.0
CHANGES = 4  # executions started and cancelled during the fault: 8 status changes


async def _live_dashboard(
    scratch: Scratch, streams: Callable[..., Stream], ws_url: str, agent_id: str
) -> Stream:
    """A dashboard on `ws_url` watching the agent, once a canary's change reached it."""
    updates = streams(ws_url, UPDATES, {"filter": {"agentIds": [agent_id]}}, "executionUpdates")
    deadline = time.monotonic() + 15
    while not updates.items:
        assert time.monotonic() < deadline, "executionUpdates never went live"
        await start(scratch, agent_id)
        await asyncio.sleep(0.5)
    return updates


async def _changes_during_fault(scratch: Scratch, agent_id: str) -> tuple[list[str], float]:
    """Start and cancel executions; their ids, and the slowest call in seconds."""
    ids, took = [], []
    for _ in range(CHANGES):
        began = time.monotonic()
        started = await start(scratch, agent_id)
        took.append(time.monotonic() - began)
        assert started["__typename"] == "StartExecutionPayload", started
        execution_id = started["execution"]["id"]
        began = time.monotonic()
        cancelled = await gql(scratch.client, CANCEL, {"id": execution_id})
        took.append(time.monotonic() - began)
        assert cancelled["cancelExecution"]["__typename"] == "FinishExecutionPayload"
        ids.append(execution_id)
    return ids, max(took)


async def _every_change_arrives(updates: Stream, ids: list[str]) -> None:
    def complete() -> bool:
        seen = {(u["id"], u["status"]) for u in updates.items}
        return all((i, s) in seen for i in ids for s in ("PENDING", "CANCELLED"))

    await _wait_until(complete, 20, "every status change made during the fault")
    mine = [(u["id"], u["status"]) for u in updates.items if u["id"] in ids]
    assert len(mine) == len(set(mine)), f"sent twice: {mine}"


def _bus_status(base_url: str) -> str:
    status: str = httpx.get(f"{base_url}/readyz", timeout=5).json()["bus"]["status"]
    return status


async def _across(
    fault: Callable[[RedisServer], None],
    recover: Callable[[RedisServer], None],
    services: Services,
    settings: Settings,
    tmp_path: Path,
    streams: Callable[..., Stream],
) -> float:
    with _private_redis(tmp_path) as redis:
        env = _gateway_env(settings, redis.url)
        async with (
            _gateways(2, env, tmp_path) as (gateway_a, gateway_b),
            _scratch_via(services, settings, gateway_a) as scratch,
        ):
            agent_id = await scratch.create_agent("bus-fault")
            ws_b = gateway_b.replace("http://", "ws://") + "/graphql"
            updates = await _live_dashboard(scratch, streams, ws_b, agent_id)

            # when: Redis fails while status changes are made through A
            fault(redis)
            try:
                ids, slowest = await _changes_during_fault(scratch, agent_id)
                # A learns of a paused Redis when a publish times out (PUBLISH_TIMEOUT after
                # it began), which may come after the mutations answered.
                await _wait_until(
                    lambda: _bus_status(gateway_a) in {"degraded", "down"},
                    DEGRADED_WITHIN_SECONDS,
                    "A reports its bus degraded",
                )
            finally:
                recover(redis)

            # then: the calls were not held by the bus ...
            assert slowest < MUTATION_BOUND_SECONDS, f"a mutation took {slowest:.1f}s"
            # ... and B's dashboard gets every change made meanwhile, each once
            await _every_change_arrives(updates, ids)
            await _wait_until(lambda: _bus_status(gateway_a) == "up", 20, "the bus recovers")
            return slowest


async def test_a_paused_redis_holds_no_mutation_and_loses_no_status_change(
    services: Services,
    settings: Settings,
    seeded: object,
    admin_key: str,  # the credential the websocket helpers sign in with
    tmp_path: Path,
    streams: Callable[..., Stream],
) -> None:
    slowest = await _across(
        RedisServer.pause, RedisServer.resume, services, settings, tmp_path, streams
    )
    print(f"paused Redis: slowest mutation {slowest:.2f}s")  # a figure for the notes


async def test_a_redis_outage_loses_no_status_change_on_another_replica(
    services: Services,
    settings: Settings,
    seeded: object,
    admin_key: str,
    tmp_path: Path,
    streams: Callable[..., Stream],
) -> None:
    slowest = await _across(
        RedisServer.stop, RedisServer.start, services, settings, tmp_path, streams
    )
    print(f"Redis down: slowest mutation {slowest:.2f}s")  # a figure for the notes

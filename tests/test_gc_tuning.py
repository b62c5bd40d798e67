"""The garbage collector's settings (`flowgate.gc_tuning`): every collection's pause is counted
in `flowgate_gc_pause_seconds`, a settling pass freezes what lives and never garbage, and
what a closed subscriber held is freed even when it was frozen."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager

import httpx
import pytest
from fastapi import FastAPI

from flowgate import gc_tuning
from tests.scratch import Scratch
from tests.test_execution_lifecycle import start
from tests.test_observe import scrape
from tests.ws import connect

UPDATES = """
subscription GcUpdates($filter: ExecutionUpdatesFilter) {
  executionUpdates(filter: $filter) { id status }
}
"""
SUBSCRIBERS = 40


class _Node:
    """An object that can be in a cycle and be watched (`weakref`)."""

    def __init__(self) -> None:
        self.other: _Node | None = None


@contextmanager
def _no_automatic_collections() -> Iterator[None]:
    # So that only the collections the code under test runs can free a cycle.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


async def test_a_collection_is_counted_by_generation(client: httpx.AsyncClient) -> None:
    # given: the app has started (its lifespan times the collections)
    count = ("flowgate_gc_pause_seconds_count", (("generation", "2"),))
    total = ("flowgate_gc_pause_seconds_sum", (("generation", "2"),))
    before = await scrape(client)

    # when: a full collection
    gc.collect()
    after = await scrape(client)

    # then: one more full collection, and its time
    assert after[count] - before.get(count, 0) >= 1
    assert after[total] > before.get(total, 0)


def test_a_settling_pass_collects_garbage_and_freezes_what_lives() -> None:
    with _no_automatic_collections():
        # given: a cycle that nobody holds, and one that is held
        garbage = _Node()
        garbage.other = garbage
        collected = weakref.ref(garbage)
        del garbage
        kept = _Node()
        kept.other = kept

        # when
        gc_tuning.freeze_survivors()

        # then: the garbage is gone, not frozen for good; what lives is out of the walk
        assert collected() is None
        assert gc.is_tracked(kept)
        assert not any(tracked is kept for tracked in gc.get_objects())

        # and a frozen object is still freed by its reference count once unused
        freed = weakref.ref(kept)
        kept.other = None
        del kept
        assert freed() is None


@pytest.mark.parametrize(("interval", "frozen"), [(0.05, True), (0, False)])
async def test_settling_passes_run_only_when_an_interval_is_set(
    interval: float, frozen: bool
) -> None:
    # given: something that lives
    kept = _Node()

    # when: the app's background passes run for a while
    async with gc_tuning.running_settler(interval):
        await asyncio.sleep(0.3)

    # then: with an interval it was frozen by a pass; without, it is walked as before
    assert any(tracked is kept for tracked in gc.get_objects()) is not frozen


async def _open_live_subscribers(
    stack: AsyncExitStack, scratch: Scratch, url: str, payload: dict[str, str], agent_id: str
) -> None:
    """`SUBSCRIBERS` sockets, closed with `stack`, each of which has received a status
    change (so its subscription is running on the server)."""
    subscribed = []
    for _ in range(SUBSCRIBERS):
        ws = await stack.enter_async_context(connect(url, payload))
        subscribed.append((ws, await ws.subscribe(UPDATES, {"filter": {"agentIds": [agent_id]}})))
    await start(scratch, agent_id)
    for ws, operation in subscribed:
        async for result in ws.results(operation):
            assert result["data"]["executionUpdates"]["status"] == "PENDING"
            break


async def _frozen_while_open_and_after(
    scratch: Scratch, app: FastAPI, url: str, payload: dict[str, str], agent_id: str
) -> tuple[int, int]:
    """Objects that subscribers added to the frozen ones while open (frozen by a pass), and
    that are still frozen once they have closed."""
    sockets = app.state.guards.sockets
    held_before = sockets.held
    gc_tuning.freeze_survivors()
    frozen_before = gc.get_freeze_count()
    async with AsyncExitStack() as stack:
        await _open_live_subscribers(stack, scratch, url, payload, agent_id)
        gc_tuning.freeze_survivors()
        frozen_open = gc.get_freeze_count()
    async with asyncio.timeout(10):
        while sockets.held > held_before:  # noqa: ASYNC110 - no event to await
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)  # their operations' tasks end after the socket
    # The credential checks hold each socket until their next pass (`auth_recheck_interval`)
    await app.state.guards.live_sessions.check()
    return frozen_open - frozen_before, gc.get_freeze_count() - frozen_before


async def test_what_closed_subscribers_held_is_freed_though_frozen(
    scratch: Scratch, app: FastAPI, live_server: str, admin_payload: dict[str, str]
) -> None:
    # given: subscribers that were open once already (what the first ones leave for good,
    # the caches and imports of the path, is not theirs)
    agent_id = await scratch.create_agent("gc-frozen")
    url = f"ws://{live_server}/graphql"
    await _frozen_while_open_and_after(scratch, app, url, admin_payload, agent_id)

    # when: subscribers open, each live (it received a status change), are frozen by a
    # pass, and close
    held, remaining = await _frozen_while_open_and_after(scratch, app, url, admin_payload, agent_id)

    # then: nearly all they held was freed by reference counts, no collection needed (none
    # frees a frozen object). What stays: cycles (mostly asyncio's transport, which holds its
    # own bound method; uvloop's, in `flowgate serve`, does not) and what the process did
    # meanwhile (timers, pools).
    assert held > SUBSCRIBERS * 100, "the subscribers were not frozen"
    assert remaining < held / 5

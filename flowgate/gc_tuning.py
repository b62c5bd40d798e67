"""The process's garbage-collector settings (the one home for them), and the time each
collection stops the process, counted in `flowgate_gc_pause_seconds`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from contextlib import AbstractAsyncContextManager
from typing import Any

from flowgate.background import in_background
from flowgate.metrics import GC_PAUSE

GC_YOUNG_THRESHOLD = 20_000

# One child per generation, found once: a collection must not pay for `labels()`.
_PAUSES = tuple(GC_PAUSE.labels(generation=str(generation)) for generation in range(3))
_began = [0.0]  # when the running collection started (collections never nest)


def _time_collection(phase: str, info: dict[str, Any]) -> None:
    # Called by the collector itself, which does not collect again while it runs its
    # callbacks. `observe` only adds floats under the histogram's locks, allocating nothing
    # the collector tracks, so no collection can start while this thread holds one of them.
    if phase == "start":
        _began[0] = time.perf_counter()
    else:
        _PAUSES[info["generation"]].observe(time.perf_counter() - _began[0])


def time_pauses() -> None:
    """Count every collection's pause from now on (once per process, however many apps)."""
    if _time_collection not in gc.callbacks:
        gc.callbacks.append(_time_collection)


def settle() -> None:
    """Tune the collector once start-up is done (the app's lifespan, before serving)."""
    time_pauses()
    # What start-up built (the schema, the mappers, the pools) lives as long as the process:
    # out of the collector's way, full collections stop walking it (about 10% of the CPU of
    # a 100-agent page). Collected first: a frozen object is never collected, and start-up
    # leaves cycles behind (a few hundred objects: the migrations' scripts, modules).
    freeze_survivors()
    # A young generation of 700 objects is collected thousands of times per large answer;
    # fewer, larger collections cost less (issue 16: GC was 8-13% of the CPU after the
    # freeze).
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)


def freeze_survivors() -> None:
    """Collect what is not frozen yet, then freeze what survived: no garbage is frozen."""
    gc.collect()
    gc.freeze()


async def settle_forever(interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        freeze_survivors()


def running_settler(interval: float) -> AbstractAsyncContextManager[None]:
    """Settling passes every `interval` seconds for the block (0, the default: none).

    Why they exist: a subscriber holds about 250 objects the collector tracks while its
    socket is open, and every full collection walks them all and stops the process while it
    does (0.3-0.4 s at 1,000 idle subscribers, 1.5 s at 5,000, measured in `flowgate serve`
    under `bench.subscribers`). After a pass they are frozen: 7 ms at 1,000. A pass walks
    only what came since the last one, and what is frozen is still freed by its reference
    count once unused (a closed subscriber's objects are: tests/test_gc_tuning.py).

    Why they are off: a frozen object is never collected, so whatever is alive during a
    pass and later becomes garbage in a cycle stays for good: 2 to 4 objects per closed
    subscriber in `flowgate serve` (asyncpg's UUIDs, graphql-core's collected fields), and
    the cycles of the requests in flight at each pass. And a pass is a pause of its own
    (about 80 ms each at 5,000 subscribers, every 10 s). Full collections are rare at these
    thresholds (none while `bench.subscribers` published, at 1,000 and 5,000), so the trade
    is not worth it until those cycles are gone."""
    if not interval:
        return contextlib.nullcontext()
    return in_background(lambda: settle_forever(interval), name="gc-settler")

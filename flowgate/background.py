"""Background tasks that live as long as the app: the outbox relay, the search indexer, the
checks of live sessions. Each runs for the duration of an `async with` in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any


@contextlib.asynccontextmanager
async def in_background(
    run: Callable[[], Coroutine[Any, Any, None]], *, name: str
) -> AsyncIterator[None]:
    """`run()` as a task for the block, cancelled and awaited when the block ends: the
    lifespan leaves these blocks before it closes the stores, so no task outlives the
    stores it uses. (`run` is called only on entry, so that a block never entered leaves no
    coroutine behind unawaited.)"""
    task = asyncio.create_task(run(), name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

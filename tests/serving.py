"""An app served by uvicorn on a port of its own, for the tests' real websocket clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from flowgate.stores.embedded import free_port


@asynccontextmanager
async def serving(app: Any, **options: Any) -> AsyncIterator[int]:
    """`app` on 127.0.0.1 at a free port (yielded) until the block ends, with uvicorn's
    `options`. Lifespan off: the fixtures that made the app have opened its services."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", **options
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110  # uvicorn offers a flag, not an event
        await asyncio.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        await task

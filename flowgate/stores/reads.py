"""A request's reads share one connection at a time.

Loader batches of one nesting level run concurrently; each used to check a connection out of
the pool, and each pooled connection prepares its statements and introspects its types for
itself, so what a request cost on the wire depended on which connections it happened to get.
Here a request's reads take turns on one autocommit connection (no BEGIN, no ROLLBACK), held
while any of them is running or waiting and given back to the pool as soon as none is: a
request waiting on MongoDB holds no PostgreSQL connection.

The lease is per request, in a context variable set where the request's context is built
(`flowgate.app`), so the loaders' tasks (which copy the context) find it. Outside a request
(scripts, tests, websockets) each read gets its own connection, as before.

A read must not wait on another read of the same request while it holds the session (a
loader batch that loads through another loader inside its `async with`): the two would wait
on each other. The wait for a turn is bounded by the store timeout, so such a mistake fails
as STORE_UNAVAILABLE instead of hanging."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession


class RequestReads:
    def __init__(self, engine: AsyncEngine, timeout: float) -> None:
        self._engine = engine  # an autocommit engine: `Postgres.read_engine`
        self._timeout = timeout
        self._turn = asyncio.Lock()
        self._users = 0  # reads running or waiting for their turn
        self._connection: AsyncConnection | None = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        self._users += 1
        try:
            async with asyncio.timeout(self._timeout):
                await self._turn.acquire()
            try:
                if self._connection is None:
                    self._connection = await self._engine.connect()
                async with AsyncSession(self._connection, expire_on_commit=False) as session:
                    yield session
            finally:
                self._turn.release()
        finally:
            self._users -= 1
            if self._users == 0 and self._connection is not None:
                connection, self._connection = self._connection, None
                await connection.close()


current_reads: ContextVar[RequestReads | None] = ContextVar("request_reads", default=None)


def start_request_reads(engine: AsyncEngine, timeout: float) -> RequestReads:
    """Give the current context (a request) its lease and return it."""
    reads = RequestReads(engine, timeout)
    current_reads.set(reads)
    return reads

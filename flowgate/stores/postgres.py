"""PostgreSQL through SQLAlchemy's async engine and asyncpg."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import greenlet_spawn

from flowgate import tracing
from flowgate.settings import Settings
from flowgate.stores.errors import StoreUnavailableError
from flowgate.stores.reads import RequestReads, current_reads, start_request_reads
from flowgate.stores.roundtrips import count_sql, instrument_engine


class Postgres:
    """The engine and its session factory; one per process, opened by the app's lifespan."""

    def __init__(self, settings: Settings, *, bounded: bool = False) -> None:
        """`bounded`: every wait of every statement is bounded by the store timeout (the
        gateway's requests); unbounded, only connecting is (migrations, seeding, doctor,
        whose statements may legitimately run longer)."""
        bounds: dict[str, Any] = {}
        if bounded:
            # A connection from the pool, and each statement (asyncpg's `command_timeout`,
            # enforced by the client, so a stalled server cannot hold a request). Each
            # raises a timeout, which the error mapping answers with STORE_UNAVAILABLE.
            bounds = {"command_timeout": settings.store_timeout}
        self.engine: AsyncEngine = create_async_engine(
            settings.sqlalchemy_url,
            pool_size=settings.database_pool_size,
            max_overflow=0,  # see `Settings.database_pool_size`
            pool_pre_ping=False,
            pool_timeout=settings.store_timeout if bounded else 30.0,
            connect_args={"timeout": settings.store_timeout, **bounds},
            # JSONB columns come back through orjson: the stdlib decoder was the costliest
            # single function of a 10 x 10 page (input and result of every execution).
            json_deserializer=_json_loads,
            # Last in, first out: under light load one connection serves request after
            # request, with its statements prepared and its types known (FIFO rotated
            # through all ten, each preparing for itself).
            pool_use_lifo=True,
        )
        instrument_engine(self.engine)
        tracing.instrument_engine(self.engine)
        # expire_on_commit=False: objects stay readable after commit, without a reload trip.
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Reads of one statement (loader batches, compiled fields) need no transaction: on
        # an autocommit connection they cost no BEGIN and no ROLLBACK on the wire.
        self.read_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)
        self._timeout = settings.store_timeout

    def session(self) -> AsyncSession:
        return self.sessions()

    def read_session(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session for reads only, without a transaction (see `read_engine`): on the
        request's shared read connection within a request (`flowgate.stores.reads`), else
        on a connection of its own."""
        reads = current_reads.get()
        return self.read_sessions() if reads is None else reads.session()

    def start_request_reads(self) -> RequestReads:
        """Called where a request's context is built: its reads share one connection."""
        return start_request_reads(self.read_engine, self._timeout)

    async def fetch_value(self, sql: str, parameters: Sequence[Any]) -> Any:
        """The one value of a read of one statement (`sql` in the driver's own parameter
        style), sent to asyncpg directly on a connection of the engine's pool.

        For the compiled statements (`resolvers.compiled.run`), run again and again:
        SQLAlchemy's connection, result and event dispatch around the driver cost about half
        the CPU of a one-agent query (issue 16). What the engine gives every statement is
        kept: the pool's size, wait bound and LIFO order; the statement timeout (asyncpg's
        `command_timeout`, set on every connection); no transaction (asyncpg runs a lone
        statement in its own, without BEGIN or ROLLBACK on the wire); the round-trip count
        and the span (`count_sql`, `tracing.sql_statement`, as the engine's events make
        them); the driver's prepared-statement cache. A connection that failed otherwise
        than by an error PostgreSQL reported is not given back to the pool."""
        pool = self.engine.sync_engine.pool
        connection = await greenlet_spawn(pool.connect)
        # `Any | None` to the type checker; a connection just checked out is open.
        driver: Any = connection.driver_connection
        try:
            count_sql()
            with tracing.sql_statement(sql):
                return await driver.fetchval(sql, *parameters)
        except BaseException as error:
            # An error PostgreSQL reported leaves the connection usable, unless it ended it
            # (an administrator's termination, a shutdown); anything else (a lost socket, a
            # timeout, a cancelled request) may have left it mid-protocol.
            reported = isinstance(error, asyncpg.PostgresError)
            if not reported or driver.is_closed():
                connection.invalidate(error if isinstance(error, Exception) else None)
            raise
        finally:
            await greenlet_spawn(connection.close)

    async def ping(self) -> float:
        """Run `SELECT 1`; return the latency in milliseconds or raise StoreUnavailableError."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._timeout), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:  # any driver or network failure means "down"
            raise StoreUnavailableError("database_url", "PostgreSQL", describe(error)) from error
        return (time.perf_counter() - started) * 1000

    async def close(self) -> None:
        await self.engine.dispose()


def describe(error: BaseException) -> str:
    """A one-line description of a driver error, without the traceback."""
    if isinstance(error, TimeoutError):
        return "timed out"
    text_ = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text_[:300]


def _json_loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        # What orjson refuses and `json` reads (integers beyond 64 bits, for one).
        return json.loads(text)

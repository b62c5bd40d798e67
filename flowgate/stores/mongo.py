"""MongoDB through pymongo's async client and Beanie."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from typing import Any

import pymongo
from beanie import init_beanie
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from flowgate import tracing
from flowgate.settings import Settings
from flowgate.stores.errors import StoreUnavailableError
from flowgate.stores.postgres import describe
from flowgate.stores.roundtrips import MongoCommandCounter
from models.documents import ALL_DOCUMENTS

# See `Mongo.__init__`.
SELECTION_TIMEOUT_MS = 2000
HEARTBEAT_MS = 2000


# What a one-shot command's scan may take (doctor, over every event of every execution).
LONG_OPERATION_SECONDS = 3600.0


def long_operations() -> AbstractContextManager[None]:
    """Operations in this block may take up to `LONG_OPERATION_SECONDS` each, whatever the
    client's per-operation bound: Beanie's documents use the process's last-opened client,
    which in a gateway is the bounded one."""
    return pymongo.timeout(LONG_OPERATION_SECONDS)


class Mongo:
    """The client and database; one per process. Beanie is initialised on open, which also
    creates the declared indexes (idempotently)."""

    def __init__(self, settings: Settings, *, bounded: bool = False) -> None:
        """`bounded`: as `Postgres`; unbounded, only connecting and finding the server are
        (an index build of `flowgate seed` may run longer than a request may)."""
        if settings.mongodb_url is None:
            raise RuntimeError("mongodb_url is not resolved: start the embedded stores first")
        timeout_ms = int(settings.store_timeout * 1000)
        write_concern = settings.mongodb_write_concern
        bounds: dict[str, Any] = {"serverSelectionTimeoutMS": timeout_ms}
        if bounded:
            bounds = {
                # A known outage (the driver's monitor has marked the server down) fails a
                # request after this short wait for the server to come back, not after
                # the whole store timeout.
                "serverSelectionTimeoutMS": min(timeout_ms, SELECTION_TIMEOUT_MS),
                # Bounds each operation as a whole (pool checkout, selection, every round
                # trip): a stalled server is answered within the store timeout.
                "timeoutMS": timeout_ms,
                # How often the driver probes a server it knows to be down.
                "heartbeatFrequencyMS": HEARTBEAT_MS,
            }
        self.client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
            settings.mongodb_url,
            uuidRepresentation="standard",
            tz_aware=True,
            connectTimeoutMS=timeout_ms,
            # Durable by default: see `Settings.mongodb_write_concern`.
            w=int(write_concern) if write_concern.isdigit() else write_concern,
            journal=settings.mongodb_journal,
            **bounds,
            event_listeners=[MongoCommandCounter(), tracing.MongoCommandSpans()],
        )
        self.database: AsyncDatabase[dict[str, object]] = self.client[settings.mongodb_database]

    async def open(self) -> None:
        await self.ping()
        await init_beanie(database=self.database, document_models=ALL_DOCUMENTS)

    async def ping(self) -> float:
        started = time.perf_counter()
        try:
            await self.client.admin.command("ping")
        except Exception as error:  # any driver or network failure means "down"
            raise StoreUnavailableError("mongodb_url", "MongoDB", describe(error)) from error
        return (time.perf_counter() - started) * 1000

    async def close(self) -> None:
        await self.client.close()

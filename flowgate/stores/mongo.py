"""MongoDB through pymongo's async client and Beanie."""

from __future__ import annotations

import time

from beanie import init_beanie
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from flowgate import tracing
from flowgate.settings import Settings
from flowgate.stores.errors import StoreUnavailableError
from flowgate.stores.postgres import describe
from flowgate.stores.roundtrips import MongoCommandCounter
from models.documents import ALL_DOCUMENTS


class Mongo:
    """The client and database; one per process. Beanie is initialised on open, which also
    creates the declared indexes (idempotently)."""

    def __init__(self, settings: Settings) -> None:
        if settings.mongodb_url is None:
            raise RuntimeError("mongodb_url is not resolved: start the embedded stores first")
        timeout_ms = int(settings.store_timeout * 1000)
        self.client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
            settings.mongodb_url,
            uuidRepresentation="standard",
            tz_aware=True,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
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

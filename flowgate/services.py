"""The process-wide services: opened once by the app's lifespan, shared by every request.

Requests never share anything mutable beyond these pools and clients: loaders, sessions and
the principal are per request (`resolvers.context`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog

from flowgate.bus.base import EventBus
from flowgate.bus.factory import create_bus
from flowgate.search.base import SearchIndex
from flowgate.search.factory import create_search_index
from flowgate.settings import Settings
from flowgate.stores.mongo import Mongo
from flowgate.stores.postgres import Postgres

log = structlog.get_logger(__name__)

CLOSE_TIMEOUT = 2.0


@dataclass
class Services:
    settings: Settings
    postgres: Postgres
    mongo: Mongo
    bus: EventBus
    search: SearchIndex

    @classmethod
    async def open(cls, settings: Settings, *, bounded: bool = False) -> Services:
        """`bounded` for the gateway: every store call of a request is bounded by
        `store_timeout` (see `Postgres`); one-shot commands run unbounded."""
        postgres = Postgres(settings, bounded=bounded)
        mongo = Mongo(settings, bounded=bounded)
        bus = create_bus(settings)
        try:
            await postgres.ping()
            await mongo.open()
            await bus.start()
        except BaseException:
            await postgres.close()
            await mongo.close()
            await bus.close()
            raise
        # Not reached out to here: a search index that is down must not stop the gateway.
        search = create_search_index(settings, postgres)
        return cls(settings=settings, postgres=postgres, mongo=mongo, bus=bus, search=search)

    async def close(self) -> None:
        """Close every client, each within `CLOSE_TIMEOUT`: a store that hangs (paused,
        or dead mid-handshake) must not hold the process's shutdown."""
        for close in (self.search.close, self.bus.close, self.mongo.close, self.postgres.close):
            try:
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await close()
            except TimeoutError:
                log.warning("store client did not close in time", client=close.__qualname__)

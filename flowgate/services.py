"""The process-wide services: opened once by the app's lifespan, shared by every request.

Requests never share anything mutable beyond these pools and clients: loaders, sessions and
the principal are per request (`flowgate.context`)."""

from __future__ import annotations

from dataclasses import dataclass

from flowgate.settings import Settings
from flowgate.stores.mongo import Mongo
from flowgate.stores.postgres import Postgres


@dataclass
class Services:
    settings: Settings
    postgres: Postgres
    mongo: Mongo

    @classmethod
    async def open(cls, settings: Settings) -> Services:
        postgres = Postgres(settings)
        mongo = Mongo(settings)
        try:
            await postgres.ping()
            await mongo.open()
        except BaseException:
            await postgres.close()
            await mongo.close()
            raise
        return cls(settings=settings, postgres=postgres, mongo=mongo)

    async def close(self) -> None:
        await self.mongo.close()
        await self.postgres.close()

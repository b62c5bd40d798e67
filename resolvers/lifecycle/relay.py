"""The background relay: delivers outbox entries that a request could not (MongoDB was down,
or the gateway died between the two writes), so the event log catches up without waiting
for the engine's next call."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager

import structlog

from flowgate.background import in_background
from flowgate.services import Services
from resolvers.lifecycle.outbox import deliver

log = structlog.get_logger(__name__)


async def relay_forever(services: Services, interval: float) -> None:
    while True:
        try:
            delivered = await deliver(services)
            if delivered:
                log.info("relay delivered outbox events", events=len(delivered))
        except Exception as error:  # keep relaying through outages of either store
            log.warning("relay pass failed", error=str(error))
        await asyncio.sleep(interval)


def running_relay(services: Services, interval: float) -> AbstractAsyncContextManager[None]:
    return in_background(lambda: relay_forever(services, interval), name="outbox-relay")

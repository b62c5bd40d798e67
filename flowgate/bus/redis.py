"""The Redis bus: every replica publishes to one pub/sub channel and holds one subscription
to it, fanned out in memory by its hub.

Pub/sub delivers at most once and only while connected; that is enough because the MongoDB
event log is the record. When the subscription drops, the bus reconnects with backoff and
then tells every local subscriber to read what it missed from the log (a RESYNC message),
so a Redis outage shows as a delay, never as a loss."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from flowgate.bus.base import EventBus, LiveUpdatesUnavailableError
from flowgate.bus.hub import RESYNC, Hub, stamped
from flowgate.metrics import BUS_RECONNECTS

log = structlog.get_logger(__name__)

CHANNEL = "flowgate:execution-events"
MAX_BACKOFF_SECONDS = 5.0


class RedisBus(EventBus):
    def __init__(self, hub: Hub, url: str) -> None:
        super().__init__(hub)
        self.url = url
        # No retries inside redis-py: a dropped connection must reach `_listen`, which
        # reconnects and then tells subscribers to re-read the log. Retried silently, a short
        # outage would lose its messages without anyone resyncing.
        self._redis: Redis = Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=None, retry=Retry(NoBackoff(), 0)
        )
        self._listener: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self.reconnects = 0

    @property
    def description(self) -> str:
        return "redis"

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="redis-bus-listener")
        # Wait briefly for the first subscription so early publishes reach this replica;
        # if Redis is down the gateway still starts, and live updates report the problem.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), 5)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._redis.aclose()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def check_available(self) -> None:
        if not self._connected.is_set():
            raise LiveUpdatesUnavailableError(
                "Live updates are unavailable: the event bus (Redis) cannot be reached"
            )

    async def publish(self, message: dict[str, Any]) -> None:
        try:
            await self._redis.publish(CHANNEL, orjson.dumps(stamped(message)))
        except (RedisError, OSError) as error:
            # Stored already: subscribers here and on other replicas resync from the log
            # when the bus is back.
            log.warning("event bus publish failed", error=str(error))

    async def _listen(self) -> None:
        backoff = 0.1
        first = True
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                self._connected.set()
                if not first:
                    self.reconnects += 1
                    BUS_RECONNECTS.inc()
                    log.info("event bus reconnected", reconnects=self.reconnects)
                    # Anything published while we were away is in the log: go and read it.
                    self.hub.dispatch(RESYNC)
                first, backoff = False, 0.1
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self.hub.dispatch(orjson.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                if self._connected.is_set():
                    log.warning("event bus disconnected", error=str(error))
                self._connected.clear()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py

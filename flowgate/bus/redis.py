"""The Redis bus: every replica publishes to one pub/sub channel and holds one subscription
to it, fanned out in memory by its hub.

Pub/sub delivers at most once and only while connected; that is enough because the MongoDB
event log is the record. When the subscription drops, the bus reconnects with backoff and
then tells every local subscriber to read what it missed from the log (a RESYNC message),
so a Redis outage shows as a delay, never as a loss.

Publishing never holds a request: messages go to a bounded queue that one sender drains,
each publish bounded by `PUBLISH_TIMEOUT`. When one fails (Redis down or stalled), the
queued messages are dropped and the sender probes Redis until it can publish a RESYNC that
names when the loss began; every replica's subscribers then read what they missed. Until
then the bus reports itself degraded."""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog
from redis.asyncio import Redis
from redis.asyncio.connection import parse_url
from redis.exceptions import RedisError

from flowgate.bus.base import EventBus, LiveUpdatesUnavailableError
from flowgate.bus.hub import Hub
from flowgate.bus.message import BusMessage
from flowgate.metrics import BUS_RECONNECTS
from flowgate.stores.redis import redis_client

log = structlog.get_logger(__name__)

CHANNEL = "flowgate:execution-events"
MAX_BACKOFF_SECONDS = 5.0
# Seconds one publish may take; how often a degraded publisher probes Redis; how many
# messages may wait to be published (more are dropped, and covered by the next RESYNC).
PUBLISH_TIMEOUT = 1.0
PROBE_INTERVAL = 0.5
OUTGOING_LIMIT = 10_000
# A resync reaches back this much before the first lost message: clocks of replicas differ.
RESYNC_SLACK_SECONDS = 2.0


class RedisBus(EventBus):
    def __init__(self, hub: Hub, url: str) -> None:
        super().__init__(hub)
        self.url = url
        self.channel = channel_for(url)
        # No retries inside redis-py: a dropped connection must reach `_listen`, which
        # reconnects and then tells subscribers to re-read the log. Retried silently, a short
        # outage would lose its messages without anyone resyncing.
        self._redis: Redis = redis_client(url, timeout=None)
        # Its own connections, with a socket timeout: the listener's block on reads.
        self._publisher: Redis = redis_client(url, timeout=PUBLISH_TIMEOUT)
        self._listener: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._outgoing: asyncio.Queue[BusMessage] = asyncio.Queue(OUTGOING_LIMIT)
        # When the first message that may not have reached Redis was published, while any.
        self._missed_since: float | None = None
        self._lost_at: float | None = None
        self._connected = asyncio.Event()
        self.reconnects = 0

    @property
    def description(self) -> str:
        return "redis"

    async def start(self) -> None:
        self._sender = asyncio.create_task(self._send(), name="redis-bus-sender")
        self._listener = asyncio.create_task(self._listen(), name="redis-bus-listener")
        # Wait briefly for the first subscription so early publishes reach this replica;
        # if Redis is down the gateway still starts, and live updates report the problem.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), 5)

    async def close(self) -> None:
        for task in (self._sender, self._listener):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self._publisher.aclose()
        await self._redis.aclose()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def degraded(self) -> bool:
        return self._missed_since is not None or not self.connected

    def check_available(self) -> None:
        if not self._connected.is_set():
            raise LiveUpdatesUnavailableError(
                "Live updates are unavailable: the event bus (Redis) cannot be reached"
            )

    async def publish(self, message: BusMessage) -> None:
        self.publish_soon(message)

    def publish_soon(self, message: BusMessage) -> None:
        now = time.time()
        try:
            self._outgoing.put_nowait(message.stamped(now))
        except asyncio.QueueFull:
            self._missed(now)

    async def _send(self) -> None:
        """The one sender: messages in the order they were stored, each publish bounded."""
        while True:
            if self._missed_since is not None:
                await self._recover()
                continue
            message = await self._outgoing.get()
            try:
                await self._publish(message)
            except (RedisError, OSError) as error:  # TimeoutError is an OSError
                if self._missed_since is None:
                    log.warning("event bus publishing degraded", error=str(error) or "timed out")
                self._missed(message.published_at or time.time())

    async def _recover(self) -> None:
        """Drop what waits (the RESYNC covers it), then tell every replica to resync."""
        while not self._outgoing.empty():
            self._outgoing.get_nowait()
        since = self._missed_since
        try:
            await self._publish(BusMessage.resync(since))
        except (RedisError, OSError):
            await asyncio.sleep(PROBE_INTERVAL)
            return
        if self._missed_since == since:
            self._missed_since = None
            log.info("event bus publishing recovered")

    async def _publish(self, message: BusMessage) -> None:
        async with asyncio.timeout(PUBLISH_TIMEOUT):
            await self._publisher.publish(self.channel, message.to_wire())

    def _missed(self, published_at: float) -> None:
        since = published_at - RESYNC_SLACK_SECONDS
        if self._missed_since is None or since < self._missed_since:
            self._missed_since = since

    async def _listen(self) -> None:
        backoff = 0.1
        first = True
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._connected.set()
                if not first:
                    self.reconnects += 1
                    BUS_RECONNECTS.inc()
                    log.info("event bus reconnected", reconnects=self.reconnects)
                    # Anything published while we were away is in the log: go and read it.
                    lost_at = self._lost_at or time.time()
                    self.hub.dispatch(BusMessage.resync(lost_at - RESYNC_SLACK_SECONDS))
                    self._lost_at = None
                first, backoff = False, 0.1
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        received = BusMessage.from_wire(message["data"])
                        if received is not None:  # not one of ours
                            self.hub.dispatch(received)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                if self._connected.is_set():
                    log.warning("event bus disconnected", error=str(error))
                    self._lost_at = time.time()
                self._connected.clear()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py


def channel_for(url: str) -> str:
    """The pub/sub channel of the deployment that `url` names. Redis keeps keys per database
    number but shares pub/sub channels across all of them, so the channel carries the number:
    gateways pointed at different databases of one Redis (two deployments, or parallel test
    workers) never hear each other's events, as they never see each other's keys."""
    database = int(parse_url(url).get("db", 0))
    return CHANNEL if database == 0 else f"{CHANNEL}:{database}"

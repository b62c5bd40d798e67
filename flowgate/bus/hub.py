"""The in-memory fan-out from the process's one bus subscription to its subscribers.

Each subscriber has a bounded queue. Progress ticks are coalesced (a newer tick replaces an
unread one: latest wins, and the replaced sequence number is remembered as consumed).
Lifecycle events are never dropped: a subscriber whose queue is full of them is marked
overflowed, and its stream ends with a resumable error carrying its cursor."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from flowgate.metrics import BUS_LAG

QUEUE_LIMIT = 256
COALESCED_TYPES = frozenset({"progress"})

# When a message was published (epoch seconds, set by the bus): its delivery lag is measured
# against it. Wall clocks, since replicas compare across processes (and hosts).
PUBLISHED_AT = "published_at"

# A message that tells subscribers "you may have missed messages: read the log". A resync
# sent after an outage also says since when (`SINCE`, epoch seconds): what was published
# from then on may be missing.
RESYNC: dict[str, Any] = {"type": "__resync__"}
SINCE = "since"


def resync(since: float | None) -> dict[str, Any]:
    return {**RESYNC, SINCE: since}


class Subscriber:
    def __init__(
        self,
        accepts: Callable[[dict[str, Any]], bool],
        limit: int = QUEUE_LIMIT,
        coalesce: frozenset[str] = COALESCED_TYPES,
    ):
        self.accepts = accepts
        self.limit = limit
        # The types a newer message of the same execution replaces while unread: a stream
        # that shows only the latest state (the board) merges more than one that replays.
        self.coalesce = coalesce
        self.queue: deque[dict[str, Any]] = deque()
        self.coalesced: set[int] = set()
        self.overflowed = False
        self._ready = asyncio.Event()

    def offer(self, message: dict[str, Any]) -> None:
        if self.overflowed:
            return
        if message.get("type") in self.coalesce:
            for index, queued in enumerate(self.queue):
                if queued.get("type") in self.coalesce and queued.get(
                    "execution_id"
                ) == message.get("execution_id"):
                    self.coalesced.add(queued["seq"])
                    del self.queue[index]
                    break
        if len(self.queue) >= self.limit:
            self.overflowed = True
            self.queue.clear()  # the stream ends; what it would have said is in the log
        else:
            self.queue.append(message)
        self._ready.set()

    def recover(self) -> None:
        """Take messages again after an overflow: for a stream that only needs to know that
        something changed (the dashboard's figures), an overflow says just that."""
        self.overflowed = False

    async def next(self) -> dict[str, Any] | None:
        """The next message, or `None` once overflowed; the caller bounds the wait."""
        while not self.queue and not self.overflowed:
            self._ready.clear()
            await self._ready.wait()
        if self.overflowed:
            return None
        return self.queue.popleft()


class Hub:
    """Subscribers by stream id (an execution, a conversation, a notified person), plus
    organization-wide ones (dashboards)."""

    def __init__(self, queue_limit: int = QUEUE_LIMIT) -> None:
        self.queue_limit = queue_limit
        self._by_execution: dict[uuid.UUID, set[Subscriber]] = {}
        self._by_organization: dict[uuid.UUID, set[Subscriber]] = {}

    def subscribe(
        self,
        *,
        execution_id: uuid.UUID | None = None,
        organization_id: uuid.UUID | None = None,
        accepts: Callable[[dict[str, Any]], bool] = lambda _: True,
        coalesce: frozenset[str] = COALESCED_TYPES,
    ) -> Subscriber:
        subscriber = Subscriber(accepts, self.queue_limit, coalesce)
        if execution_id is not None:
            self._by_execution.setdefault(execution_id, set()).add(subscriber)
        elif organization_id is not None:
            self._by_organization.setdefault(organization_id, set()).add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        for index in (self._by_execution, self._by_organization):
            for key, subscribers in list(index.items()):
                subscribers.discard(subscriber)
                if not subscribers:
                    del index[key]

    @property
    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._by_execution.values()) + sum(
            len(s) for s in self._by_organization.values()
        )

    def dispatch(self, message: dict[str, Any]) -> None:
        """Hand a bus message to the subscribers it concerns (never blocks)."""
        if message is RESYNC or message.get("type") == RESYNC["type"]:
            for index in (self._by_execution, self._by_organization):
                for subscribers in index.values():
                    for subscriber in subscribers:
                        subscriber.offer(message)
            return
        published_at = message.get(PUBLISHED_AT)
        if isinstance(published_at, float):
            BUS_LAG.observe(max(0.0, time.time() - published_at))
        try:
            # One stream per execution, per conversation or per notified person: their ids
            # are UUIDs, never equal.
            execution_id = uuid.UUID(
                message.get("execution_id")
                or message.get("conversation_id")
                or message["recipient_id"]
            )
            organization_id = uuid.UUID(message["organization_id"])
        except (KeyError, TypeError, ValueError):
            # Not one of ours (the channel is shared by every database of a Redis): a bad
            # message must not end the process's one subscription.
            return
        for subscriber in self._by_execution.get(execution_id, ()):
            subscriber.offer(message)
        for subscriber in self._by_organization.get(organization_id, ()):
            if subscriber.accepts(message):
                subscriber.offer(message)


def stamped(message: dict[str, Any]) -> dict[str, Any]:
    """`message` with the time it is published, for `flowgate_event_bus_lag_seconds`."""
    return {**message, PUBLISHED_AT: time.time()}

"""The in-memory fan-out from the process's one bus subscription to its subscribers.

Each subscriber has a bounded queue. Progress ticks are coalesced (a newer tick replaces an
unread one: latest wins, and the replaced sequence number is remembered as consumed).
Lifecycle events are never dropped: a subscriber whose queue is full of them is marked
overflowed, and its stream ends with a resumable error carrying its cursor."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

from flowgate.bus.message import BusMessage
from flowgate.metrics import BUS_LAG

QUEUE_LIMIT = 256
COALESCED_TYPES = frozenset({"progress"})


class Subscriber:
    def __init__(
        self,
        accepts: Callable[[BusMessage], bool],
        limit: int = QUEUE_LIMIT,
        coalesce: frozenset[str] = COALESCED_TYPES,
    ):
        self.accepts = accepts
        self.limit = limit
        # The types a newer message of the same execution replaces while unread: a stream
        # that shows only the latest state (the board) merges more than one that replays.
        self.coalesce = coalesce
        # A list and a bare future, not a deque and an `asyncio.Event` (a 0.5 KiB block
        # each, empty): there is one subscriber per ungrouped subscription, mostly idle.
        self.queue: list[BusMessage] = []
        self.coalesced: set[int] = set()
        self.overflowed = False
        self._waiter: asyncio.Future[None] | None = None

    def offer(self, message: BusMessage) -> None:
        if self.overflowed:
            return
        if message.type in self.coalesce:
            for index, queued in enumerate(self.queue):
                if queued.type in self.coalesce and queued.execution_id == message.execution_id:
                    self.coalesced.add(queued.seq)
                    del self.queue[index]
                    break
        if len(self.queue) >= self.limit:
            self.overflowed = True
            self.queue.clear()  # the stream ends; what it would have said is in the log
        else:
            self.queue.append(message)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def recover(self) -> None:
        """Take messages again after an overflow: for a stream that only needs to know that
        something changed (the dashboard's figures), an overflow says just that."""
        self.overflowed = False

    async def next(self) -> BusMessage | None:
        """The next message, or `None` once overflowed; the caller bounds the wait."""
        while not self.queue and not self.overflowed:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self.overflowed:
            return None
        return self.queue.pop(0)  # at most `limit` (256), usually one


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
        accepts: Callable[[BusMessage], bool] = lambda _: True,
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

    def dispatch(self, message: BusMessage) -> None:
        """Hand a bus message to the subscribers it concerns (never blocks)."""
        if message.is_resync:
            for index in (self._by_execution, self._by_organization):
                for subscribers in index.values():
                    for subscriber in subscribers:
                        subscriber.offer(message)
            return
        if message.published_at is not None:
            BUS_LAG.observe(max(0.0, time.time() - message.published_at))
        stream_id, organization_id = message.stream_id, message.organization_id
        if stream_id is not None:
            for subscriber in self._by_execution.get(stream_id, ()):
                subscriber.offer(message)
        if organization_id is not None:
            for subscriber in self._by_organization.get(organization_id, ()):
                if subscriber.accepts(message):
                    subscriber.offer(message)

"""Live execution progress: replay from the MongoDB event log, then live from the bus, each
event exactly once and in order.

The handover: the subscriber is registered with the hub *before* the log is read, so an
event published during the replay waits in its queue; live messages at or below the last
sequence number delivered are skipped, and a jump past the next number (a message lost with
the bus, or one published before we subscribed but stored after we read) is filled from the
log. Coalesced progress ticks count as delivered."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowgate.bus import LiveUpdatesUnavailableError
from flowgate.bus.hub import Subscriber
from flowgate.bus.message import BusMessage
from models.documents import ExecutionEvent
from models.enums import TERMINAL_EXECUTION_STATUSES, ExecutionEventType, ExecutionStatus
from resolvers import cursors
from resolvers.errors import ClientError
from resolvers.ids import parse_id

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context

# With no message for this long, read the log anyway: a publish can be lost with the bus.
IDLE_CHECK_SECONDS = 10.0
TERMINAL = frozenset(status.value for status in TERMINAL_EXECUTION_STATUSES)


class NotFoundClientError(ClientError):
    code = "NOT_FOUND"


class LiveUpdatesUnavailableClientError(ClientError):
    code = "LIVE_UPDATES_UNAVAILABLE"


class SlowConsumerError(ClientError):
    """The client read too slowly and fell too far behind; resume with `after: cursor`."""

    code = "SLOW_CONSUMER"

    def __init__(self, cursor: str | None) -> None:
        super().__init__(
            "Too far behind: reconnect with `after` set to the last cursor you received",
            resumeAfter=cursor,
        )


@dataclass(frozen=True)
class ResyncNeeded:
    """The cursor is older than the retained history: events in between are gone."""

    oldest_cursor: str | None


# The codec (`resolvers.cursors`) under the names the callers know.
encode_cursor = cursors.encode_event
decode_cursor = cursors.decode_event


def _is_terminal(event: ExecutionEvent) -> bool:
    return event.type is ExecutionEventType.STATUS_CHANGED and event.status in TERMINAL


async def _log_after(execution_id: uuid.UUID, seq: int) -> list[ExecutionEvent]:
    return (
        await ExecutionEvent.find({"execution_id": execution_id, "seq": {"$gt": seq}})
        .sort("seq")
        .to_list()
    )


def subscribe(info: Info[Context], **scope: Any) -> Subscriber:
    bus = info.context.services.bus
    try:
        bus.check_available()
    except LiveUpdatesUnavailableError as error:
        raise LiveUpdatesUnavailableClientError(str(error)) from None
    return bus.hub.subscribe(**scope)


async def next_or_idle(subscriber: Subscriber) -> BusMessage | None:
    """The next message, or `None` after `IDLE_CHECK_SECONDS` of silence (or on overflow)."""
    try:
        async with asyncio.timeout(IDLE_CHECK_SECONDS):
            return await subscriber.next()
    except TimeoutError:
        return None


async def execution_progress(
    info: Info[Context], *, execution_id: str, after: str | None
) -> AsyncIterator[ExecutionEvent | ResyncNeeded]:
    local_id = parse_id(execution_id, "Execution", argument="executionId")
    last = decode_cursor(after) if after is not None else 0
    execution = await info.context.loaders.execution_by_id.load(local_id)
    if execution is None:
        raise NotFoundClientError(f"No execution with id {execution_id!r} in your organization")
    subscriber = subscribe(info, execution_id=local_id)
    hub = info.context.services.bus.hub
    try:
        backlog = await _log_after(local_id, last)
        if last and (backlog[0].seq if backlog else last + 1) > last + 1:
            # The events right after the cursor expired: say so instead of skipping them.
            yield ResyncNeeded(encode_cursor(backlog[0].seq - 1) if backlog else None)
            return
        if (
            not backlog
            and ExecutionStatus(execution.status).is_terminal
            and (last == 0 or last >= execution.last_event_seq)
        ):
            # Ended, and the client has seen the end (or the history expired): complete now
            # rather than wait for events that will never come.
            return
        while True:
            for event in backlog:
                if event.seq <= last:
                    continue
                yield event
                last = event.seq
                if _is_terminal(event):
                    return
            backlog = []
            message = await next_or_idle(subscriber)
            if subscriber.overflowed:
                raise SlowConsumerError(encode_cursor(last) if last else None)
            if message is None or message.is_resync:
                backlog = await _log_after(local_id, last)
                continue
            seq = message.seq
            if seq <= last:
                continue
            missing = set(range(last + 1, seq)) - subscriber.coalesced
            if missing:
                backlog = await _log_after(local_id, last)
                continue
            subscriber.coalesced = {s for s in subscriber.coalesced if s > seq}
            backlog = [ExecutionEvent.model_validate(message.body)]
    finally:
        hub.unsubscribe(subscriber)

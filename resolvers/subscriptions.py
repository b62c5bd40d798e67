"""Live execution progress: replay from the MongoDB event log, then live from the bus, each
event exactly once and in order.

The handover: the subscriber is registered with the hub *before* the log is read, so an
event published during the replay waits in its queue; live messages at or below the last
sequence number delivered are skipped, and a jump past the next number (a message lost with
the bus, or one published before we subscribed but stored after we read) is filled from the
log. Coalesced progress ticks count as delivered."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowgate.bus import LiveUpdatesUnavailableError
from flowgate.bus.hub import RESYNC, SINCE, Subscriber
from models.documents import ExecutionEvent
from models.enums import TERMINAL_EXECUTION_STATUSES, ExecutionEventType, ExecutionStatus
from resolvers import access, cursors, updates_gap
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


def _subscribe(info: Info[Context], **scope: Any) -> Subscriber:
    bus = info.context.services.bus
    try:
        bus.check_available()
    except LiveUpdatesUnavailableError as error:
        raise LiveUpdatesUnavailableClientError(str(error)) from None
    return bus.hub.subscribe(**scope)


async def _next_or_idle(subscriber: Subscriber) -> dict[str, Any] | None:
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
    subscriber = _subscribe(info, execution_id=local_id)
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
            message = await _next_or_idle(subscriber)
            if subscriber.overflowed:
                raise SlowConsumerError(encode_cursor(last) if last else None)
            if message is None or message is RESYNC or message.get("type") == RESYNC["type"]:
                backlog = await _log_after(local_id, last)
                continue
            seq = int(message["seq"])
            if seq <= last:
                continue
            missing = set(range(last + 1, seq)) - subscriber.coalesced
            if missing:
                backlog = await _log_after(local_id, last)
                continue
            subscriber.coalesced = {s for s in subscriber.coalesced if s > seq}
            backlog = [ExecutionEvent.model_validate(message)]
    finally:
        hub.unsubscribe(subscriber)


@dataclass(frozen=True)
class UpdatesFilter:
    agent_ids: frozenset[uuid.UUID] | None = None
    workflow_ids: frozenset[uuid.UUID] | None = None
    statuses: frozenset[str] | None = None

    def accepts(self, message: dict[str, Any]) -> bool:
        if message.get("type") != ExecutionEventType.STATUS_CHANGED.value:
            return False
        if self.statuses is not None and message.get("status") not in self.statuses:
            return False
        if self.agent_ids is not None and _uuid(message.get("agent_id")) not in self.agent_ids:
            return False
        return not (
            self.workflow_ids is not None
            and _uuid(message.get("workflow_id")) not in self.workflow_ids
        )


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None


async def execution_updates(
    info: Info[Context], *, filter_: UpdatesFilter
) -> AsyncIterator[dict[str, Any]]:
    """Status changes of the organization's executions, as they happen. A dashboard list
    refetches on reconnect, so there is no replay here; a subscriber too slow to keep up is
    closed with a resumable error."""
    principal = info.context.principal
    # Only executions the principal may read, as of subscribing (asked afresh: a socket's
    # loaders may be older): a workflow shared later shows up after a reconnect.
    readable = await access.readable_workflow_ids(info.context.services.mongo, principal)

    def accepts(message: dict[str, Any]) -> bool:
        return filter_.accepts(message) and access.of_readable_workflow(
            message.get("workflow_id"), readable
        )

    subscriber = _subscribe(info, organization_id=principal.organization_id, accepts=accepts)
    hub = info.context.services.bus.hub
    seen = updates_gap.Seen()
    try:
        while True:
            message = await _next_or_idle(subscriber)
            if subscriber.overflowed:
                raise SlowConsumerError(None)
            if message is None:
                continue
            if message.get("type") == RESYNC["type"]:
                # The bus lost messages: send what the log holds since then, never silence.
                for missed in await _missed(info, message):
                    if subscriber.accepts(missed) and seen.add(missed):
                        yield missed
                continue
            if seen.add(message):
                yield message
    finally:
        hub.unsubscribe(subscriber)


async def _missed(info: Info[Context], resync: dict[str, Any]) -> list[dict[str, Any]]:
    since = resync.get(SINCE)
    if not isinstance(since, float | int):
        since = time.time() - IDLE_CHECK_SECONDS  # a resync that does not say since when
    return await updates_gap.missed_status_changes(
        info.context.services, info.context.principal.organization_id, float(since)
    )

"""The board: one live stream of the organization's executions for a "running now" view.

Status changes always (lifecycle: never dropped; a subscriber too slow to take them all is
closed with a resumable error), and, when asked, progress (steps started and finished,
progress ticks). Progress is a state, not a history: under backpressure an unread progress
item of an execution is replaced by the newer one, in the hub's queue and again in each
subscriber's queue of a rendered group (`flowgate.bus.delivery`). A dashboard list refetches
on reconnect, so there is no replay here; what a bus outage lost is read from the log
(`resolvers.updates_gap`)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flowgate.bus import delivery
from flowgate.bus.message import BusMessage
from models.enums import ExecutionEventType, ExecutionStatus
from resolvers import access, updates_gap
from resolvers.subscriptions import (
    IDLE_CHECK_SECONDS,
    SlowConsumerError,
    next_or_idle,
    subscribe,
)

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context

STATUS_CHANGED = ExecutionEventType.STATUS_CHANGED.value
# What the board shows as progress; each carries the execution's state as of now.
PROGRESS_TYPES = frozenset(
    kind.value
    for kind in (
        ExecutionEventType.STEP_STARTED,
        ExecutionEventType.STEP_FINISHED,
        ExecutionEventType.PROGRESS,
    )
)
# Steps are reported only while an execution runs (`reportExecutionStep` sets RUNNING):
# progress passes a status filter that lists RUNNING.
PROGRESS_STATUS = ExecutionStatus.RUNNING.value


@dataclass(frozen=True)
class UpdatesFilter:
    agent_ids: frozenset[uuid.UUID] | None = None
    workflow_ids: frozenset[uuid.UUID] | None = None
    statuses: frozenset[str] | None = None
    progress: bool = False

    def accepts(self, message: BusMessage) -> bool:
        kind = message.type
        if kind == STATUS_CHANGED:
            status = message.status
        elif self.progress and kind in PROGRESS_TYPES:
            status = PROGRESS_STATUS
        else:
            return False
        if self.statuses is not None and status not in self.statuses:
            return False
        if self.agent_ids is not None and message.agent_id not in self.agent_ids:
            return False
        return not (self.workflow_ids is not None and message.workflow_id not in self.workflow_ids)


def is_lifecycle(message: BusMessage) -> bool:
    return message.type == STATUS_CHANGED


async def execution_updates(
    info: Info[Context], *, filter_: UpdatesFilter
) -> AsyncIterator[BusMessage]:
    """The organization's executions' status changes (and progress, when asked for), as
    they happen, of the executions the principal may read."""
    principal = info.context.principal
    # Only executions the principal may read, as of subscribing (asked afresh: a socket's
    # loaders may be older): a workflow shared later shows up after a reconnect.
    readable = await access.readable_workflow_ids(info.context.services.mongo, principal)

    def accepts(message: BusMessage) -> bool:
        return filter_.accepts(message) and access.of_readable_workflow(
            message.workflow_id, readable
        )

    subscriber = subscribe(
        info,
        organization_id=principal.organization_id,
        accepts=accepts,
        coalesce=PROGRESS_TYPES if filter_.progress else frozenset(),
    )
    hub = info.context.services.bus.hub
    seen = updates_gap.Seen()
    try:
        while True:
            message = await next_or_idle(subscriber)
            if subscriber.overflowed:
                raise SlowConsumerError(None)
            if message is None:
                continue
            if message.is_resync:
                # The bus lost messages: send what the log holds since then, never silence.
                for missed in await _missed(info, message):
                    if subscriber.accepts(missed) and seen.add(missed):
                        yield _noted(missed)
                continue
            if seen.add(message):
                yield _noted(message)
    finally:
        hub.unsubscribe(subscriber)


def _noted(message: BusMessage) -> BusMessage:
    delivery.note(str(message.execution_id), lifecycle=is_lifecycle(message))
    return message


async def _missed(info: Info[Context], resync: BusMessage) -> list[BusMessage]:
    # A resync that does not say since when: the last idle check's worth.
    since = resync.since if resync.since is not None else time.time() - IDLE_CHECK_SECONDS
    return await updates_gap.missed_status_changes(
        info.context.services, info.context.principal.organization_id, float(since)
    )

"""`dashboardStatsChanged`: the dashboard's figures, recomputed when an event changes them.

Any status change, finished step or progress report of an execution in scope (the
organization's, of the agent or workflow asked for, of a workflow the principal may read),
and any new message, finished or stopped reply of a conversation of the organization (of
the agent asked for; none with a workflow) marks the figures stale; they are recomputed over
the window ending now at most once per `MIN_INTERVAL_SECONDS`, so a burst of events costs
one computation. Subscribers with the same arguments and visibility share one stream
(`flowgate.sockets.groups`): one computation per group, not per subscriber. The first
figures come at once, on subscribing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from flowgate.bus import delivery
from flowgate.bus.hub import Subscriber
from flowgate.bus.message import BusMessage
from models.enums import ConversationEventType, ExecutionEventType
from resolvers import access, stats
from resolvers.errors import BadInputError
from resolvers.ids import parse_id
from resolvers.subscriptions import IDLE_CHECK_SECONDS, subscribe

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context

MIN_INTERVAL_SECONDS = 1.0
MIN_WINDOW_SECONDS = 60
MAX_WINDOW_SECONDS = int(stats.MAX_WINDOW.total_seconds())
DEFAULT_WINDOW_SECONDS = 24 * 3600
# The events that change a figure: counts and durations (status), cost and tokens (steps),
# and the chats' messages (created) and replies' usage (finished or stopped). Events of a
# conversation the principal cannot see also mark the figures stale: whether it may see one
# depends on rows the bus message does not carry, and the recomputed figures count only
# what it may see.
CHANGING = frozenset(
    kind.value
    for kind in (
        ExecutionEventType.STATUS_CHANGED,
        ExecutionEventType.STEP_FINISHED,
        ExecutionEventType.PROGRESS,
        ConversationEventType.MESSAGE_CREATED,
        ConversationEventType.REPLY_FINISHED,
        ConversationEventType.REPLY_STOPPED,
    )
)


def window_of(seconds: int) -> timedelta:
    if not MIN_WINDOW_SECONDS <= seconds <= MAX_WINDOW_SECONDS:
        raise BadInputError(
            "window",
            f"must be from {MIN_WINDOW_SECONDS} to {MAX_WINDOW_SECONDS} seconds "
            f"({stats.MAX_WINDOW.days} days)",
        )
    return timedelta(seconds=seconds)


async def dashboard_stats_changed(
    info: Info[Context], *, window: int, agent_id: str | None, workflow_id: str | None
) -> AsyncIterator[stats.DashboardStatsData]:
    length = window_of(window)
    for value, kind, argument in (
        (agent_id, "Agent", "agentId"),
        (workflow_id, "Workflow", "workflowId"),
    ):
        if value is not None:  # checked here to name the argument as the client sent it
            parse_id(value, kind, argument=f"filter.{argument}")
    principal = info.context.principal
    now = datetime.now(UTC)
    scope = stats.parse_scope(principal.organization_id, now - length, now, agent_id, workflow_id)
    if scope.workflow_id is not None:
        await stats.check_workflow_readable(info, scope.workflow_id, "filter.workflowId")
    # As of subscribing, as `executionUpdates` does: a workflow shared later counts after a
    # reconnect.
    readable = await access.readable_workflow_ids(info.context.services.mongo, principal)
    scope = replace(scope, readable_ids=readable)

    def accepts(message: BusMessage) -> bool:
        return (
            message.type in CHANGING
            and (scope.agent_id is None or scope.agent_id == message.agent_id)
            and (scope.workflow_id is None or scope.workflow_id == message.workflow_id)
            and access.of_readable_workflow(message.workflow_id, readable)
        )

    # Only "something changed" matters: every message of an execution merges into one.
    subscriber = subscribe(
        info, organization_id=principal.organization_id, accepts=accepts, coalesce=CHANGING
    )
    postgres = info.context.services.postgres
    try:
        stale, computed_at = True, 0.0
        while True:
            if stale and time.monotonic() - computed_at >= MIN_INTERVAL_SECONDS:
                now = datetime.now(UTC)
                figures = await stats.figures(
                    postgres, replace(scope, since=now - length, until=now)
                )
                stale, computed_at = False, time.monotonic()
                # Each new set of figures replaces the last one a slow reader has not read.
                delivery.note("figures", lifecycle=False)
                yield figures
                continue
            wait = (
                computed_at + MIN_INTERVAL_SECONDS - time.monotonic()
                if stale
                else IDLE_CHECK_SECONDS
            )
            stale = await _changed_within(subscriber, max(wait, 0.0)) or stale
    finally:
        info.context.services.bus.hub.unsubscribe(subscriber)


async def _changed_within(subscriber: Subscriber, seconds: float) -> bool:
    """Whether a message (or an overflow, or a resync) arrives within `seconds`; drains
    what is queued, since only the fact of a change counts."""
    try:
        async with asyncio.timeout(seconds):
            message = await subscriber.next()
    except TimeoutError:
        return False
    changed = message is not None or subscriber.overflowed
    subscriber.queue.clear()
    subscriber.recover()
    return changed

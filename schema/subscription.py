"""The root Subscription: live execution progress for dashboards."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import replace
from typing import Annotated

import strawberry

from resolvers import board, subscriptions
from resolvers.context import Context
from resolvers.conversations import stream
from resolvers.ids import parse_id
from resolvers.notifications import stream as notification_stream
from schema import live_stats
from schema.approval_query import ApprovalSubscription
from schema.board import ExecutionUpdate, ExecutionUpdatesFilter
from schema.conversation import ConversationEvent
from schema.execution_event import (
    ExecutionEvent,
    ExecutionProgressItem,
    ResyncRequired,
)
from schema.notification import Notification
from schema.permissions import ADMINS, READERS


@strawberry.type(description="Live updates, over graphql-transport-ws (or legacy graphql-ws).")
class Subscription(ApprovalSubscription):
    @strawberry.subscription(
        permission_classes=READERS,
        description="An execution's events in order: first those after `after` (all when "
        "absent), then live ones, each exactly once; completes after the final status.",
    )
    async def execution_progress(
        self,
        info: strawberry.Info[Context],
        execution_id: Annotated[strawberry.ID, strawberry.argument(description="Which one.")],
        after: Annotated[
            str | None, strawberry.argument(description="Resume after this event's cursor.")
        ] = None,
    ) -> AsyncGenerator[ExecutionProgressItem, None]:
        stream = subscriptions.execution_progress(info, execution_id=execution_id, after=after)
        async for item in stream:
            # Each event resolves its fields with fresh loaders: a cache kept for the whole
            # connection would show the execution as it was at the first event.
            info.context.refresh_loaders()
            if isinstance(item, subscriptions.ResyncNeeded):
                yield ResyncRequired(
                    message="Events after your cursor have expired",
                    oldest_cursor=item.oldest_cursor,
                )
            else:
                yield ExecutionEvent.from_model(item)

    @strawberry.subscription(
        permission_classes=READERS,
        description="The board: status changes of your organization's executions (of "
        "workflows you may read), and with `progress: true` their progress, cost and tokens "
        "as steps are reported. Status changes are never dropped; a client that reads slowly "
        "gets an execution's latest progress instead of every step.",
    )
    async def execution_updates(
        self,
        info: strawberry.Info[Context],
        filter: Annotated[
            ExecutionUpdatesFilter | None, strawberry.argument(description="Which ones.")
        ] = None,
        progress: Annotated[
            bool,
            strawberry.argument(
                description="Also stream progress (steps started and finished, progress "
                "reports), as items of kind PROGRESS."
            ),
        ] = False,
    ) -> AsyncGenerator[ExecutionUpdate, None]:
        chosen = filter.to_filter() if filter else board.UpdatesFilter()
        updates = board.execution_updates(info, filter_=replace(chosen, progress=progress))
        async for message in updates:
            info.context.refresh_loaders()
            yield ExecutionUpdate.from_message(message)

    dashboard_stats_changed = strawberry.subscription(
        resolver=live_stats.dashboard_stats_changed,
        permission_classes=READERS,
        description="`dashboardStats` kept live: the figures over the last `window` seconds "
        "(of workflows you may read), at once, then whenever an execution's status, step or "
        "progress changes them, at most once a second.",
    )

    @strawberry.subscription(
        permission_classes=READERS,
        description="A conversation's events in order: those after `after` (all when absent), "
        "then live ones, each once. Reply chunks a slow client has not read yet arrive merged "
        "(`chunks` > 1): the text is always exact. Never completes on its own.",
    )
    async def conversation_events(
        self,
        info: strawberry.Info[Context],
        conversation_id: Annotated[strawberry.ID, strawberry.argument(description="Which one.")],
        after: Annotated[
            str | None, strawberry.argument(description="Resume after this event's cursor.")
        ] = None,
    ) -> AsyncGenerator[ConversationEventItem, None]:
        items = stream.conversation_events(info, conversation_id=conversation_id, after=after)
        async for item in items:
            info.context.refresh_loaders()
            if isinstance(item, subscriptions.ResyncNeeded):
                yield ResyncRequired(
                    message="Events after your cursor have expired: refetch the messages",
                    oldest_cursor=item.oldest_cursor,
                )
            else:
                yield ConversationEvent.from_event(item)

    @strawberry.subscription(
        # Admins only: it carries every user's messages to the agents, private ones too.
        permission_classes=ADMINS,
        description="For engines (an admin's key): user messages to answer and replies the "
        "user stopped, for your organization's agents (or those listed), live.",
    )
    async def agent_conversation_requests(
        self,
        info: strawberry.Info[Context],
        agent_ids: Annotated[
            list[strawberry.ID] | None, strawberry.argument(description="Only these agents.")
        ] = None,
    ) -> AsyncGenerator[ConversationEvent, None]:
        wanted = (
            frozenset(parse_id(i, "Agent", argument="agentIds") for i in agent_ids)
            if agent_ids is not None
            else None
        )
        async for event in stream.agent_requests(info, agent_ids=wanted):
            info.context.refresh_loaders()
            yield ConversationEvent.from_event(event)

    @strawberry.subscription(
        permission_classes=READERS,
        description="Your notifications as they are written: those after `after` (a "
        "notification's `cursor`; none when absent), then live ones, each once and in order.",
    )
    async def notification_added(
        self,
        info: strawberry.Info[Context],
        after: Annotated[
            str | None, strawberry.argument(description="Resume after this notification.")
        ] = None,
    ) -> AsyncGenerator[Notification, None]:
        async for model in notification_stream.notification_added(info, after=after):
            info.context.refresh_loaders()
            yield Notification.from_model(model)


ConversationEventItem = Annotated[
    ConversationEvent | ResyncRequired,
    strawberry.union("ConversationEventItem", description="An event, or a request to resync."),
]

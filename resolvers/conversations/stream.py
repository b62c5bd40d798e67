"""The conversation subscriptions, on the machinery of `executionProgress` (the hub, the
cursor, the idle check, the slow-consumer and resync rules): stored events after the
cursor, then live ones, each once and in order; chunks that pile up while the client reads
slowly are merged, never dropped, so the text a subscriber assembles is always exact."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from flowgate.bus.message import BusMessage
from models.enums import ConversationEventType, MessageRole
from resolvers.conversations.events import StreamEvent, coalesced, log_after
from resolvers.ids import parse_id
from resolvers.subscriptions import (
    NotFoundClientError,
    ResyncNeeded,
    SlowConsumerError,
    decode_cursor,
    encode_cursor,
    next_or_idle,
    subscribe,
)

if TYPE_CHECKING:
    from strawberry import Info

    from flowgate.bus.hub import Subscriber
    from resolvers.context import Context


def _drain(subscriber: Subscriber) -> list[BusMessage]:
    """What else is already queued: read together, so that chunks can be merged."""
    queued = list(subscriber.queue)
    subscriber.queue.clear()
    return queued


async def conversation_events(
    info: Info[Context], *, conversation_id: str, after: str | None
) -> AsyncIterator[StreamEvent | ResyncNeeded]:
    local_id = parse_id(conversation_id, "Conversation", argument="conversationId")
    last = decode_cursor(after) if after is not None else 0
    conversation = await info.context.loaders.conversation_by_id.load(local_id)
    if conversation is None:
        raise NotFoundClientError(f"No conversation with id {conversation_id!r} you can see")
    services = info.context.services
    # Registered before the log is read: an event published meanwhile waits in the queue.
    subscriber = subscribe(info, execution_id=local_id)
    try:
        backlog = await log_after(services, local_id, last)
        if last and (backlog[0].seq if backlog else last + 1) > last + 1:
            # The events right after the cursor are gone: say so instead of skipping them.
            yield ResyncNeeded(encode_cursor(backlog[0].seq - 1) if backlog else None)
            return
        while True:
            for event in coalesced([e for e in backlog if e.seq > last]):
                yield event
                last = event.seq
            backlog = []
            message = await next_or_idle(subscriber)
            if subscriber.overflowed:
                raise SlowConsumerError(encode_cursor(last) if last else None)
            messages = [message, *_drain(subscriber)] if message is not None else []
            if not messages or any(m.is_resync for m in messages):
                backlog = await log_after(services, local_id, last)
                continue
            live = sorted(
                (StreamEvent.from_message(m) for m in messages if m.seq > last),
                key=lambda e: e.seq,
            )
            expected = list(range(last + 1, last + 1 + len(live)))
            if [e.seq for e in live] != expected:
                # A message lost with the bus (or published before we subscribed, stored
                # after we read): fill the gap from the log.
                backlog = await log_after(services, local_id, last)
                continue
            backlog = live
    finally:
        services.bus.hub.unsubscribe(subscriber)


def _wanted_by_engine(agent_ids: frozenset[uuid.UUID] | None, message: BusMessage) -> bool:
    if message.conversation_id is None:
        return False
    if agent_ids is not None and message.agent_id not in agent_ids:
        return False
    kind = message.type
    if kind == ConversationEventType.REPLY_STOPPED.value:
        return True
    payload = message.body.get("payload") or {}
    return (
        kind == ConversationEventType.MESSAGE_CREATED.value
        and payload.get("role") == MessageRole.USER.value
    )


async def agent_requests(
    info: Info[Context], *, agent_ids: frozenset[uuid.UUID] | None
) -> AsyncIterator[StreamEvent]:
    """For engines: user messages to answer and replies to stop, for the organization's
    agents (or those listed), live. An engine that reconnects catches up by listing
    conversations of its agents whose last message is a user's."""
    principal = info.context.principal
    subscriber = subscribe(
        info,
        organization_id=principal.organization_id,
        accepts=lambda message: _wanted_by_engine(agent_ids, message),
    )
    try:
        while True:
            message = await next_or_idle(subscriber)
            if subscriber.overflowed:
                raise SlowConsumerError(None)
            if message is None or message.is_resync:
                continue
            yield StreamEvent.from_message(message)
    finally:
        info.context.services.bus.hub.unsubscribe(subscriber)

"""Conversation events: numbered and stored with the change they describe, published after
it commits, and read back (with consecutive reply chunks merged) by the subscriptions."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flowgate.bus.message import BusMessage
from flowgate.services import Services
from models.enums import ConversationEventType
from models.sql import Conversation, ConversationEvent
from models.sql.base import utcnow

CHUNK = ConversationEventType.REPLY_CHUNK.value


@dataclass
class StreamEvent:
    """An event as a subscriber receives it, from the log or from the bus. `chunks` counts
    the reply chunks merged into it (their text is concatenated, `seq` is the last one's)."""

    conversation_id: uuid.UUID
    seq: int
    type: ConversationEventType
    message_id: uuid.UUID | None
    payload: dict[str, Any]
    created_at: datetime
    agent_id: uuid.UUID | None = None
    chunks: int = field(default=1)

    @classmethod
    def from_row(cls, row: ConversationEvent) -> StreamEvent:
        return cls(
            row.conversation_id,
            row.seq,
            ConversationEventType(row.type),
            row.message_id,
            row.payload,
            row.created_at,
        )

    @classmethod
    def from_message(cls, message: BusMessage) -> StreamEvent:
        # Subscribed by conversation (or filtered to conversation events): each names its
        # conversation and time.
        if message.conversation_id is None or message.created_at is None:
            raise ValueError(f"not a conversation event: {message.type}")
        message_id = message.body.get("message_id")
        return cls(
            message.conversation_id,
            message.seq,
            ConversationEventType(message.type),
            uuid.UUID(message_id) if message_id else None,
            message.body.get("payload") or {},
            message.created_at,
            message.agent_id,
        )


def record(
    session: AsyncSession,
    conversation: Conversation,
    type_: ConversationEventType,
    *,
    message_id: uuid.UUID | None = None,
    payload: dict[str, Any] | None = None,
) -> ConversationEvent:
    """Append an event to the conversation's log in the caller's transaction. The caller
    holds the conversation row's lock, so the number is the next one."""
    conversation.last_event_seq += 1
    event = ConversationEvent(
        organization_id=conversation.organization_id,
        conversation_id=conversation.id,
        seq=conversation.last_event_seq,
        type=type_.value,
        message_id=message_id,
        payload=payload or {},
        created_at=utcnow(),
    )
    session.add(event)
    return event


async def publish(
    services: Services, events: Iterable[ConversationEvent], agent_id: uuid.UUID
) -> None:
    """Announce committed events. A bus outage is not the caller's: subscribers find the
    events in the log on their next read."""
    for event in events:
        await services.bus.publish(
            BusMessage.from_body(
                {
                    "conversation_id": str(event.conversation_id),
                    "organization_id": str(event.organization_id),
                    "agent_id": str(agent_id),
                    "seq": event.seq,
                    "type": event.type,
                    "message_id": str(event.message_id) if event.message_id else None,
                    "payload": event.payload,
                    "created_at": event.created_at.isoformat(),
                }
            )
        )


async def log_after(
    services: Services, conversation_id: uuid.UUID, seq: int, limit: int = 1000
) -> list[StreamEvent]:
    query = (
        select(ConversationEvent)
        .where(ConversationEvent.conversation_id == conversation_id, ConversationEvent.seq > seq)
        .order_by(ConversationEvent.seq)
        .limit(limit)
    )
    async with services.postgres.session() as session:
        return [StreamEvent.from_row(row) for row in (await session.scalars(query)).all()]


def coalesced(events: list[StreamEvent]) -> list[StreamEvent]:
    """Merge runs of reply chunks of the same message into one event: a subscriber that fell
    behind gets fewer, larger chunks and the same text, never a gap."""
    merged: list[StreamEvent] = []
    for event in events:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.type.value == CHUNK
            and event.type.value == CHUNK
            and last.message_id == event.message_id
            and last.seq + 1 == event.seq
        ):
            last.payload = {
                **last.payload,
                "text": last.payload.get("text", "") + event.payload.get("text", ""),
                "chunk_seq": event.payload.get("chunk_seq"),
            }
            last.seq = event.seq
            last.created_at = event.created_at
            last.chunks += event.chunks
        else:
            merged.append(event)
    return merged

"""The shape every conversation change shares: one transaction that locks the conversation,
checks, changes and appends events; then the events are published."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flowgate.search.base import DocumentType
from flowgate.search.outbox import mark_stale
from models.enums import ConversationEventType
from models.sql import Conversation, ConversationEvent, Message
from resolvers.conversations import events
from resolvers.conversations.access import may_change_conversation, visible_conversations
from resolvers.mutations.errors import ForbiddenError, NotFoundError

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context

T = TypeVar("T")

# The events after which a message reads differently in search: posted, finished, stopped.
# A streaming reply's chunks wait for its end: one reindex per reply, not one per chunk.
_REINDEXED_BY: Final = frozenset(
    {
        ConversationEventType.MESSAGE_CREATED,
        ConversationEventType.REPLY_FINISHED,
        ConversationEventType.REPLY_STOPPED,
    }
)

# What a change does inside the transaction, given the locked conversation: its answer, and
# the events it recorded (`events.record`).
Work = Callable[[AsyncSession, Conversation], Awaitable[tuple[T, list[ConversationEvent]]]]


async def locked_conversation(
    session: AsyncSession,
    info: Info[Context],
    conversation_id: uuid.UUID,
    global_id: str,
    *,
    owner_only: bool,
) -> Conversation:
    """The conversation, locked until the transaction ends: changes of one conversation are
    serialized here, which keeps its event numbers gap-free. Invisible is not found."""
    principal = info.context.principal
    conversation = await session.scalar(
        select(Conversation)
        .where(Conversation.id == conversation_id, *visible_conversations(principal))
        .with_for_update()
    )
    if conversation is None:
        raise NotFoundError("Conversation", global_id)
    if owner_only and not may_change_conversation(principal, conversation):
        raise ForbiddenError("Only the conversation's user (or an admin) may do this")
    return conversation


async def in_conversation(
    info: Info[Context],
    conversation_id: uuid.UUID,
    global_id: str,
    work: Work[T],
    *,
    owner_only: bool = True,
) -> T:
    async with info.context.services.postgres.session() as session, session.begin():
        conversation = await locked_conversation(
            session, info, conversation_id, global_id, owner_only=owner_only
        )
        answer, recorded = await work(session, conversation)
        for event in recorded:
            if event.message_id is not None and event.type in _REINDEXED_BY:
                mark_stale(
                    session, event.organization_id, DocumentType.MESSAGE.value, event.message_id
                )
        agent_id = conversation.agent_id
    await events.publish(info.context.services, recorded, agent_id)
    return answer


async def conversation_of_message(
    info: Info[Context], message_id: uuid.UUID, global_id: str
) -> uuid.UUID:
    """The conversation a message belongs to (unlocked: the caller locks the conversation
    next, then reads the message under that lock)."""
    async with info.context.services.postgres.session() as session:
        conversation_id = await session.scalar(
            select(Message.conversation_id).where(
                Message.id == message_id,
                Message.organization_id == info.context.principal.organization_id,
            )
        )
    if conversation_id is None:
        raise NotFoundError("Message", global_id)
    return conversation_id


async def message_in(
    session: AsyncSession, conversation: Conversation, message_id: uuid.UUID, global_id: str
) -> Message:
    message = await session.scalar(
        select(Message)
        .where(Message.id == message_id, Message.conversation_id == conversation.id)
        .with_for_update()
    )
    if message is None:
        raise NotFoundError("Message", global_id)
    return message

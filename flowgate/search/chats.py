"""Conversations and their messages in the index: what they are found by, and reading them
from PostgreSQL (the source of truth) for the indexer and a rebuild.

- Conversation: its title; status; its readers (`models.conversation_access`).
- Message: its content (a reply as far as it is written: a stopped one keeps what it had);
  its status; its conversation's readers; `parent_id` is the conversation, so a deleted
  conversation takes its messages out with it.

Soft-deleted conversations and messages, empty ones and replies still streaming are not in
the index: a reply is indexed once, when it finishes or is stopped, not chunk by chunk. A
conversation is indexed with all its messages (its readers are theirs); a message that
changes alone (posted, a reply finished or stopped) is indexed alone."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from sqlalchemy import select

from flowgate.search.base import DocumentType, SearchDocument
from models import conversation_access, sql
from models.enums import MessageStatus

if TYPE_CHECKING:
    from flowgate.search.sources import Loaded
    from flowgate.services import Services

# Text past this many characters is not indexed (as for every other type).
MAX_BODY_CHARS = 4000


def conversation_document(
    conversation: sql.Conversation, project: sql.Project | None
) -> SearchDocument:
    return SearchDocument(
        organization_id=conversation.organization_id,
        type=DocumentType.CONVERSATION,
        object_id=conversation.id,
        title=conversation.title,
        body="",
        updated_at=conversation.updated_at,
        status=conversation.status.value,
        readers=conversation_access.readers(conversation, project),
    )


def message_document(
    message: sql.Message, conversation: sql.Conversation, project: sql.Project | None
) -> SearchDocument | None:
    """The message's document, or None when it is not (yet) worth finding."""
    if (
        message.deleted_at is not None
        or message.status is MessageStatus.STREAMING
        or not message.content.strip()
    ):
        return None
    return SearchDocument(
        organization_id=message.organization_id,
        type=DocumentType.MESSAGE,
        object_id=message.id,
        title="",
        body=message.content[:MAX_BODY_CHARS],
        updated_at=message.updated_at,
        status=message.status.value,
        parent_id=conversation.id,
        readers=conversation_access.readers(conversation, project),
    )


async def load_conversations(
    services: Services, ids: Collection[uuid.UUID], loaded: Loaded
) -> None:
    """The live conversations of `ids` with all their live messages. Every message document
    of `ids` is dropped first (`gone_parents`), so one deleted since goes too."""
    query = (
        select(sql.Conversation, sql.Project)
        .outerjoin(sql.Project, sql.Project.id == sql.Conversation.project_id)
        .where(sql.Conversation.id.in_(list(ids)))
    )
    async with services.postgres.session() as session:
        rows = [(c, p) for c, p in (await session.execute(query)).all() if c.deleted_at is None]
        messages = (
            await session.scalars(
                select(sql.Message)
                .where(sql.Message.conversation_id.in_([c.id for c, _ in rows]))
                .order_by(sql.Message.conversation_id, sql.Message.position)
            )
        ).all()
    of = {conversation.id: (conversation, project) for conversation, project in rows}
    loaded.documents += [conversation_document(c, p) for c, p in rows]
    loaded.documents += _present(message_document(m, *of[m.conversation_id]) for m in messages)
    loaded.gone_parents |= set(ids)


async def load_messages(services: Services, ids: Collection[uuid.UUID], loaded: Loaded) -> None:
    """The messages of `ids` whose conversation is live; the others are gone."""
    query = (
        select(sql.Message, sql.Conversation, sql.Project)
        .join(sql.Conversation, sql.Conversation.id == sql.Message.conversation_id)
        .outerjoin(sql.Project, sql.Project.id == sql.Conversation.project_id)
        .where(sql.Message.id.in_(list(ids)), sql.Conversation.deleted_at.is_(None))
    )
    async with services.postgres.session() as session:
        rows = (await session.execute(query)).all()
    loaded.documents += _present(message_document(m, c, p) for m, c, p in rows)


def _present(documents: Iterable[SearchDocument | None]) -> list[SearchDocument]:
    return [document for document in documents if document is not None]

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.enums import ConversationStatus
from models.sql.base import Base, Timestamps, UuidPrimaryKey, utcnow
from models.sql.types import pg_enum


class Conversation(UuidPrimaryKey, Timestamps, Base):
    """A chat between a user and an agent. A branch is a conversation of its own that forks
    another at one of its messages (`parent_id`, `forked_from_message_id`): the original
    line stays as it was."""

    __tablename__ = "conversations"
    __table_args__ = (
        # The default listing: most recently updated first, id as the tie-breaker.
        Index(None, "organization_id", "updated_at", "id"),
        Index(None, "user_id", "updated_at"),
        Index(None, "agent_id", "updated_at"),
        Index(None, "project_id", "updated_at"),
        Index(None, "parent_id"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    project_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL")
    )
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    # No foreign key: messages reference conversations, and a cycle of keys between the two
    # tables would make every insert order-sensitive. The branch logic checks it.
    forked_from_message_id: Mapped[uuid.UUID | None]
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[ConversationStatus] = mapped_column(
        pg_enum(ConversationStatus, "conversation_status"), default=ConversationStatus.ACTIVE
    )
    deleted_at: Mapped[datetime | None]
    last_message_at: Mapped[datetime | None]
    message_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # The sequence number of the conversation's latest event, allocated under the row's lock
    # in the transaction that writes the event: gap-free and unique (as for executions).
    last_event_seq: Mapped[int] = mapped_column(default=0, server_default=text("0"))


class ConversationEvent(Base):
    """One entry of a conversation's append-only event log: the subscription's replay store
    and cursor. Written in the same PostgreSQL transaction as the change it describes (the
    conversation lives in PostgreSQL, so no outbox is needed), published after the commit."""

    __tablename__ = "conversation_events"
    __table_args__ = (
        Index(None, "conversation_id", "seq", unique=True),
        Index(None, "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    seq: Mapped[int]
    type: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[uuid.UUID | None]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)

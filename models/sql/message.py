import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.enums import MessageRole, MessageStatus, ToolCallStatus
from models.sql.base import Base, Timestamps, UuidPrimaryKey
from models.sql.types import pg_enum


class Message(UuidPrimaryKey, Timestamps, Base):
    """One message of a conversation. An agent's reply is created `streaming` and grows
    chunk by chunk (`last_chunk_seq` is the engine's sequence number of the last chunk
    applied) until it is finished, stopped or failed."""

    __tablename__ = "messages"
    __table_args__ = (
        # Keyset pages of a conversation, oldest first: `position` is 1, 2, 3, ...
        Index(None, "conversation_id", "position", unique=True),
        Index(None, "organization_id", "created_at"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    role: Mapped[MessageRole] = mapped_column(pg_enum(MessageRole, "message_role"))
    content: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[MessageStatus] = mapped_column(
        pg_enum(MessageStatus, "message_status"), default=MessageStatus.COMPLETE
    )
    model: Mapped[str | None] = mapped_column(String(100))
    provider: Mapped[str | None] = mapped_column(String(50))
    prompt_tokens: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    completion_tokens: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    total_tokens: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    cost: Mapped[Decimal] = mapped_column(
        Numeric(14, 6), default=Decimal(0), server_default=text("0")
    )
    response_time_ms: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    last_chunk_seq: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    finished_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]


class ToolCall(UuidPrimaryKey, Base):
    """A tool (MCP) call made while writing a message: the usage record. `call_id` is the
    engine's own id of the call, so that reporting its start and then its end (or retrying
    either) changes one row."""

    __tablename__ = "tool_calls"
    __table_args__ = (
        Index(None, "message_id", "call_id", unique=True),
        Index(None, "organization_id", "started_at"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    call_id: Mapped[str] = mapped_column(String(200))
    tool_name: Mapped[str] = mapped_column(String(200))
    server: Mapped[str] = mapped_column(String(200))
    arguments: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status: Mapped[ToolCallStatus] = mapped_column(pg_enum(ToolCallStatus, "tool_call_status"))
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    cost: Mapped[Decimal] = mapped_column(
        Numeric(14, 6), default=Decimal(0), server_default=text("0")
    )
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class Attachment(UuidPrimaryKey, Base):
    """A file attached to a message: metadata only, the bytes live in the client's store."""

    __tablename__ = "attachments"
    __table_args__ = (Index(None, "message_id"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(300))
    media_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    checksum: Mapped[str] = mapped_column(String(200))
    storage_url: Mapped[str] = mapped_column(String(2000))

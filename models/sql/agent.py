import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.enums import AgentStatus
from models.sql.base import Base, Timestamps, UuidPrimaryKey
from models.sql.types import pg_enum


class Agent(UuidPrimaryKey, Timestamps, Base):
    """An AI agent. Its flowchart lives in MongoDB (`models.documents.Flowchart`), keyed by
    this id. Deleting is soft (`deleted_at`) so that past executions keep their agent."""

    __tablename__ = "agents"
    __table_args__ = (
        # Keyset pagination of the default listing: newest first, id as the tie-breaker.
        Index(None, "organization_id", "created_at", "id"),
        Index(None, "organization_id", "status", "created_at"),
        Index(None, "organization_id", "category"),
        Index(None, "organization_id", "name"),
        Index(None, "owner_id"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[AgentStatus] = mapped_column(
        pg_enum(AgentStatus, "agent_status"), default=AgentStatus.ACTIVE
    )
    category: Mapped[str] = mapped_column(String(100))
    # provider, model, temperature, max_tokens, system prompt, ...: open-ended per provider.
    configuration: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    capabilities: Mapped[list[str]] = mapped_column(
        ARRAY(String(100)), default=list, server_default=text("'{}'")
    )
    last_execution_at: Mapped[datetime | None]
    execution_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    deleted_at: Mapped[datetime | None]

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Numeric, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.enums import ExecutionStatus
from models.sql.base import Base, Timestamps, UuidPrimaryKey, utcnow
from models.sql.types import pg_enum


class Execution(UuidPrimaryKey, Timestamps, Base):
    """One run of an agent (optionally as part of a workflow). The step history lives in
    MongoDB (`ExecutionTrace`, `ExecutionEvent`), keyed by this id."""

    __tablename__ = "executions"
    __table_args__ = (
        Index(None, "organization_id", "status", "started_at"),
        Index(None, "organization_id", "started_at", "id"),
        # Per-agent pages (`Agent.executions`) and per-workflow pages and stats.
        Index(None, "agent_id", "started_at", "id"),
        Index(None, "organization_id", "workflow_id", "started_at"),
        # An engine's retried `startExecution` finds the first attempt by its key.
        Index(
            None,
            "organization_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    # A MongoDB workflow id: no foreign key can cross the stores; `flowgate doctor` checks it.
    workflow_id: Mapped[uuid.UUID | None]
    status: Mapped[ExecutionStatus] = mapped_column(
        pg_enum(ExecutionStatus, "execution_status"), default=ExecutionStatus.PENDING
    )
    # When the run was requested; set for every execution (pending ones too), so that the
    # default order and its keyset index never meet a NULL.
    started_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)
    ended_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    input: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    ai_provider: Mapped[str | None] = mapped_column(String(50))
    nodes_done: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    nodes_total: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    ai_calls: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    cost: Mapped[Decimal] = mapped_column(
        Numeric(14, 6), default=Decimal(0), server_default=text("0")
    )
    started_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # The sequence number of the execution's latest event. Allocated here, under the row's
    # lock, in the transaction that changes the row: so numbers are gap-free and unique, and
    # every number used belongs to a committed change (see ExecutionOutboxEntry).
    last_event_seq: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # Times a person stepped in: approval decisions, operator pauses and resumes.
    human_interventions: Mapped[int] = mapped_column(default=0, server_default=text("0"))

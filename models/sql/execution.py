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

# A run of an agent alone (no workflow settings) may retry a failed step this many times:
# the default of `WorkflowSettings.max_retries`.
DEFAULT_MAX_RETRIES = 3


class Execution(UuidPrimaryKey, Timestamps, Base):
    """One run of an agent (optionally as part of a workflow). The step history lives in
    MongoDB (`ExecutionTrace`, `ExecutionEvent`), keyed by this id."""

    __tablename__ = "executions"
    __table_args__ = (
        Index(None, "organization_id", "status", "started_at"),
        Index(None, "organization_id", "started_at", "id"),
        # Per-agent pages (`Agent.executions`) and their counts, index-only under the
        # tenancy and visibility terms (migration 0012).
        Index(
            None,
            "agent_id",
            "started_at",
            "id",
            postgresql_include=["organization_id", "workflow_id"],
        ),
        Index(None, "organization_id", "workflow_id", "started_at"),
        # An engine's retried `startExecution` finds the first attempt by its key.
        Index(
            None,
            "organization_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        # The timeout sweeper reads the live runs that are past their deadline.
        Index(
            None,
            "deadline_at",
            postgresql_where=text(
                "deadline_at IS NOT NULL AND status IN ('pending', 'running', 'paused')"
            ),
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
    # Why the gateway itself ended the run (`timeout`); null when the engine or a person did.
    error_code: Mapped[str | None] = mapped_column(String(50))
    ai_provider: Mapped[str | None] = mapped_column(String(50))
    nodes_done: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    nodes_total: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    ai_calls: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # The parts of `tokens` that steps reported apart; a step that gave only its total adds
    # to neither, so `prompt_tokens + completion_tokens <= tokens`.
    prompt_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    completion_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
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
    # The workflow's settings as they were when the run started (a run keeps the rules it
    # started under): the wall-clock deadline (`timeoutSeconds` after `started_at`; paused
    # time counts) and how many times a failed step may be reported again.
    deadline_at: Mapped[datetime | None]
    max_retries: Mapped[int] = mapped_column(
        default=DEFAULT_MAX_RETRIES, server_default=text(str(DEFAULT_MAX_RETRIES))
    )
    # Failed attempts per node id, counted under the row's lock: what `maxRetries` is
    # checked against, race-free, without reading the MongoDB trace.
    step_failures: Mapped[dict[str, int]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )

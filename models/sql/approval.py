"""Human approvals of executions, and the commands engines are told about their runs."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, String, Text, Uuid, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.enums import ApprovalDecision, ExecutionCommandKind
from models.sql.base import Base, Timestamps, UuidPrimaryKey, utcnow
from models.sql.types import pg_enum


class Approval(UuidPrimaryKey, Timestamps, Base):
    """A decision an execution waits for at a human node. Open while `decision` is null and
    `expires_at` (if any) is ahead; decided once, by one person (the row is locked)."""

    __tablename__ = "approvals"
    __table_args__ = (
        Index(None, "execution_id", "requested_at"),
        # "My inbox": open approvals naming a user (`approvers @> ARRAY[user]`).
        Index(
            "ix_approvals_open_approvers",
            "approvers",
            postgresql_using="gin",
            postgresql_where=text("decision IS NULL"),
        ),
        # The sweeper's scan: expired, undecided, not yet acted on (`resolvers.approvals.expiry`).
        Index(
            "ix_approvals_due",
            "expires_at",
            postgresql_where=text(
                "decision IS NULL AND lapsed_at IS NULL AND expires_at IS NOT NULL"
            ),
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    execution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"))
    node_id: Mapped[str] = mapped_column(String(100))
    approvers: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid()))
    message: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    requested_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)
    expires_at: Mapped[datetime | None]
    decision: Mapped[ApprovalDecision | None] = mapped_column(
        pg_enum(ApprovalDecision, "approval_decision")
    )
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    comment: Mapped[str | None] = mapped_column(Text)
    # When the gateway acted on this approval's expiry (failed or resumed the run), once.
    lapsed_at: Mapped[datetime | None]

    def is_expired(self, now: datetime) -> bool:
        return self.decision is None and self.expires_at is not None and self.expires_at <= now

    def is_open(self, now: datetime) -> bool:
        return self.decision is None and not self.is_expired(now)


class ExecutionCommand(Base):
    """What an engine must hear about a run it executes: a decision, a pause, a resume, a
    cancellation. Written in the transaction of the change; `executionCommands` replays
    them after a cursor (the id) and then follows new ones.

    Ids are taken under a per-organization advisory lock held until commit
    (`resolvers.approvals.commands.record`), so within an organization they become visible in
    increasing order: a subscriber resuming after id N can never miss a smaller id that
    commits later."""

    __tablename__ = "execution_commands"
    __table_args__ = (
        Index(None, "organization_id", "agent_id", "id"),
        Index(None, "organization_id", "workflow_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    execution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"))
    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    workflow_id: Mapped[uuid.UUID | None]
    kind: Mapped[ExecutionCommandKind] = mapped_column(
        pg_enum(ExecutionCommandKind, "execution_command_kind")
    )
    approval_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("approvals.id", ondelete="CASCADE")
    )
    # Who caused it and why: {"by": user id, "reason"?, "decision"?, "comment"?}.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)

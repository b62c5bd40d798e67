"""Human approvals of executions, and the commands engines are told about their runs."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Double,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    Uuid,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    not_,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.enums import ApprovalDecision, ApprovalStatus, ExecutionCommandKind
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

    # The rules of an approval's state at a time `now`, each in its two forms side by side:
    # in Python for a loaded row (the resolvers', the mutations'), and in SQL for a statement
    # that computes it (`Approval.<rule>_sql(now)`, `now` a time or a parameter bound when the
    # statement runs: the compiled path's). Change both or neither: tests/test_approval_rules.py
    # holds them equal, boundaries included.

    def is_expired(self, now: datetime) -> bool:
        """Undecided, and its deadline reached (at `now` exactly, it has expired)."""
        return self.decision is None and self.expires_at is not None and self.expires_at <= now

    @classmethod
    def is_expired_sql(cls, now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
        return and_(cls.decision.is_(None), cls.expires_at.is_not(None), cls.expires_at <= now)

    def is_open(self, now: datetime) -> bool:
        """Undecided and not expired: what a run waits for, and an inbox lists."""
        return self.decision is None and not self.is_expired(now)

    @classmethod
    def is_open_sql(cls, now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
        return and_(cls.decision.is_(None), not_(cls.is_expired_sql(now)))

    def status_at(self, now: datetime) -> ApprovalStatus:
        """Its decision if decided; else expired or pending."""
        if self.decision is not None:
            return _DECIDED[self.decision]
        return ApprovalStatus.EXPIRED if self.is_expired(now) else ApprovalStatus.PENDING

    @classmethod
    def status_at_sql(cls, now: datetime | ColumnElement[datetime]) -> ColumnElement[str]:
        return case(
            *(
                (cls.decision == decision, literal(status.value, String))
                for decision, status in _DECIDED.items()
            ),
            (cls.is_expired_sql(now), literal(ApprovalStatus.EXPIRED.value, String)),
            else_=literal(ApprovalStatus.PENDING.value, String),
        )

    def wait_ms_at(self, now: datetime) -> int:
        """How long it waited, in whole milliseconds (truncated): until decided, else until
        `now`; never negative."""
        end = self.decided_at or now
        return max(0, int((end - self.requested_at).total_seconds() * 1000))

    @classmethod
    def wait_ms_at_sql(cls, now: datetime | ColumnElement[datetime]) -> ColumnElement[int]:
        # `total_seconds()` is the exact count of microseconds over 10**6, rounded once to a
        # double: as a NUMERIC epoch cast to DOUBLE PRECISION is. Then the same double
        # product, truncated toward zero as `int()` does. (Exact NUMERIC arithmetic would
        # differ now and then: a wait of 1.001 s is 1000 ms in Python, and so here.)
        end = func.coalesce(cls.decided_at, now)
        seconds = cast(extract("epoch", end - cls.requested_at), Double)
        milliseconds = func.trunc(seconds * 1000, type_=Double)
        return cast(func.greatest(0, milliseconds), BigInteger)


# A decided approval's status: its decision's, whatever the time.
_DECIDED = {
    ApprovalDecision.APPROVE: ApprovalStatus.APPROVED,
    ApprovalDecision.REJECT: ApprovalStatus.REJECTED,
}


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

"""Human approvals of executions, and the commands engines hear (`executionCommands`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from models import enums as domain
from models import sql
from models.sql import base
from resolvers.context import Context
from resolvers.ids import to_global_id
from resolvers.subscriptions import encode_cursor

if TYPE_CHECKING:
    from schema.execution import Execution
    from schema.user import User

# Registered on the domain enums themselves (`strawberry.enum` returns its argument).
strawberry.enum(domain.ApprovalDecision, description="A decision on an approval.")
strawberry.enum(
    domain.ExecutionCommandKind,
    description="What an engine is told: a decision, a pause, a resume, a cancellation.",
)

strawberry.enum(domain.ApprovalStatus, description="Where an approval stands.")


async def _user(info: strawberry.Info[Context], user_id: uuid.UUID | None) -> User | None:
    from schema.user import User

    if user_id is None:
        return None
    model = await info.context.loaders.approval_user_by_id.load(user_id)
    return User.from_model(model) if model is not None else None


async def _execution(info: strawberry.Info[Context], execution_id: uuid.UUID) -> Execution | None:
    from schema.execution import Execution

    model = await info.context.loaders.execution_by_id.load(execution_id)
    return Execution.from_model(model) if model is not None else None


@strawberry.type(description="A decision a run waits for at a human node.")
class Approval:
    model: strawberry.Private[sql.Approval]
    id: strawberry.ID = strawberry.field(description="The approval's global id.")
    node_id: str = strawberry.field(description="The human node it was asked at.")
    message: str | None = strawberry.field(description="What the approvers are asked.")
    requested_at: datetime = strawberry.field(description="When it was asked for.")
    expires_at: datetime | None = strawberry.field(
        description="After this, it can no longer be decided; null: never expires."
    )
    decided_at: datetime | None = strawberry.field(description="When it was decided.")
    decision: domain.ApprovalDecision | None = strawberry.field(
        description="APPROVE or REJECT; null while undecided."
    )
    comment: str | None = strawberry.field(description="What the decider said.")

    @classmethod
    def from_model(cls, model: sql.Approval) -> Approval:
        return cls(
            model=model,
            id=strawberry.ID(to_global_id("Approval", model.id)),
            node_id=model.node_id,
            message=model.message,
            requested_at=model.requested_at,
            expires_at=model.expires_at,
            decided_at=model.decided_at,
            decision=model.decision,
            comment=model.comment,
        )

    # The clock is read as `base.utcnow`, the attribute the compiled path reads too
    # (`schema.compiled.executor`), so that a test can set the time of both at once.
    @strawberry.field(description="PENDING, APPROVED, REJECTED, or EXPIRED (undecided in time).")
    def status(self) -> domain.ApprovalStatus:
        return self.model.status_at(base.utcnow())

    @strawberry.field(
        description="How long it waited: until decided, or until now while pending (ms)."
    )
    def wait_ms(self) -> int:
        return self.model.wait_ms_at(base.utcnow())

    @strawberry.field(description="Who may decide it by name (members of the organization).")
    async def approvers(
        self, info: strawberry.Info[Context]
    ) -> list[Annotated[User, strawberry.lazy("schema.user")]]:
        from schema.user import User

        # One batch for the approvers of every approval of the answer.
        found = await info.context.loaders.approval_user_by_id.load_many(self.model.approvers)
        return [User.from_model(user) for user in found if user is not None]

    @strawberry.field(description="Who decided it; null while undecided or if deleted.")
    async def decided_by(
        self, info: strawberry.Info[Context]
    ) -> Annotated[User, strawberry.lazy("schema.user")] | None:
        return await _user(info, self.model.decided_by_id)

    @strawberry.field(description="The run that waits (or waited) for it.")
    async def execution(
        self, info: strawberry.Info[Context]
    ) -> Annotated[Execution, strawberry.lazy("schema.execution")] | None:
        return await _execution(info, self.model.execution_id)


@strawberry.type(description="Something an engine must act on for a run it executes.")
class ExecutionCommand:
    model: strawberry.Private[sql.ExecutionCommand]
    cursor: str = strawberry.field(description="Pass as `after` to resume after this one.")
    kind: domain.ExecutionCommandKind = strawberry.field(description="What happened.")
    execution_id: strawberry.ID = strawberry.field(description="The run's global id.")
    issued_at: datetime = strawberry.field(description="When it happened.")
    decision: domain.ApprovalDecision | None = strawberry.field(
        description="For APPROVAL_DECIDED: the decision."
    )
    comment: str | None = strawberry.field(description="For APPROVAL_DECIDED: the comment.")
    reason: str | None = strawberry.field(description="For a pause, resume or cancel: why.")
    status: str | None = strawberry.field(
        description="For APPROVAL_DECIDED: the run's status after it (running, or failed on "
        "a rejection that fails the run)."
    )

    @classmethod
    def from_model(cls, model: sql.ExecutionCommand) -> ExecutionCommand:
        payload = model.payload
        decision = payload.get("decision")
        return cls(
            model=model,
            cursor=encode_cursor(model.id),
            kind=model.kind,
            execution_id=strawberry.ID(to_global_id("Execution", model.execution_id)),
            issued_at=model.created_at,
            decision=domain.ApprovalDecision(decision) if decision else None,
            comment=payload.get("comment"),
            reason=payload.get("reason"),
            status=payload.get("status"),
        )

    @strawberry.field(description="The run, as it is now.")
    async def execution(
        self, info: strawberry.Info[Context]
    ) -> Annotated[Execution, strawberry.lazy("schema.execution")] | None:
        return await _execution(info, self.model.execution_id)

    @strawberry.field(description="For APPROVAL_DECIDED: the approval.")
    async def approval(self, info: strawberry.Info[Context]) -> Approval | None:
        if self.model.approval_id is None:
            return None
        model = await info.context.loaders.approval_by_id.load(self.model.approval_id)
        return Approval.from_model(model) if model is not None else None

    @strawberry.field(description="Who caused it; null if unknown or deleted.")
    async def issued_by(
        self, info: strawberry.Info[Context]
    ) -> Annotated[User, strawberry.lazy("schema.user")] | None:
        by = self.model.payload.get("by")
        return await _user(info, uuid.UUID(by) if isinstance(by, str) else None)

"""Approvals and operator control: `requestApproval` (engines), `decideApproval`
(approvers, the workflow's owners, admins), `pauseExecution` and `resumeExecution`
(operators: the workflow's owners and editors, admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from models import enums as domain
from resolvers.approvals import control, decide, request
from resolvers.context import Context
from resolvers.mutations import errors
from schema.approval import Approval
from schema.errors import (
    Failure,
    Forbidden,
    IdempotencyConflict,
    InvalidTransition,
    NotFound,
    ValidationError,
)
from schema.execution import Execution
from schema.mutations.capture import capture_errors, register
from schema.mutations.executions import ExecutionId, IdempotencyKey
from schema.permissions import READERS, WRITERS


@strawberry.type(description="Someone decided this approval first; their decision stands.")
class ApprovalAlreadyDecided(Failure):
    decision: domain.ApprovalDecision = strawberry.field(description="The decision taken.")
    decided_by_id: strawberry.ID | None = strawberry.field(description="Who took it.")

    @classmethod
    def from_error(cls, error: errors.ApprovalAlreadyDecidedError) -> ApprovalAlreadyDecided:
        return cls(
            code=error.code,
            message=error.message,
            decision=domain.ApprovalDecision(error.decision),
            decided_by_id=strawberry.ID(error.decided_by) if error.decided_by else None,
        )


@strawberry.type(description="The approval expired undecided; it can no longer be decided.")
class ApprovalExpired(Failure):
    expired_at: datetime = strawberry.field(description="When it expired.")

    @classmethod
    def from_error(cls, error: errors.ApprovalExpiredError) -> ApprovalExpired:
        return cls(
            code=error.code,
            message=error.message,
            expired_at=datetime.fromisoformat(error.expired_at),
        )


register(errors.ApprovalAlreadyDecidedError, ApprovalAlreadyDecided.from_error)
register(errors.ApprovalExpiredError, ApprovalExpired.from_error)


@strawberry.type(description="The approval, and the run as it is after the change.")
class ApprovalPayload:
    approval: Approval = strawberry.field(description="The approval.")

    @strawberry.field(description="The run it belongs to.")
    async def execution(self, info: strawberry.Info[Context]) -> Execution | None:
        model = await info.context.loaders.execution_by_id.load(self.approval.model.execution_id)
        return Execution.from_model(model) if model is not None else None


@strawberry.type(description="The run, paused or resumed.")
class ExecutionControlPayload:
    execution: Execution = strawberry.field(description="The run as it is now.")


RequestApprovalResult = Annotated[
    ApprovalPayload
    | ValidationError
    | NotFound
    | Forbidden
    | InvalidTransition
    | IdempotencyConflict,
    strawberry.union("RequestApprovalResult", description="The approval asked for, or why not."),
]
DecideApprovalResult = Annotated[
    ApprovalPayload
    | ValidationError
    | NotFound
    | Forbidden
    | InvalidTransition
    | IdempotencyConflict
    | ApprovalAlreadyDecided
    | ApprovalExpired,
    strawberry.union("DecideApprovalResult", description="The decided approval, or why not."),
]
ExecutionControlResult = Annotated[
    ExecutionControlPayload
    | ValidationError
    | NotFound
    | Forbidden
    | InvalidTransition
    | IdempotencyConflict,
    strawberry.union("ExecutionControlResult", description="The run, or why not."),
]
Reason = Annotated[
    str | None, strawberry.argument(description="Why (kept with the run's event; 1000 chars).")
]


@strawberry.type
class ApprovalMutations:
    @strawberry.mutation(
        permission_classes=WRITERS,
        description="For engines at a human node: ask people to decide; the run becomes "
        "PAUSED until one of them does. Approvers come from `approvers`, else from the "
        "node's `data.approvers`; each must be a member who may read the workflow.",
    )
    @capture_errors
    async def request_approval(
        self,
        info: strawberry.Info[Context],
        execution_id: ExecutionId,
        node_id: Annotated[str, strawberry.argument(description="The human node.")],
        approvers: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Users who may decide (default: the node's)."),
        ] = None,
        message: Annotated[
            str | None, strawberry.argument(description="What they are asked (2000 chars).")
        ] = None,
        expires_in_seconds: Annotated[
            int | None,
            strawberry.argument(description="Undecided after this long, it expires (max 30 d)."),
        ] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> RequestApprovalResult:
        approval = await request.request_approval(
            info.context.services,
            info.context.principal,
            info.context.actor,
            request.ApprovalRequest(
                execution_id=execution_id,
                node_id=node_id,
                approvers=[str(a) for a in approvers] if approvers is not None else None,
                message=message,
                expires_in_seconds=expires_in_seconds,
                idempotency_key=idempotency_key,
            ),
        )
        return ApprovalPayload(approval=Approval.from_model(approval))

    @strawberry.mutation(
        # Viewers too: an approver is named for this, whatever their role (the rule, in
        # resolvers.access.approvals, is checked on the approval).
        permission_classes=READERS,
        description="Decide an approval, once: by one of its approvers, an owner of the "
        "workflow, or an admin. APPROVE resumes the run; REJECT fails it, unless the human "
        'node\'s `data.onReject` is "continue" (then it resumes and the engine branches).',
    )
    @capture_errors
    async def decide_approval(
        self,
        info: strawberry.Info[Context],
        approval_id: Annotated[strawberry.ID, strawberry.argument(description="Which one.")],
        decision: Annotated[
            domain.ApprovalDecision, strawberry.argument(description="APPROVE or REJECT.")
        ],
        comment: Annotated[str | None, strawberry.argument(description="Why (2000 chars).")] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> DecideApprovalResult:
        approval = await decide.decide_approval(
            info.context.services,
            info.context.principal,
            info.context.actor,
            approval_id=approval_id,
            decision=domain.ApprovalDecision(decision),
            comment=comment,
            idempotency_key=idempotency_key,
        )
        return ApprovalPayload(approval=Approval.from_model(approval))

    @strawberry.mutation(
        permission_classes=WRITERS,
        description="Hold a pending or running run (the workflow's owners and editors, "
        "admins); its engine hears it on `executionCommands`.",
    )
    @capture_errors
    async def pause_execution(
        self,
        info: strawberry.Info[Context],
        execution_id: ExecutionId,
        reason: Reason = None,
        idempotency_key: IdempotencyKey = None,
    ) -> ExecutionControlResult:
        execution = await control.set_paused(
            info.context.services,
            info.context.principal,
            info.context.actor,
            execution_id=execution_id,
            paused=True,
            reason=reason,
            idempotency_key=idempotency_key,
        )
        return ExecutionControlPayload(execution=Execution.from_model(execution))

    @strawberry.mutation(
        permission_classes=WRITERS,
        description="Let a paused run go on (the workflow's owners and editors, admins); "
        "one waiting for an approval goes on only by its decision or its expiry.",
    )
    @capture_errors
    async def resume_execution(
        self,
        info: strawberry.Info[Context],
        execution_id: ExecutionId,
        reason: Reason = None,
        idempotency_key: IdempotencyKey = None,
    ) -> ExecutionControlResult:
        execution = await control.set_paused(
            info.context.services,
            info.context.principal,
            info.context.actor,
            execution_id=execution_id,
            paused=False,
            reason=reason,
            idempotency_key=idempotency_key,
        )
        return ExecutionControlPayload(execution=Execution.from_model(execution))

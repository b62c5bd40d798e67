"""`decideApproval`: one decision per approval; it resumes the run, or on REJECT ends it
as FAILED (unless the human node's `data.onReject` is "continue")."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.enums import (
    ApprovalDecision,
    ExecutionCommandKind,
    ExecutionEventType,
)
from models.sql import Approval, Execution
from models.sql.base import utcnow
from resolvers import access
from resolvers.approvals import commands, nodes
from resolvers.approvals.outcome import carry_on
from resolvers.approvals.request import load_approval
from resolvers.changes import record_change
from resolvers.ids import to_global_id
from resolvers.lifecycle.events import PendingEvent
from resolvers.lifecycle.transaction import locked_execution, run_change
from resolvers.mutations.access import readable_execution
from resolvers.mutations.errors import (
    ApprovalAlreadyDecidedError,
    ApprovalExpiredError,
    ForbiddenError,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
)
from resolvers.mutations.executions import check_key
from resolvers.validation import values
from resolvers.validation.issues import Issues

if TYPE_CHECKING:
    from flowgate.principal import Actor, Principal
    from flowgate.services import Services

MAX_COMMENT_LENGTH = 2000


async def decide_approval(
    services: Services,
    principal: Principal,
    actor: Actor,
    *,
    approval_id: str,
    decision: ApprovalDecision,
    comment: str | None,
    idempotency_key: str | None = None,
) -> Approval:
    """Decide once. A retry with the same idempotency key (a double click, a dropped
    answer) returns the first answer instead of ApprovalAlreadyDecided."""
    issues = Issues()
    local_id = values.global_id(issues, "approvalId", approval_id, "Approval")
    cleaned = (
        values.text(issues, "comment", comment, max_length=MAX_COMMENT_LENGTH)
        if comment is not None
        else None
    )
    key = check_key(issues, idempotency_key)
    if issues or local_id is None:
        raise InvalidInputError(issues)
    async with services.postgres.session() as session:
        found = await session.scalar(
            select(Approval).where(
                Approval.id == local_id, Approval.organization_id == principal.organization_id
            )
        )
    if found is None:
        raise NotFoundError("Approval", approval_id)
    execution_gid = to_global_id("Execution", found.execution_id)
    try:
        # Reading the run is what reading its approval takes; deciding is checked below.
        checked = await readable_execution(services, principal, found.execution_id, execution_gid)
    except NotFoundError:
        raise NotFoundError("Approval", approval_id) from None
    drives = access.may_drive_execution(
        principal,
        checked.execution,
        agent_owner_id=checked.agent_owner_id,
        workflow=checked.workflow,
    )
    if not access.may_decide_approval(
        principal, found, workflow=checked.workflow, drives_run=drives
    ):
        raise ForbiddenError(
            "Only the approval's approvers, the workflow's owners or an admin may decide it"
        )
    node = await nodes.human_node(Issues(), checked.execution, checked.workflow, found.node_id)
    fails_on_reject = nodes.rejects_by_failing(node)

    async def change(session: AsyncSession) -> tuple[Execution, list[PendingEvent], dict[str, Any]]:
        # The run's lock first, as every lifecycle call takes it: two deciders (or a decider
        # and a cancel) queue here, and the second sees what the first did.
        execution = await locked_execution(
            session, principal.organization_id, found.execution_id, execution_gid
        )
        approval = await session.get(Approval, local_id, populate_existing=True)
        if approval is None:
            raise NotFoundError("Approval", approval_id)
        now = utcnow()
        if approval.decision is not None:
            raise ApprovalAlreadyDecidedError(
                approval.decision.value,
                to_global_id("User", approval.decided_by_id) if approval.decided_by_id else None,
            )
        if approval.expires_at is not None and approval.is_expired(now):
            raise ApprovalExpiredError(approval.expires_at.isoformat())
        if execution.status.is_terminal:
            raise InvalidTransitionError(
                f"The execution is {execution.status.value}: there is nothing left to decide"
            )
        approval.decision = decision
        approval.decided_at = now
        approval.decided_by_id = actor.user_id
        approval.comment = cleaned
        execution.human_interventions += 1
        events = [
            PendingEvent(
                ExecutionEventType.APPROVAL_DECIDED,
                node_id=approval.node_id,
                payload={
                    "approvalId": str(approval.id),
                    "decision": decision.value,
                    "decidedBy": str(actor.user_id),
                },
                created_at=now,
            )
        ]
        record_change(
            session,
            actor,
            action=f"execution.approval.{decision.value}",
            object_type="Execution",
            object_id=execution.id,
            summary={"approval_id": str(approval.id), "comment": cleaned},
        )
        await session.flush()  # the decision is in before the next open one is looked for
        error = f"rejected at {approval.node_id}" + (f": {cleaned}" if cleaned else "")
        events += await carry_on(
            session,
            actor,
            execution,
            approval.id,
            ends_run=decision is ApprovalDecision.REJECT and fails_on_reject,
            failure={"error": error},
            reason="approval",
        )
        await commands.record(
            session,
            actor,
            execution,
            ExecutionCommandKind.APPROVAL_DECIDED,
            approval_id=approval.id,
            decision=decision.value,
            comment=cleaned,
            nodeId=approval.node_id,
            status=execution.status.value,
        )
        return execution, events, {"execution_id": str(execution.id), "id": str(approval.id)}

    answer = await run_change(
        services,
        actor,
        operation="decideApproval",
        request={"approval": str(local_id), "decision": decision.value, "comment": cleaned},
        idempotency_key=key,
        change=change,
    )
    return await load_approval(services, uuid.UUID(answer["id"]))

"""`requestApproval`: an engine at a human node asks people to decide; the run waits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.access import Action
from models.enums import ExecutionEventType, ExecutionStatus
from models.sql import Approval, Execution
from models.sql.base import utcnow
from resolvers.approvals import nodes
from resolvers.changes import record_change
from resolvers.ids import to_global_id
from resolvers.lifecycle.events import PendingEvent
from resolvers.lifecycle.transaction import locked_execution, run_change
from resolvers.mutations.access import require_execution_action
from resolvers.mutations.errors import InvalidInputError, InvalidTransitionError
from resolvers.mutations.executions import check_key
from resolvers.validation import values
from resolvers.validation.issues import IssueCode, Issues

if TYPE_CHECKING:
    from flowgate.principal import Actor, Principal
    from flowgate.services import Services

MAX_MESSAGE_LENGTH = 2000
MAX_EXPIRY_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class ApprovalRequest:
    execution_id: str
    node_id: str
    approvers: list[str] | None = None
    message: str | None = None
    expires_in_seconds: int | None = None
    idempotency_key: str | None = None


async def request_approval(
    services: Services, principal: Principal, actor: Actor, request: ApprovalRequest
) -> Approval:
    """Record the approval and pause the run (an engine's call: it takes RUN, like steps)."""
    issues = Issues()
    local_id = values.global_id(issues, "executionId", request.execution_id, "Execution")
    key = check_key(issues, request.idempotency_key)
    values.text(issues, "nodeId", request.node_id, max_length=100, required=True)
    message = (
        values.text(issues, "message", request.message, max_length=MAX_MESSAGE_LENGTH)
        if request.message is not None
        else None
    )
    expiry = request.expires_in_seconds
    if expiry is not None and not 1 <= expiry <= MAX_EXPIRY_SECONDS:
        issues.add("expiresInSeconds", IssueCode.OUT_OF_RANGE, f"must be 1..{MAX_EXPIRY_SECONDS}")
    if issues or local_id is None:
        raise InvalidInputError(issues)
    checked = await require_execution_action(
        services, principal, local_id, request.execution_id, Action.RUN
    )
    node = await nodes.human_node(issues, checked.execution, checked.workflow, request.node_id)
    approvers = nodes.approver_ids(issues, request.approvers, node)
    if approvers:
        await nodes.check_approvers(
            issues, services, principal.organization_id, approvers, checked.workflow
        )
    if issues:
        raise InvalidInputError(issues)

    async def change(session: AsyncSession) -> tuple[Execution, list[PendingEvent], dict[str, Any]]:
        execution = await locked_execution(
            session, principal.organization_id, local_id, request.execution_id
        )
        if execution.status.is_terminal:
            raise InvalidTransitionError(
                f"The execution is {execution.status.value}: it waits for no one"
            )
        now = utcnow()
        waiting = await open_approval(session, execution.id)
        if waiting is not None:
            raise InvalidTransitionError(
                f"The execution already waits for approval {to_global_id('Approval', waiting.id)}"
            )
        approval = Approval(
            id=uuid.uuid4(),
            organization_id=execution.organization_id,
            execution_id=execution.id,
            node_id=request.node_id,
            approvers=approvers,
            message=message,
            requested_by_id=actor.user_id,
            requested_at=now,
            expires_at=now + timedelta(seconds=expiry) if expiry is not None else None,
        )
        session.add(approval)
        events = []
        if execution.status is not ExecutionStatus.PAUSED:
            execution.status = ExecutionStatus.PAUSED
            events.append(
                PendingEvent(
                    ExecutionEventType.STATUS_CHANGED,
                    status=ExecutionStatus.PAUSED.value,
                    progress=(execution.nodes_done, execution.nodes_total),
                    payload={"reason": "approval", "approvalId": str(approval.id)},
                    created_at=now,
                )
            )
        events.append(
            PendingEvent(
                ExecutionEventType.APPROVAL_REQUESTED,
                node_id=request.node_id,
                payload={
                    "approvalId": str(approval.id),
                    "nodeId": request.node_id,
                    "approvers": [str(a) for a in approvers],
                    "message": message,
                },
                created_at=now,
            )
        )
        record_change(
            session,
            actor,
            action="execution.approval.requested",
            object_type="Execution",
            object_id=execution.id,
            summary={"approval_id": str(approval.id), "node_id": request.node_id},
        )
        return execution, events, {"execution_id": str(execution.id), "id": str(approval.id)}

    answer = await run_change(
        services,
        actor,
        operation="requestApproval",
        request={
            "execution": str(local_id),
            "node": request.node_id,
            "approvers": [str(a) for a in approvers],
            "message": message,
            "expires": expiry,
        },
        idempotency_key=key,
        change=change,
    )
    return await load_approval(services, uuid.UUID(answer["id"]))


async def open_approval(session: AsyncSession, execution_id: uuid.UUID) -> Approval | None:
    """The approval the run waits for now: undecided and not expired."""
    result: Approval | None = await session.scalar(
        select(Approval).where(
            Approval.execution_id == execution_id,
            Approval.is_open_sql(utcnow()),
        )
    )
    return result


async def load_approval(services: Services, approval_id: uuid.UUID) -> Approval:
    async with services.postgres.session() as session:
        approval = await session.get(Approval, approval_id)
    if approval is None:  # pragma: no cover - the row was committed above, and cascades only
        raise InvalidTransitionError("The approval's execution no longer exists")
    return approval

"""Approvals that expire undecided. Once an approval's deadline (`expiresInSeconds`) passes
with no decision, the run goes on as its human node says a rejection does: by default it
fails (error code APPROVAL_EXPIRED); with `data.onReject: "continue"` it resumes (once nothing
else holds it), and its engine reads an APPROVAL_EXPIRED command in `executionCommands`, so it
can take the rejection branch. Either way an APPROVAL_EXPIRED event is stored and streamed.

The timeout sweeper runs `lapse_due` on every pass, on every replica. Each approval is acted
on once: under the run's lock, and only while it is undecided and `lapsed_at` is unset, so a
decision that lands first wins and a second sweeper finds nothing to do."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from flowgate.principal import Actor
from models.documents import Workflow
from models.enums import (
    TERMINAL_EXECUTION_STATUSES,
    ExecutionCommandKind,
    ExecutionErrorCode,
    ExecutionEventType,
)
from models.sql import Approval, Execution
from models.sql.base import utcnow
from resolvers.approvals import commands, nodes
from resolvers.approvals.outcome import carry_on
from resolvers.changes import record_change
from resolvers.ids import to_global_id
from resolvers.lifecycle.events import PendingEvent
from resolvers.lifecycle.transaction import locked_execution, run_change
from resolvers.validation.issues import Issues

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from flowgate.services import Services

BATCH = 200


class _SettledError(Exception):
    """The approval was decided, or acted on, since it was found due."""


async def lapse_due(services: Services) -> int:
    """Act on every approval that expired undecided (up to a batch); how many were."""
    async with services.postgres.session() as session:
        due = (
            await session.execute(
                select(Approval.id, Approval.organization_id, Approval.execution_id)
                .join(Execution, Execution.id == Approval.execution_id)
                .where(
                    # By the database's clock; the partial index of due approvals serves it.
                    Approval.is_expired_sql(func.now()),
                    Approval.lapsed_at.is_(None),
                    # An ended run is past caring; its approval just shows EXPIRED.
                    Execution.status.not_in(TERMINAL_EXECUTION_STATUSES),
                )
                .order_by(Approval.expires_at)
                .limit(BATCH)
            )
        ).all()
    lapsed = 0
    for approval_id, organization_id, execution_id in due:
        lapsed += await lapse(services, organization_id, execution_id, approval_id)
    return lapsed


async def lapse(
    services: Services, organization_id: uuid.UUID, execution_id: uuid.UUID, approval_id: uuid.UUID
) -> bool:
    """Act on one expired approval, in a transaction of its own; whether it was still due."""
    actor = Actor.system(organization_id)
    execution_gid = to_global_id("Execution", execution_id)
    # The node decides what an expiry means; read before the run is locked (as a decision
    # reads it), so no MongoDB call runs under the lock.
    async with services.postgres.session() as session:
        found = await session.get(Execution, execution_id)
        approval = await session.get(Approval, approval_id)
    if found is None or approval is None:
        return False
    workflow = (
        await Workflow.find_one({"_id": found.workflow_id, "organization_id": organization_id})
        if found.workflow_id
        else None
    )
    ends_run = nodes.rejects_by_failing(
        await nodes.human_node(Issues(), found, workflow, approval.node_id)
    )

    async def change(session: AsyncSession) -> tuple[Execution, list[PendingEvent], dict[str, Any]]:
        execution = await locked_execution(session, organization_id, execution_id, execution_gid)
        approval = await session.get(Approval, approval_id, populate_existing=True)
        now = utcnow()
        if (
            approval is None
            or approval.lapsed_at is not None
            or not approval.is_expired(now)
            or execution.status.is_terminal
        ):
            raise _SettledError
        approval.lapsed_at = now
        expired_at = approval.expires_at.isoformat() if approval.expires_at else None
        events = [
            PendingEvent(
                ExecutionEventType.APPROVAL_EXPIRED,
                node_id=approval.node_id,
                payload={"approvalId": str(approval.id), "expiresAt": expired_at},
                created_at=now,
            )
        ]
        events += await carry_on(
            session,
            actor,
            execution,
            approval.id,
            ends_run=ends_run,
            failure={
                "error": f"approval at {approval.node_id} expired undecided ({expired_at})",
                "error_code": ExecutionErrorCode.APPROVAL_EXPIRED.value,
            },
            reason="approval_expired",
        )
        record_change(
            session,
            actor,
            action="execution.approval.expired",
            object_type="Execution",
            object_id=execution.id,
            summary={"approval_id": str(approval.id), "ends_run": ends_run},
        )
        await commands.record(
            session,
            actor,
            execution,
            ExecutionCommandKind.APPROVAL_EXPIRED,
            approval_id=approval.id,
            nodeId=approval.node_id,
            status=execution.status.value,
        )
        return execution, events, {"execution_id": str(execution.id), "id": str(approval.id)}

    try:
        await run_change(
            services,
            actor,
            operation="expireApproval",
            request={"approval": str(approval_id)},
            idempotency_key=None,
            change=change,
        )
    except _SettledError:
        return False
    return True

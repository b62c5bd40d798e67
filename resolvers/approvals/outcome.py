"""What a run does once an approval stops holding it, decided or expired: one rule for
`decideApproval` and the expiry sweep. A refusal (a REJECT, or no answer in time) at a node
that fails on rejection ends the run FAILED; otherwise the run resumes once nothing else holds
it (another open approval keeps it paused)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from models.enums import ExecutionEventType, ExecutionStatus
from models.sql.base import utcnow
from resolvers.approvals.request import open_approval
from resolvers.lifecycle.events import PendingEvent
from resolvers.mutations.executions import end_in_transaction

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from flowgate.principal import Actor
    from models.sql import Execution


async def carry_on(
    session: AsyncSession,
    actor: Actor,
    execution: Execution,
    approval_id: uuid.UUID,
    *,
    ends_run: bool,
    failure: dict[str, Any],
    reason: str,
) -> list[PendingEvent]:
    """The events of the run's next state: `ends_run` fails it with `failure` (the ending's
    fields), else it resumes with `reason` if it is paused and nothing else holds it."""
    if ends_run:
        return [
            await end_in_transaction(session, actor, execution, ExecutionStatus.FAILED, failure)
        ]
    if execution.status is not ExecutionStatus.PAUSED or await open_approval(session, execution.id):
        return []
    execution.status = ExecutionStatus.RUNNING
    return [
        PendingEvent(
            ExecutionEventType.STATUS_CHANGED,
            status=ExecutionStatus.RUNNING.value,
            progress=(execution.nodes_done, execution.nodes_total),
            payload={"reason": reason, "approvalId": str(approval_id)},
            created_at=utcnow(),
        )
    ]

"""`pauseExecution` and `resumeExecution`: operators (CHANGE on the run's workflow) hold a
run and let it go on. A run waiting for an approval resumes only by its decision."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from models.access import Action
from models.enums import ExecutionCommandKind, ExecutionEventType, ExecutionStatus
from models.sql import Execution
from models.sql.base import utcnow
from resolvers.approvals import commands
from resolvers.approvals.request import open_approval
from resolvers.changes import record_change
from resolvers.ids import to_global_id
from resolvers.lifecycle.events import PendingEvent
from resolvers.lifecycle.transaction import locked_execution, run_change
from resolvers.mutations.access import require_execution_action
from resolvers.mutations.errors import InvalidInputError, InvalidTransitionError
from resolvers.mutations.executions import check_key
from resolvers.validation import values
from resolvers.validation.issues import Issues

if TYPE_CHECKING:
    from flowgate.principal import Actor, Principal
    from flowgate.services import Services

MAX_REASON_LENGTH = 1000
# What may be paused: a run not yet ended and not already paused.
PAUSABLE = frozenset({ExecutionStatus.PENDING, ExecutionStatus.RUNNING})


async def set_paused(
    services: Services,
    principal: Principal,
    actor: Actor,
    *,
    execution_id: str,
    paused: bool,
    reason: str | None,
    idempotency_key: str | None,
) -> Execution:
    """Pause (`paused`) or resume the run; each is one human intervention."""
    issues = Issues()
    local_id = values.global_id(issues, "executionId", execution_id, "Execution")
    key = check_key(issues, idempotency_key)
    cleaned = (
        values.text(issues, "reason", reason, max_length=MAX_REASON_LENGTH)
        if reason is not None
        else None
    )
    if issues or local_id is None:
        raise InvalidInputError(issues)
    await require_execution_action(services, principal, local_id, execution_id, Action.CHANGE)
    verb = "paused" if paused else "resumed"

    async def change(session: AsyncSession) -> tuple[Execution, list[PendingEvent], dict[str, Any]]:
        execution = await locked_execution(
            session, principal.organization_id, local_id, execution_id
        )
        if paused and execution.status not in PAUSABLE:
            raise InvalidTransitionError(
                f"An execution that is {execution.status.value} cannot be paused"
            )
        if not paused:
            if execution.status is not ExecutionStatus.PAUSED:
                raise InvalidTransitionError(
                    f"An execution that is {execution.status.value} cannot be resumed"
                )
            waiting = await open_approval(session, execution.id)
            if waiting is not None:
                raise InvalidTransitionError(
                    "The execution waits for approval "
                    f"{to_global_id('Approval', waiting.id)}: decide it (decideApproval)"
                )
        new = ExecutionStatus.PAUSED if paused else ExecutionStatus.RUNNING
        execution.status = new
        execution.human_interventions += 1
        record_change(
            session,
            actor,
            action=f"execution.{verb}",
            object_type="Execution",
            object_id=execution.id,
            summary={"reason": cleaned},
        )
        kind = ExecutionCommandKind.PAUSED if paused else ExecutionCommandKind.RESUMED
        await commands.record(session, actor, execution, kind, reason=cleaned)
        event = PendingEvent(
            ExecutionEventType.STATUS_CHANGED,
            status=new.value,
            progress=(execution.nodes_done, execution.nodes_total),
            payload={"by": str(actor.user_id), **({"reason": cleaned} if cleaned else {})},
            created_at=utcnow(),
        )
        return execution, [event], {"execution_id": str(execution.id)}

    answer = await run_change(
        services,
        actor,
        operation="pauseExecution" if paused else "resumeExecution",
        request={"execution": str(local_id), "reason": cleaned},
        idempotency_key=key,
        change=change,
    )
    async with services.postgres.session() as session:
        execution = await session.get(Execution, local_id)
    if execution is None or answer is None:  # pragma: no cover - deleted since
        raise InvalidTransitionError("The execution no longer exists")
    return execution

"""Finishing and cancelling executions, and the one ending every run goes through (the
lifecycle's write order is described in `resolvers.lifecycle`; starting is `starting`)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from models.enums import ExecutionCommandKind, ExecutionEventType, ExecutionStatus
from models.sql import Execution
from models.sql.base import utcnow
from resolvers.approvals import commands
from resolvers.changes import record_change
from resolvers.lifecycle.events import PendingEvent
from resolvers.lifecycle.state_machine import can_transition
from resolvers.lifecycle.transaction import locked_execution, run_change
from resolvers.mutations.access import require_execution_driver
from resolvers.mutations.errors import InvalidInputError, InvalidTransitionError, NotFoundError
from resolvers.validation import values
from resolvers.validation.issues import IssueCode, Issues

if TYPE_CHECKING:
    from strawberry import Info

    from flowgate.principal import Actor
    from flowgate.services import Services
    from resolvers.context import Context

MAX_INPUT_BYTES = 64 * 1024
MAX_KEY_LENGTH = 200
MAX_ERROR_LENGTH = 10_000


def check_key(issues: Issues, key: str | None) -> str | None:
    if key is None:
        return None
    return values.text(issues, "idempotencyKey", key, max_length=MAX_KEY_LENGTH, required=True)


async def finish_execution(
    info: Info[Context],
    *,
    execution_id: str,
    status: ExecutionStatus,
    result: object | None,
    error: str | None,
    idempotency_key: str | None,
) -> Execution:
    """End a running (or paused, or pending) execution as succeeded or failed."""
    issues = Issues()
    if status not in {ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED}:
        issues.add("status", IssueCode.INVALID, "must be SUCCEEDED or FAILED (see cancelExecution)")
    if status is ExecutionStatus.FAILED and not (error or "").strip():
        issues.add("error", IssueCode.REQUIRED, "a failed execution needs its error")
    cleaned_error = (
        values.text(issues, "error", error, max_length=MAX_ERROR_LENGTH) if error else None
    )
    cleaned_result = (
        values.json_object(issues, "result", result, max_bytes=MAX_INPUT_BYTES)
        if result is not None
        else None
    )
    return await _end(
        info,
        execution_id=execution_id,
        status=status,
        issues=issues,
        fields={"result": cleaned_result, "error": cleaned_error},
        idempotency_key=idempotency_key,
        operation="finishExecution",
    )


async def cancel_execution(
    info: Info[Context], *, execution_id: str, reason: str | None, idempotency_key: str | None
) -> Execution:
    issues = Issues()
    cleaned = values.text(issues, "reason", reason, max_length=1000) if reason else None
    return await _end(
        info,
        execution_id=execution_id,
        status=ExecutionStatus.CANCELLED,
        issues=issues,
        fields={"error": f"cancelled: {cleaned}" if cleaned else "cancelled"},
        idempotency_key=idempotency_key,
        operation="cancelExecution",
    )


async def _end(
    info: Info[Context],
    *,
    execution_id: str,
    status: ExecutionStatus,
    issues: Issues,
    fields: dict[str, Any],
    idempotency_key: str | None,
    operation: str,
) -> Execution:
    local_id = values.global_id(issues, "executionId", execution_id, "Execution")
    key = check_key(issues, idempotency_key)
    if issues or local_id is None:
        raise InvalidInputError(issues)
    await require_execution_driver(info, local_id, execution_id)
    answer = await end_execution(
        info.context.services,
        info.context.actor,
        execution_id=local_id,
        global_id=execution_id,
        status=status,
        fields=fields,
        idempotency_key=key,
        operation=operation,
    )
    return await load_execution(info, answer)


async def end_execution(
    services: Services,
    actor: Actor,
    *,
    execution_id: uuid.UUID,
    global_id: str,
    status: ExecutionStatus,
    fields: dict[str, Any],
    idempotency_key: str | None,
    operation: str,
) -> dict[str, Any]:
    """End the execution: the one path for every ending (an engine's finish, a person's
    cancel, the timeout sweeper; a rejected approval ends inside its own change through
    `end_in_transaction`), so that each has the same checks, events and records. Raises
    `InvalidTransitionError` if it has ended already."""

    async def change(session: AsyncSession) -> tuple[Execution, list[PendingEvent], dict[str, Any]]:
        execution = await locked_execution(session, actor.organization_id, execution_id, global_id)
        event = await end_in_transaction(session, actor, execution, status, fields)
        return execution, [event], {"execution_id": str(execution.id)}

    return await run_change(
        services,
        actor,
        operation=operation,
        request={"execution": str(execution_id), "status": status.value, **fields},
        idempotency_key=idempotency_key,
        change=change,
    )


async def end_in_transaction(
    session: AsyncSession,
    actor: Actor,
    execution: Execution,
    status: ExecutionStatus,
    fields: dict[str, Any],
) -> PendingEvent:
    """End `execution` (locked by the caller) as `status`: the one ending code, shared by
    `end_execution` and a rejected approval (which ends the run inside its own change).
    Returns its event."""
    if not can_transition(execution.status, status):
        raise InvalidTransitionError(
            f"An execution that is {execution.status.value} cannot become {status.value}"
        )
    now = utcnow()
    execution.status = status
    execution.ended_at = now
    execution.duration_ms = int((now - execution.started_at).total_seconds() * 1000)
    for name, value in fields.items():
        setattr(execution, name, value)
    record_change(
        session,
        actor,
        action=f"execution.{status.value}",
        object_type="Execution",
        object_id=execution.id,
        summary={"status": status.value},
    )
    if status is ExecutionStatus.CANCELLED:
        # The engine running it must stop: it hears so on `executionCommands`.
        await commands.record(
            session, actor, execution, ExecutionCommandKind.CANCELLED, reason=fields.get("error")
        )
    return PendingEvent(
        ExecutionEventType.STATUS_CHANGED,
        status=status.value,
        progress=(execution.nodes_done, execution.nodes_total),
        payload={_camel(k): v for k, v in fields.items() if v is not None},
        created_at=now,
    )


def _camel(name: str) -> str:
    """Event payloads use the API's names (`errorCode`), as the other payload keys do."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def load_execution(info: Info[Context], answer: dict[str, Any]) -> Execution:
    async with info.context.services.postgres.session() as session:
        execution = await session.get(Execution, uuid.UUID(answer["execution_id"]))
    if execution is None:  # deleted since the first answer
        raise NotFoundError("Execution", answer["execution_id"])
    return execution

"""`appendExecutionLog`: a line an engine writes to a live execution's event log (a `LOG`
event), ordered with the lifecycle's own events and streamed like them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from models.enums import ExecutionEventType, LogLevel
from models.sql import Execution
from models.sql.base import utcnow
from resolvers.lifecycle.events import PendingEvent
from resolvers.lifecycle.transaction import locked_execution, run_change
from resolvers.mutations.access import require_execution_driver
from resolvers.mutations.errors import InvalidInputError, InvalidTransitionError, NotFoundError
from resolvers.mutations.executions import check_key
from resolvers.validation import values
from resolvers.validation.issues import Issues

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context

MAX_MESSAGE_LENGTH: Final = 4000
MAX_DATA_BYTES: Final = 16 * 1024
MAX_NODE_ID_LENGTH: Final = 100


async def append_log(
    info: Info[Context],
    *,
    execution_id: str,
    level: LogLevel,
    message: str,
    node_id: str | None,
    data: object | None,
    idempotency_key: str | None,
) -> tuple[Execution, int]:
    """Append the line; returns the execution and the sequence number of its event. A run
    that has ended takes no more lines (its log is closed with its terminal event)."""
    issues = Issues()
    local_id = values.global_id(issues, "executionId", execution_id, "Execution")
    cleaned = values.text(issues, "message", message, max_length=MAX_MESSAGE_LENGTH, required=True)
    node = (
        values.text(issues, "nodeId", node_id, max_length=MAX_NODE_ID_LENGTH, required=True)
        if node_id is not None
        else None
    )
    cleaned_data = (
        values.json_object(issues, "data", data, max_bytes=MAX_DATA_BYTES)
        if data is not None
        else None
    )
    key = check_key(issues, idempotency_key)
    if issues or local_id is None:
        raise InvalidInputError(issues)
    await require_execution_driver(info, local_id, execution_id)

    async def change(session: AsyncSession) -> tuple[Execution, list[PendingEvent], dict[str, Any]]:
        execution = await locked_execution(
            session, info.context.actor.organization_id, local_id, execution_id
        )
        if execution.status.is_terminal:
            raise InvalidTransitionError(
                f"The execution is {execution.status.value}: its log is closed"
            )
        payload: dict[str, Any] = {"level": level.value, "message": cleaned}
        if cleaned_data is not None:
            payload["data"] = cleaned_data
        event = PendingEvent(
            ExecutionEventType.LOG, node_id=node, payload=payload, created_at=utcnow()
        )
        seq = execution.last_event_seq + 1
        return execution, [event], {"execution_id": str(execution.id), "seq": seq}

    answer = await run_change(
        info.context.services,
        info.context.actor,
        operation="appendExecutionLog",
        request={
            "execution": str(local_id),
            "level": level.value,
            "message": cleaned,
            "node": node,
            "data": cleaned_data,
        },
        idempotency_key=key,
        change=change,
    )
    async with info.context.services.postgres.session() as session:
        execution = await session.get(Execution, local_id)
    if execution is None:  # deleted since the first answer
        raise NotFoundError("Execution", execution_id)
    return execution, int(answer["seq"])

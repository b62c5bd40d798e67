"""The lifecycle's hook: notifications and webhook deliveries for the events of a change,
written in the change's own transaction (see the package docstring)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models.documents import Workflow
from models.enums import ExecutionEventType, ExecutionStatus, NotificationKind
from models.sql import Execution, Notification, NotificationCounter
from resolvers.ids import to_global_id
from resolvers.lifecycle.events import PendingEvent
from resolvers.notifications import webhooks
from resolvers.notifications.recipients import owners, recipients

MAX_MESSAGE = 500
MAX_QUOTED_ERROR = 200


@dataclass(frozen=True)
class Occasion:
    """Something worth telling: its kind, whom it may concern, and what to say."""

    kind: NotificationKind
    candidates: list[uuid.UUID]
    message: str
    details: dict[str, Any]


async def on_events(
    session: AsyncSession, execution: Execution, events: Sequence[PendingEvent]
) -> list[Notification]:
    """Notify about `events` of `execution` in the caller's transaction; returns the
    notifications written, for the caller to announce once it has committed."""
    relevant = [event for event in events if _kind_of(event) is not None]
    if not relevant:
        return []
    workflow = await _workflow(execution)
    written: list[Notification] = []
    for event in relevant:
        occasion = _occasion(execution, workflow, event)
        if occasion is None:
            continue
        told = await recipients(
            session, execution.organization_id, occasion.candidates, workflow, occasion.kind
        )
        for user_id in told:
            written.append(await _notify(session, execution, user_id, occasion))
        if workflow is not None:
            await webhooks.queue(session, execution, workflow, occasion.kind, occasion.details)
    return written


def _kind_of(event: PendingEvent) -> NotificationKind | None:
    if event.type is ExecutionEventType.APPROVAL_REQUESTED:
        return NotificationKind.APPROVAL_REQUESTED
    if event.type is ExecutionEventType.STATUS_CHANGED:
        if event.status == ExecutionStatus.FAILED.value:
            return NotificationKind.EXECUTION_FAILED
        if event.status == ExecutionStatus.SUCCEEDED.value:
            return NotificationKind.EXECUTION_SUCCEEDED
    return None


async def _workflow(execution: Execution) -> Workflow | None:
    if execution.workflow_id is None:
        return None
    return await Workflow.find_one(
        {"_id": execution.workflow_id, "organization_id": execution.organization_id}
    )


def _occasion(
    execution: Execution, workflow: Workflow | None, event: PendingEvent
) -> Occasion | None:
    kind = _kind_of(event)
    name = f"workflow {workflow.name!r}" if workflow is not None else "an agent"
    details: dict[str, Any] = {
        "executionId": to_global_id("Execution", execution.id),
        "workflowId": to_global_id("Workflow", workflow.id) if workflow else None,
        "workflowName": workflow.name if workflow else None,
    }
    if kind is NotificationKind.APPROVAL_REQUESTED:
        payload = event.payload
        approvers = [_uuid(value) for value in payload.get("approvers") or []]
        note = payload.get("message")
        details |= {
            "approvalId": payload.get("approvalId"),
            "nodeId": payload.get("nodeId"),
            "message": note,
        }
        text = f"Your approval is requested at node {payload.get('nodeId')!r} of a run of {name}"
        return Occasion(
            kind,
            [user for user in approvers if user is not None],
            _clip(f"{text}: {note}" if note else text),
            details,
        )
    # A run's end concerns the owners of a workflow, when its settings ask for it: a run of
    # no workflow has neither owners nor settings.
    if workflow is None or kind is None:
        return None
    wanted = workflow.settings.notifications
    if kind is NotificationKind.EXECUTION_FAILED and wanted.on_failure:
        error = str(event.payload.get("error") or "")
        details |= {"status": ExecutionStatus.FAILED.value, "error": error or None}
        quoted = error[:MAX_QUOTED_ERROR]
        return Occasion(kind, owners(workflow), _clip(f"A run of {name} failed: {quoted}"), details)
    if kind is NotificationKind.EXECUTION_SUCCEEDED and wanted.on_success:
        details |= {"status": ExecutionStatus.SUCCEEDED.value}
        return Occasion(kind, owners(workflow), f"A run of {name} succeeded"[:MAX_MESSAGE], details)
    return None


async def _notify(
    session: AsyncSession, execution: Execution, user_id: uuid.UUID, occasion: Occasion
) -> Notification:
    notification = Notification(
        id=uuid.uuid4(),
        organization_id=execution.organization_id,
        user_id=user_id,
        seq=await _next_seq(session, user_id),
        kind=occasion.kind.value,
        execution_id=execution.id,
        workflow_id=execution.workflow_id,
        message=occasion.message,
        payload={k: v for k, v in occasion.details.items() if v is not None},
    )
    session.add(notification)
    return notification


async def _next_seq(session: AsyncSession, user_id: uuid.UUID) -> int:
    """The recipient's next number. The upsert's row lock is held to the commit, so numbers
    are in commit order; recipients are taken in id order, so two changes telling the same
    people lock them in the same order and cannot deadlock."""
    statement = (
        insert(NotificationCounter)
        .values(user_id=user_id, last_seq=1)
        .on_conflict_do_update(
            index_elements=[NotificationCounter.user_id],
            set_={"last_seq": NotificationCounter.last_seq + 1},
        )
        .returning(NotificationCounter.last_seq)
    )
    return int((await session.execute(statement)).scalar_one())


def _clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None

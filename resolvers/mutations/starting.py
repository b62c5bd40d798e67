"""Starting an execution: of an agent, or of a workflow (run by its first agent) within the
workflow's settings (`resolvers.lifecycle.settings`)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.documents import Flowchart, Workflow, WorkflowSettings
from models.enums import ExecutionEventType, ExecutionStatus, WorkflowStatus
from models.sql import Agent, Execution
from models.sql.base import utcnow
from resolvers import access
from resolvers.changes import record_change
from resolvers.lifecycle.events import PendingEvent
from resolvers.lifecycle.settings import apply_settings, claim_slot
from resolvers.lifecycle.transaction import run_change
from resolvers.mutations.access import require_workflow
from resolvers.mutations.errors import InvalidInputError, InvalidTransitionError, NotFoundError
from resolvers.mutations.executions import MAX_INPUT_BYTES, check_key, load_execution
from resolvers.validation import values
from resolvers.validation.issues import IssueCode, Issues

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context


async def start_execution(
    info: Info[Context],
    *,
    agent_id: str | None,
    workflow_id: str | None,
    input_: object | None,
    idempotency_key: str | None,
) -> Execution:
    """A new pending execution of an agent, or of a workflow (run by its first agent)."""
    principal = info.context.principal
    issues = Issues()
    agent_local = values.global_id(issues, "agentId", agent_id, "Agent") if agent_id else None
    workflow_local = (
        values.global_id(issues, "workflowId", workflow_id, "Workflow") if workflow_id else None
    )
    if agent_id is None and workflow_id is None:
        issues.add("agentId", IssueCode.REQUIRED, "give an agentId, a workflowId, or both")
    cleaned_input = (
        values.json_object(issues, "input", input_, max_bytes=MAX_INPUT_BYTES)
        if input_ is not None
        else None
    )
    key = check_key(issues, idempotency_key)
    if issues:
        raise InvalidInputError(issues)

    nodes_total = 0
    settings: WorkflowSettings | None = None
    if workflow_local is not None:
        workflow = await Workflow.find_one(
            {"_id": workflow_local, "organization_id": principal.organization_id}
        )
        workflow = require_workflow(
            principal, workflow, workflow_id or "", access.may_run_workflow, "run"
        )
        if workflow.status is WorkflowStatus.ARCHIVED:
            raise InvalidTransitionError("An archived workflow cannot be run")
        nodes_total = len(workflow.nodes)
        settings = workflow.settings
        if agent_local is None:
            agent_local = _first_agent(workflow)
            if agent_local is None:
                raise InvalidInputError(_one_issue("workflowId", "the workflow calls no agent"))
    if agent_local is None:  # pragma: no cover - guarded by the checks above
        raise InvalidInputError(_one_issue("agentId", "no agent to run"))
    if workflow_local is None:
        flowchart = await Flowchart.find_one(
            {"agent_id": agent_local, "organization_id": principal.organization_id}
        )
        nodes_total = len(flowchart.nodes) if flowchart else 0

    async def change(session: AsyncSession) -> tuple[Execution, list[PendingEvent], dict[str, Any]]:
        agent = await session.scalar(
            select(Agent)
            .where(
                Agent.id == agent_local,
                Agent.organization_id == principal.organization_id,
                Agent.deleted_at.is_(None),
            )
            .with_for_update()
        )
        if agent is None:
            raise NotFoundError("Agent", agent_id or str(agent_local))
        if workflow_local is not None and settings is not None:
            await claim_slot(session, principal.organization_id, workflow_local, settings)
        now = utcnow()
        execution = Execution(
            id=uuid.uuid4(),
            organization_id=principal.organization_id,
            agent_id=agent.id,
            workflow_id=workflow_local,
            status=ExecutionStatus.PENDING,
            started_at=now,
            input=cleaned_input,
            ai_provider=agent.configuration.get("provider"),
            nodes_total=nodes_total,
            started_by_id=principal.user_id,
            idempotency_key=key,
            last_event_seq=0,
        )
        apply_settings(execution, settings)
        session.add(execution)
        agent.execution_count += 1
        agent.last_execution_at = now
        record_change(
            session,
            info.context.actor,
            action="execution.start",
            object_type="Execution",
            object_id=execution.id,
            summary={"agent_id": str(agent.id), "workflow_id": _text(workflow_local)},
        )
        event = PendingEvent(
            ExecutionEventType.STATUS_CHANGED,
            status=ExecutionStatus.PENDING.value,
            progress=(0, nodes_total),
            created_at=now,
        )
        return execution, [event], {"execution_id": str(execution.id)}

    answer = await run_change(
        info.context.services,
        info.context.actor,
        operation="startExecution",
        request={
            "agent": _text(agent_local),
            "workflow": _text(workflow_local),
            "input": cleaned_input,
        },
        idempotency_key=key,
        change=change,
    )
    return await load_execution(info, answer)


def _first_agent(workflow: Workflow) -> uuid.UUID | None:
    for node in workflow.nodes:
        value = node.data.get("agentId")
        if isinstance(value, str):
            try:
                return uuid.UUID(value)
            except ValueError:
                continue
    return None


def _one_issue(path: str, message: str) -> Issues:
    issues = Issues()
    issues.add(path, IssueCode.INVALID, message)
    return issues


def _text(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None

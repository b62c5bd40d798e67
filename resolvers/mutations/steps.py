"""`reportExecutionStep`: what an engine says about one node of a running execution."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from models.documents import Flowchart
from models.enums import ExecutionEventType, ExecutionStatus, NodeType, StepStatus
from models.sql import Execution
from models.sql.base import utcnow
from resolvers.changes import record_change
from resolvers.lifecycle.events import PendingEvent
from resolvers.lifecycle.transaction import locked_execution, run_change
from resolvers.mutations.access import require_execution_driver
from resolvers.mutations.errors import (
    InvalidInputError,
    InvalidTransitionError,
    RetriesExhaustedError,
)
from resolvers.mutations.executions import MAX_ERROR_LENGTH, MAX_INPUT_BYTES, check_key
from resolvers.mutations.step_tokens import StepTokens, step_tokens
from resolvers.validation import values
from resolvers.validation.issues import IssueCode, Issues

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context

MAX_COST_PER_STEP = 10_000.0
MAX_DURATION_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class StepReport:
    node_id: str
    status: StepStatus
    node_type: NodeType | None = None
    # Any JSON the client sent: `_check` reports anything but an object.
    input: object | None = None
    output: object | None = None
    duration_ms: int | None = None
    ai_provider: str | None = None
    # The total, and its parts: `step_tokens` says how they go together.
    tokens: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: float = 0.0
    error: str | None = None


def _check(issues: Issues, step: StepReport) -> StepTokens:
    values.text(issues, "step.nodeId", step.node_id, max_length=100, required=True)
    for name in ("input", "output"):
        value = getattr(step, name)
        if value is not None:
            values.json_object(issues, f"step.{name}", value, max_bytes=MAX_INPUT_BYTES)
    if step.duration_ms is not None and not 0 <= step.duration_ms <= MAX_DURATION_MS:
        issues.add("step.durationMs", IssueCode.OUT_OF_RANGE, f"must be 0..{MAX_DURATION_MS}")
    tokens = step_tokens(issues, step.tokens, step.prompt_tokens, step.completion_tokens)
    if not 0 <= step.cost <= MAX_COST_PER_STEP:
        issues.add("step.cost", IssueCode.OUT_OF_RANGE, f"must be 0..{MAX_COST_PER_STEP}")
    if step.ai_provider is not None:
        values.text(issues, "step.aiProvider", step.ai_provider, max_length=50, required=True)
    if step.error is not None:
        values.text(issues, "step.error", step.error, max_length=MAX_ERROR_LENGTH)
    if step.status is StepStatus.FAILED and not (step.error or "").strip():
        issues.add("step.error", IssueCode.REQUIRED, "a failed step needs its error")
    return tokens


async def report_step(
    info: Info[Context], *, execution_id: str, step: StepReport, idempotency_key: str | None
) -> tuple[Execution, int]:
    """Record a step; returns the execution and the sequence number of the step's event."""
    principal = info.context.principal
    issues = Issues()
    local_id = values.global_id(issues, "executionId", execution_id, "Execution")
    key = check_key(issues, idempotency_key)
    tokens = _check(issues, step)
    if issues or local_id is None:
        raise InvalidInputError(issues)
    await require_execution_driver(info, local_id, execution_id)

    async def change(session: AsyncSession) -> tuple[Execution, list[PendingEvent], dict[str, Any]]:
        execution = await locked_execution(
            session, info.context.principal.organization_id, local_id, execution_id
        )
        if execution.status.is_terminal:
            raise InvalidTransitionError(
                f"The execution is {execution.status.value}: it takes no more steps"
            )
        node_type = await _node_type(issues, principal.organization_id, execution, step)
        if issues:
            raise InvalidInputError(issues)
        attempt = _attempt(execution, step)
        events: list[PendingEvent] = []
        now = utcnow()
        if execution.status is ExecutionStatus.PENDING:
            # The first step of a pending execution is what starts it running. A paused one
            # stays paused: a step in flight when it was paused may still report its end,
            # but only a resume or a decision lets the run go on.
            execution.status = ExecutionStatus.RUNNING
            events.append(
                PendingEvent(
                    ExecutionEventType.STATUS_CHANGED,
                    status=ExecutionStatus.RUNNING.value,
                    progress=(execution.nodes_done, execution.nodes_total),
                    created_at=now,
                )
            )
        step_index = len(events)
        events.extend(_step_events(execution, step, tokens, node_type, now, attempt))
        record_change(
            session,
            info.context.actor,
            action=f"execution.step.{step.status.value}",
            object_type="Execution",
            object_id=execution.id,
            summary={"node_id": step.node_id, "tokens": tokens.total, "cost": step.cost},
        )
        # The answer names the step's own event (numbers are assigned in list order).
        step_seq = execution.last_event_seq + step_index + 1
        return execution, events, {"execution_id": str(execution.id), "seq": step_seq}

    answer = await run_change(
        info.context.services,
        info.context.actor,
        operation="reportExecutionStep",
        request={"execution": str(local_id), "step": step.__dict__},
        idempotency_key=key,
        change=change,
    )
    async with info.context.services.postgres.session() as session:
        execution = await session.get(Execution, local_id)
    if execution is None:
        raise InvalidTransitionError("The execution no longer exists")
    return execution, int(answer["seq"])


async def _node_type(
    issues: Issues, organization_id: object, execution: Execution, step: StepReport
) -> NodeType:
    """The reported node's type: from the agent's flowchart, whose nodes are the only ones an
    execution of it can report; from the report itself when the agent has no flowchart."""
    flowchart = await Flowchart.find_one(
        {"agent_id": execution.agent_id, "organization_id": organization_id}
    )
    if flowchart is not None:
        for node in flowchart.nodes:
            if node.id == step.node_id:
                return node.type
        if execution.workflow_id is None:
            issues.add("step.nodeId", IssueCode.UNKNOWN_NODE, "names no node of the flowchart")
            return NodeType.ACTION
    if step.node_type is None:
        issues.add("step.nodeType", IssueCode.REQUIRED, "needed for a node outside a flowchart")
        return NodeType.ACTION
    return step.node_type


def _attempt(execution: Execution, step: StepReport) -> int:
    """Which attempt at the node this report is about: 1, then one more after each failure,
    up to `1 + maxRetries`; a report past that is refused. Counted on the execution row,
    under its lock, so two reports racing for the last retry cannot both have it."""
    failures = execution.step_failures.get(step.node_id, 0)
    if failures > execution.max_retries:
        raise RetriesExhaustedError(step.node_id, failures, execution.max_retries)
    if step.status is StepStatus.FAILED:
        execution.step_failures = {**execution.step_failures, step.node_id: failures + 1}
    return failures + 1


def _step_events(
    execution: Execution,
    step: StepReport,
    tokens: StepTokens,
    node_type: NodeType,
    now: Any,
    attempt: int,
) -> list[PendingEvent]:
    record: dict[str, Any] = {
        "node_id": step.node_id,
        "node_type": node_type.value,
        "status": step.status.value,
        "input": step.input,
        "attempt": attempt,
    }
    if step.status is StepStatus.STARTED:
        record["started_at"] = now.isoformat()
        return [
            PendingEvent(
                ExecutionEventType.STEP_STARTED,
                node_id=step.node_id,
                status=step.status.value,
                progress=(execution.nodes_done, execution.nodes_total),
                payload={"attempt": attempt},
                step=record,
                created_at=now,
            )
        ]
    duration = step.duration_ms or 0
    record.update(
        started_at=(now - timedelta(milliseconds=duration)).isoformat(),
        ended_at=now.isoformat(),
        duration_ms=step.duration_ms,
        output=step.output,
        error=step.error,
        ai_provider=step.ai_provider,
        tokens=tokens.total,
        prompt_tokens=tokens.prompt,
        completion_tokens=tokens.completion,
        cost=step.cost,
    )
    if attempt == 1:  # a retry finishes a node that its failed attempt already counted
        execution.nodes_done += 1
    execution.nodes_total = max(execution.nodes_total, execution.nodes_done)
    execution.tokens += tokens.total
    execution.prompt_tokens += tokens.prompt or 0
    execution.completion_tokens += tokens.completion or 0
    execution.cost += Decimal(str(step.cost))
    if step.ai_provider is not None:
        execution.ai_calls += 1
    progress = (execution.nodes_done, execution.nodes_total)
    return [
        PendingEvent(
            ExecutionEventType.STEP_FINISHED,
            node_id=step.node_id,
            status=step.status.value,
            progress=progress,
            payload={"attempt": attempt, **({"error": step.error} if step.error else {})},
            step=record,
            created_at=now,
        ),
        PendingEvent(ExecutionEventType.PROGRESS, progress=progress, created_at=now),
    ]

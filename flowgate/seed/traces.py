"""An execution's MongoDB side, derived from its steps when it is written: the trace (the
step history) and the event log (seq 1..n, gap-free), as an engine would have reported them.

Nothing here draws from the seed's generator, so traces and events can be produced lazily,
in any order, and still be the same every time. Ids follow the execution lifecycle
(`resolvers.lifecycle`): a trace's id is its execution's, an event's is
uuid5(execution id, seq), and `applied_seq` / `executions.last_event_seq` name the last
event, so the engine can carry on a seeded live execution where the seed left it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from flowgate.seed.entities import Doc
from flowgate.seed.runs import ExecutionSeed, StepSeed
from models.enums import ExecutionEventType, ExecutionStatus, NodeType, StepStatus

# A progress event when this share of the steps is done (step_finished events carry the
# progress too; more milestones would mostly repeat them).
MILESTONES = (0.5,)


def trace_doc(execution: ExecutionSeed) -> Doc:
    return {
        "_id": execution.id,
        "organization_id": execution.agent.organization_id,
        "execution_id": execution.id,
        "agent_id": execution.agent.id,
        "workflow_id": execution.workflow_id,
        "applied_seq": execution.last_event_seq,
        "current_node": execution.steps[-1].node.id if execution.steps else None,
        "variables": {**execution.variables, "priority": execution.input["priority"]},
        "steps": [_step_doc(execution, step) for step in execution.steps],
    }


def _step_doc(execution: ExecutionSeed, step: StepSeed) -> Doc:
    node = step.node
    is_ai = node.type is NodeType.AI
    return {
        "node_id": node.id,
        "node_type": node.type.value,
        "status": step.status.value,
        "started_at": step.started_at,
        "ended_at": step.ended_at,
        "duration_ms": step.duration_ms,
        "input": _step_input(execution, step),
        "output": _step_output(step) if step.status is StepStatus.SUCCEEDED else None,
        "error": step.error,
        "ai_provider": execution.agent.provider if is_ai else None,
        "tokens": step.tokens,
        "prompt_tokens": step.prompt_tokens if step.tokens else None,
        "completion_tokens": step.completion_tokens if step.tokens else None,
        "cost": step.cost_micros / 1_000_000,
    }


def _step_input(execution: ExecutionSeed, step: StepSeed) -> dict[str, Any]:
    data = step.node.data
    match step.node.type:
        case NodeType.AI:
            return {"model": data.get("model"), "prompt": data.get("prompt")}
        case NodeType.HUMAN:
            return {"assignee_role": data.get("assignee_role")}
        case NodeType.DECISION:
            return {"priority": execution.input["priority"]}
        case NodeType.TIMER:
            return {key: data[key] for key in ("delay_seconds", "cron") if key in data}
        case _:
            return {key: data[key] for key in ("action", "agentId") if key in data}


def _step_output(step: StepSeed) -> dict[str, Any]:
    match step.node.type:
        case NodeType.AI:
            return {"finish_reason": "stop", "completion_tokens": step.completion_tokens}
        case NodeType.HUMAN:
            return {"approved": True}
        case NodeType.DECISION:
            branch = step.branch
            return {"next": branch.target, "condition": branch.condition} if branch else {}
        case NodeType.TIMER:
            return {"waited_ms": step.duration_ms}
        case _:
            return {"ok": True}


def event_docs(execution: ExecutionSeed) -> Iterator[Doc]:
    """status_changed, then step_started / step_finished per step with progress events at
    the milestones, then the final status_changed (none while the execution is live)."""
    org_id, total = execution.agent.organization_id, execution.nodes_total
    seq = 0

    def event(kind: ExecutionEventType, at: Any, **fields: Any) -> Doc:
        nonlocal seq
        seq += 1
        return {
            "_id": uuid.uuid5(execution.id, str(seq)),
            "organization_id": org_id,
            "execution_id": execution.id,
            "seq": seq,
            "type": kind.value,
            "node_id": fields.get("node_id"),
            "status": fields.get("status"),
            "progress": fields.get("progress"),
            "payload": fields.get("payload", {}),
            "created_at": at,
        }

    status = execution.status
    first_status = "pending" if status is ExecutionStatus.PENDING else "running"
    yield event(
        ExecutionEventType.STATUS_CHANGED,
        execution.started_at,
        status=first_status,
        progress={"done": 0, "total": total},
    )
    done = 0
    milestones = list(MILESTONES)
    for step in execution.steps:
        node_fields = {"node_id": step.node.id}
        yield event(
            ExecutionEventType.STEP_STARTED,
            step.started_at,
            **node_fields,
            payload={"node_type": step.node.type.value},
        )
        if step.ended_at is None:
            if status is ExecutionStatus.PAUSED:
                yield event(
                    ExecutionEventType.STATUS_CHANGED,
                    step.started_at,
                    status="paused",
                    progress={"done": done, "total": total},
                    payload={"reason": "waiting for human input"},
                )
            continue
        done += int(step.done)
        payload: dict[str, Any] = {"duration_ms": step.duration_ms, "tokens": step.tokens}
        if step.error:
            payload["error"] = step.error
        progress = {"done": done, "total": total}
        yield event(
            ExecutionEventType.STEP_FINISHED,
            step.ended_at,
            **node_fields,
            status=step.status.value,
            progress=progress,
            payload=payload,
        )
        reached = [m for m in milestones if done >= m * total]
        if reached and done < total:
            milestones = milestones[len(reached) :]
            yield event(
                ExecutionEventType.PROGRESS,
                step.ended_at,
                progress=progress,
                payload={"percent": round(100 * done / total)},
            )
    if status.is_terminal:
        yield event(
            ExecutionEventType.STATUS_CHANGED,
            execution.ended_at,
            status=status.value,
            progress={"done": done, "total": total},
            payload=_final_payload(execution),
        )


def event_count(execution: ExecutionSeed) -> int:
    """How many events `event_docs` yields for an execution, without building them."""
    if not execution.steps:
        return 1
    finished = [step for step in execution.steps if step.ended_at is not None]
    count = 1 + len(execution.steps) + len(finished)
    ends_or_pauses = execution.status.is_terminal or execution.status is ExecutionStatus.PAUSED
    count += 1 if ends_or_pauses else 0
    done, total, milestones = 0, execution.nodes_total, list(MILESTONES)
    for step in finished:
        done += int(step.done)
        reached = [m for m in milestones if done >= m * total]
        if reached and done < total:
            milestones = milestones[len(reached) :]
            count += 1
    return count


def _final_payload(execution: ExecutionSeed) -> dict[str, Any]:
    match execution.status:
        case ExecutionStatus.FAILED:
            return {"error": execution.error}
        case ExecutionStatus.CANCELLED:
            return {"reason": "cancelled by user", "by": str(execution.started_by_id)}
        case _:
            return {"result": execution.result}

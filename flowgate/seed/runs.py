"""Executions and their steps before they are rows and documents."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flowgate.seed.entities import AgentSeed, Row, micros_to_decimal, shift
from flowgate.seed.graph import EdgeSeed, NodeSeed
from models.enums import ExecutionStatus, NodeType, StepStatus


@dataclass(slots=True)
class StepSeed:
    """One node's run. Inputs and outputs are derived from these fields when the trace is
    written, which keeps a large data set's memory small."""

    node: NodeSeed
    status: StepStatus
    started_at: datetime
    duration_ms: int | None  # None while the step is still running
    tokens: int = 0
    cost_micros: int = 0
    error: str | None = None
    branch: EdgeSeed | None = None  # the edge a decision took

    @property
    def ended_at(self) -> datetime | None:
        return None if self.duration_ms is None else shift(self.started_at, self.duration_ms)

    @property
    def done(self) -> bool:
        return self.status in (StepStatus.SUCCEEDED, StepStatus.SKIPPED)

    # A third of a call's tokens are the answer: derived, not drawn, so that the random
    # sequence (and with it every seeded value) is the one it was before the split existed.
    @property
    def completion_tokens(self) -> int:
        return self.tokens // 3

    @property
    def prompt_tokens(self) -> int:
        return self.tokens - self.completion_tokens


@dataclass(slots=True)
class ExecutionSeed:
    id: uuid.UUID
    agent: AgentSeed
    workflow_id: uuid.UUID | None
    status: ExecutionStatus
    started_at: datetime
    ended_at: datetime | None
    input: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    nodes_total: int
    started_by_id: uuid.UUID
    idempotency_key: str | None
    steps: list[StepSeed]
    variables: dict[str, Any]
    # How many events its log holds (`traces.event_count`), once the steps are final.
    last_event_seq: int = 0

    @property
    def nodes_done(self) -> int:
        return sum(1 for step in self.steps if step.done)

    @property
    def ai_calls(self) -> int:
        return sum(
            1
            for step in self.steps
            if step.node.type is NodeType.AI and step.status is not StepStatus.SKIPPED
        )

    @property
    def tokens(self) -> int:
        return sum(step.tokens for step in self.steps)

    @property
    def cost_micros(self) -> int:
        return sum(step.cost_micros for step in self.steps)

    def row(self) -> Row:
        ended = self.ended_at
        duration = None if ended is None else int((ended - self.started_at).total_seconds() * 1000)
        ai_calls = self.ai_calls
        if ended is not None:
            updated_at = ended
        elif self.steps:
            updated_at = self.steps[-1].started_at
        else:
            updated_at = self.started_at
        return {
            "id": self.id,
            "organization_id": self.agent.organization_id,
            "agent_id": self.agent.id,
            "workflow_id": self.workflow_id,
            "status": self.status,
            "started_at": self.started_at,
            "ended_at": ended,
            "duration_ms": duration,
            "input": self.input,
            "result": self.result,
            "error": self.error,
            "ai_provider": self.agent.provider if ai_calls else None,
            "nodes_done": self.nodes_done,
            "nodes_total": self.nodes_total,
            "ai_calls": ai_calls,
            "tokens": self.tokens,
            "prompt_tokens": sum(step.prompt_tokens for step in self.steps),
            "completion_tokens": sum(step.completion_tokens for step in self.steps),
            "cost": micros_to_decimal(self.cost_micros),
            "started_by_id": self.started_by_id,
            "idempotency_key": self.idempotency_key,
            "last_event_seq": self.last_event_seq,
            "created_at": self.started_at,
            "updated_at": updated_at,
        }

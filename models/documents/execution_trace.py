import uuid
from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel

from models.enums import NodeType, StepStatus


class ExecutionStep(BaseModel):
    """One node's run inside an execution."""

    node_id: str
    node_type: NodeType
    status: StepStatus
    # 1 for the first try at the node, 2 for the first retry after a failure, ...
    attempt: int = 1
    started_at: datetime
    ended_at: datetime | None = None
    duration_ms: int | None = None
    input: dict[str, Any] | None = None
    output: dict[str, Any] | None = None
    error: str | None = None
    ai_provider: str | None = None
    tokens: int = 0
    # Set when the step reported its tokens apart (then they add up to `tokens`).
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: float = 0.0


class ExecutionTrace(Document):
    """The runtime state of one execution: where it is and the ordered step history."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4)  # type: ignore[assignment]
    organization_id: uuid.UUID
    execution_id: uuid.UUID
    # Copied from the execution row so that per-agent and per-workflow aggregations over
    # steps (dashboard stats) can filter in MongoDB without a list of execution ids.
    agent_id: uuid.UUID | None = None
    workflow_id: uuid.UUID | None = None
    # The sequence number of the last event applied to this trace: applying an event is
    # conditional on it, so a redelivered event is applied once and events apply in order.
    applied_seq: int = 0
    current_node: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    steps: list[ExecutionStep] = Field(default_factory=list)

    class Settings:
        name = "execution_traces"
        indexes = [
            IndexModel([("execution_id", ASCENDING)], unique=True, name="execution_id_unique"),
            IndexModel([("organization_id", ASCENDING), ("agent_id", ASCENDING)], name="org_agent"),
        ]

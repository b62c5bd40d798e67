"""The board's items: `executionUpdates`, one stream for a "running now" view of the
organization's executions (status changes, and progress with cost and tokens so far)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

import strawberry

from flowgate.bus.message import BusMessage
from models import enums as domain
from models import sql
from models.sql.base import utcnow
from resolvers import board
from resolvers.context import Context
from resolvers.ids import parse_id, to_global_id
from schema.enums import ExecutionStatus
from schema.execution import Execution, ExecutionProgress, progress_of


@strawberry.enum(description="What an `executionUpdates` item reports.")
class ExecutionUpdateKind(Enum):
    STATUS_CHANGED = strawberry.enum_value(
        "status_changed", description="The execution's status changed (never dropped)."
    )
    PROGRESS = strawberry.enum_value(
        "progress",
        description="A step started or finished, or progress was reported (only with "
        "`progress: true`; a client that reads slowly gets the latest of an execution).",
    )


@strawberry.type(
    description="A change to one of your organization's executions: a status change, or "
    "(when asked for) progress."
)
class ExecutionUpdate:
    execution_id: strawberry.Private[uuid.UUID]
    message: strawberry.Private[BusMessage]
    id: strawberry.ID = strawberry.field(description="The execution's global id.")
    kind: ExecutionUpdateKind = strawberry.field(description="What this item reports.")
    seq: int = strawberry.field(description="The event's sequence number.")
    timestamp: datetime = strawberry.field(description="When it changed.")

    @classmethod
    def from_message(cls, message: BusMessage) -> ExecutionUpdate:
        execution_id, created_at = message.execution_id, message.created_at
        if execution_id is None or created_at is None:
            # The board's filter (`resolvers.board.UpdatesFilter`) takes execution events
            # only, and each names its execution and time.
            raise ValueError(f"not an execution event: {message.type}")
        return cls(
            execution_id=execution_id,
            message=message,
            id=strawberry.ID(to_global_id("Execution", execution_id)),
            kind=ExecutionUpdateKind.STATUS_CHANGED
            if board.is_lifecycle(message)
            else ExecutionUpdateKind.PROGRESS,
            seq=message.seq,
            timestamp=created_at,
        )

    async def _model(self, info: strawberry.Info[Context]) -> sql.Execution | None:
        return await info.context.loaders.execution_by_id.load(self.execution_id)

    @strawberry.field(description="Its new status (status changes), or its status now (progress).")
    async def status(self, info: strawberry.Info[Context]) -> ExecutionStatus:
        if board.is_lifecycle(self.message):
            return domain.ExecutionStatus(str(self.message.status))  # a status change names one
        model = await self._model(info)
        return model.status if model is not None else domain.ExecutionStatus.RUNNING

    @strawberry.field(description="The execution, as it is now (agent, workflow, ...).")
    async def execution(self, info: strawberry.Info[Context]) -> Execution | None:
        model = await self._model(info)
        return Execution.from_model(model) if model is not None else None

    @strawberry.field(
        description="Nodes done out of the total and the node running now, as of now; null "
        "if the execution is gone."
    )
    async def progress(self, info: strawberry.Info[Context]) -> ExecutionProgress | None:
        model = await self._model(info)
        return await progress_of(info, model) if model is not None else None

    @strawberry.field(description="Its cost so far (USD); null if the execution is gone.")
    async def cost(self, info: strawberry.Info[Context]) -> float | None:
        model = await self._model(info)
        return float(model.cost) if model is not None else None

    @strawberry.field(
        description="Tokens used so far (a Float: sums exceed Int); null if the execution is gone."
    )
    async def tokens(self, info: strawberry.Info[Context]) -> float | None:
        model = await self._model(info)
        return float(model.tokens) if model is not None else None

    @strawberry.field(
        description="Approvals it waits for now (undecided and not expired): a run that "
        "asks one becomes PAUSED, and a decision moves it on, so each change arrives here as "
        "a status change."
    )
    async def approvals_waiting(self, info: strawberry.Info[Context]) -> int:
        approvals = await info.context.loaders.approvals_by_execution.load(self.execution_id)
        now = utcnow()
        return sum(1 for approval in approvals if approval.is_open(now))


@strawberry.input(description="Which executions' status changes to stream.")
class ExecutionUpdatesFilter:
    agent_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only these agents' executions."
    )
    workflow_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only these workflows' executions."
    )
    statuses: list[ExecutionStatus] | None = strawberry.field(
        default=None, description="Only changes to these statuses."
    )

    def to_filter(self) -> board.UpdatesFilter:
        return board.UpdatesFilter(
            agent_ids=frozenset(
                parse_id(i, "Agent", argument="filter.agentIds") for i in self.agent_ids
            )
            if self.agent_ids is not None
            else None,
            workflow_ids=frozenset(
                parse_id(i, "Workflow", argument="filter.workflowIds") for i in self.workflow_ids
            )
            if self.workflow_ids is not None
            else None,
            statuses=frozenset(domain.ExecutionStatus(s).value for s in self.statuses)
            if self.statuses is not None
            else None,
        )

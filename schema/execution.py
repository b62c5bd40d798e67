"""Executions (PostgreSQL) with their steps and progress (MongoDB traces)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from models import documents, sql
from resolvers import execution_events
from resolvers.context import Context
from resolvers.ids import to_global_id
from schema.connection import After, Connection, First
from schema.enums import (
    ExecutionErrorCode,
    ExecutionEventType,
    ExecutionStatus,
    NodeType,
    StepStatus,
)
from schema.node import Node

if TYPE_CHECKING:
    from schema.agent import Agent
    from schema.approval import Approval
    from schema.execution_event import ExecutionEvent
    from schema.user import User
    from schema.workflow import Workflow


@strawberry.type(description="One node's run within an execution.")
class ExecutionStep:
    node_id: str = strawberry.field(description="The flowchart node that ran.")
    node_type: NodeType = strawberry.field(description="Its type.")
    status: StepStatus = strawberry.field(description="How it ended (or `STARTED`).")
    attempt: int = strawberry.field(
        description="1 for the first try at the node; each retry after a failure (up to the "
        "workflow's `maxRetries`) is the next number, as a step of its own."
    )
    started_at: datetime = strawberry.field(description="When it started.")
    ended_at: datetime | None = strawberry.field(description="When it ended.")
    duration_ms: int | None = strawberry.field(description="How long it took.")
    input: JSON | None = strawberry.field(description="What it was given.")
    output: JSON | None = strawberry.field(description="What it produced.")
    error: str | None = strawberry.field(description="Why it failed.")
    ai_provider: str | None = strawberry.field(description="The AI provider it called.")
    tokens: int = strawberry.field(description="Tokens it used.")
    prompt_tokens: int | None = strawberry.field(
        description="Of them, tokens sent to the model; null if the step gave only its total."
    )
    completion_tokens: int | None = strawberry.field(
        description="Of them, tokens the model produced; null if the step gave only its total."
    )
    cost: float = strawberry.field(description="What it cost (USD).")

    @classmethod
    def from_model(cls, step: documents.ExecutionStep) -> ExecutionStep:
        return cls(
            node_id=step.node_id,
            node_type=step.node_type,
            status=step.status,
            attempt=step.attempt,
            started_at=step.started_at,
            ended_at=step.ended_at,
            duration_ms=step.duration_ms,
            input=JSON(step.input),
            output=JSON(step.output),
            error=step.error,
            ai_provider=step.ai_provider,
            tokens=step.tokens,
            prompt_tokens=step.prompt_tokens,
            completion_tokens=step.completion_tokens,
            cost=step.cost,
        )


@strawberry.type(description="How far an execution has come.")
class ExecutionProgress:
    nodes_done: int = strawberry.field(description="Nodes finished.")
    nodes_total: int = strawberry.field(description="Nodes to run in all.")
    percent: float = strawberry.field(description="`nodesDone / nodesTotal` as 0-100.")
    current_node: str | None = strawberry.field(description="The node running now, if any.")

    @classmethod
    def of(cls, done: int, total: int, current: str | None) -> ExecutionProgress:
        """From the execution's counts and its trace's current node (`progress_of`, and a
        compiled statement's answer: `schema.compiled.documents`)."""
        return cls(
            nodes_done=done,
            nodes_total=total,
            percent=round(100 * done / total, 2) if total else 0.0,
            current_node=current,
        )


@strawberry.type(description="One run of an agent, possibly as a step of a workflow.")
class Execution(Node):
    model: strawberry.Private[sql.Execution]
    status: ExecutionStatus = strawberry.field(description="Where it is in its lifecycle.")
    started_at: datetime = strawberry.field(description="When it was started.")
    ended_at: datetime | None = strawberry.field(description="When it ended.")
    duration_ms: int | None = strawberry.field(description="How long it ran.")
    input: JSON | None = strawberry.field(description="What it was started with.")
    result: JSON | None = strawberry.field(description="What it produced.")
    error: str | None = strawberry.field(description="Why it failed.")
    error_code: ExecutionErrorCode | None = strawberry.field(
        description="Set when the gateway itself ended it: `TIMEOUT` (past its workflow's "
        "`timeoutSeconds`). Null when an engine or a person ended it."
    )
    ai_provider: str | None = strawberry.field(description="The AI provider it used.")
    ai_calls: int = strawberry.field(description="Calls made to AI providers.")
    tokens: float = strawberry.field(description="Tokens used (a Float: sums exceed Int).")
    prompt_tokens: float = strawberry.field(
        description="Of `tokens`, those its steps reported as sent to the model. Steps that gave "
        "only a total add to neither part, so the parts may sum to less than `tokens`."
    )
    completion_tokens: float = strawberry.field(
        description="Of `tokens`, those its steps reported as produced by the model."
    )
    cost: float = strawberry.field(description="What it cost (USD).")
    human_interventions: int = strawberry.field(
        description="Times a person stepped in: approval decisions, operator pauses and resumes."
    )

    @classmethod
    def from_model(cls, model: sql.Execution) -> Execution:
        return cls(
            model=model,
            id=strawberry.ID(to_global_id("Execution", model.id)),
            status=model.status,
            started_at=model.started_at,
            ended_at=model.ended_at,
            duration_ms=model.duration_ms,
            input=JSON(model.input),
            result=JSON(model.result),
            error=model.error,
            error_code=ExecutionErrorCode(model.error_code) if model.error_code else None,
            ai_provider=model.ai_provider,
            ai_calls=model.ai_calls,
            tokens=model.tokens,
            prompt_tokens=model.prompt_tokens,
            completion_tokens=model.completion_tokens,
            cost=float(model.cost),
            human_interventions=model.human_interventions,
        )

    @strawberry.field(description="The agent that ran (shown even if since deleted).")
    async def agent(
        self, info: strawberry.Info[Context]
    ) -> Annotated[Agent, strawberry.lazy("schema.agent")] | None:
        from schema.agent import Agent

        model = await info.context.loaders.agent_by_id.load(self.model.agent_id)
        return Agent.from_model(model) if model is not None else None

    @strawberry.field(description="The workflow it ran in, if any (MongoDB).")
    async def workflow(
        self, info: strawberry.Info[Context]
    ) -> Annotated[Workflow, strawberry.lazy("schema.workflow")] | None:
        from schema.workflow import workflow_of

        return await workflow_of(info, self.model.workflow_id)

    @strawberry.field(
        description="Who started it (a person, or the user of the API key an engine used); "
        "null when unknown or deleted."
    )
    async def started_by(
        self, info: strawberry.Info[Context]
    ) -> Annotated[User, strawberry.lazy("schema.user")] | None:
        from schema.user import User

        if self.model.started_by_id is None:
            return None
        user = await info.context.loaders.execution_starter_by_id.load(self.model.started_by_id)
        return User.from_model(user) if user is not None else None

    @strawberry.field(description="The step history, in order (MongoDB trace).")
    async def steps(self, info: strawberry.Info[Context]) -> list[ExecutionStep]:
        trace = await info.context.loaders.trace_by_execution_id.load(self.model.id)
        return [ExecutionStep.from_model(step) for step in trace.steps] if trace else []

    @strawberry.field(description="The approvals it asked for, oldest first.")
    async def approvals(
        self, info: strawberry.Info[Context]
    ) -> list[Annotated[Approval, strawberry.lazy("schema.approval")]]:
        from schema.approval import Approval

        found = await info.context.loaders.approvals_by_execution.load(self.model.id)
        return [Approval.from_model(approval) for approval in found]

    @strawberry.field(
        description="Its event log, oldest first: status changes, steps, progress, and the "
        "`LOG` lines engines append. A cursor here is also an `after` for `executionProgress` "
        "(and the reverse). Events are kept 90 days."
    )
    async def events(
        self,
        info: strawberry.Info[Context],
        types: Annotated[
            list[ExecutionEventType] | None,
            strawberry.argument(description="Only events of these types (all when left out)."),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Annotated[ExecutionEvent, strawberry.lazy("schema.execution_event")]]:
        from schema.execution_event import ExecutionEvent

        page, count = await execution_events.event_page(
            info, self.model.id, types=types, first=first, after=after
        )
        return Connection.from_page(page, ExecutionEvent.from_model, count)

    @strawberry.field(description="Nodes done out of the total, and the node running now.")
    async def progress(self, info: strawberry.Info[Context]) -> ExecutionProgress:
        return await progress_of(info, self.model)


async def progress_of(info: strawberry.Info[Context], model: sql.Execution) -> ExecutionProgress:
    """How far `model` has come (the live board asks this of each execution it shows)."""
    done, total = model.nodes_done, model.nodes_total
    current = None
    if not model.status.is_terminal:
        # Only a live execution has a current node worth a trip to MongoDB.
        trace = await info.context.loaders.trace_by_execution_id.load(model.id)
        current = trace.current_node if trace else None
    return ExecutionProgress.of(done, total, current)

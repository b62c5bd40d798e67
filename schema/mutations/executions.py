"""The execution lifecycle for engines: `startExecution`, `reportExecutionStep`,
`finishExecution`, `cancelExecution`. Each takes an optional idempotency key: a retry with
the same key and input returns the first answer and changes nothing."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from resolvers.context import Context
from resolvers.mutations import executions, starting, steps
from schema.enums import ExecutionStatus, NodeType, StepStatus
from schema.errors import (
    Forbidden,
    IdempotencyConflict,
    InvalidTransition,
    NotFound,
    ValidationError,
)
from schema.execution import Execution
from schema.mutations.capture import capture_errors
from schema.mutations.execution_control import ConcurrencyLimitReached, RetriesExhausted
from schema.permissions import WRITERS

IdempotencyKey = Annotated[
    str | None,
    strawberry.argument(
        description="Makes retries safe: the same key with the same input returns the first "
        "answer; with another input, an IdempotencyConflict. Kept at least 24 hours."
    ),
]
ExecutionId = Annotated[strawberry.ID, strawberry.argument(description="The execution's id.")]


@strawberry.input(description="What happened at one node.")
class StepInput:
    node_id: str = strawberry.field(description="The flowchart node.")
    status: StepStatus = strawberry.field(
        description="STARTED, or how it ended: SUCCEEDED, FAILED, SKIPPED."
    )
    node_type: NodeType | None = strawberry.field(
        default=None, description="Needed only for a node outside the agent's flowchart."
    )
    input: JSON | None = strawberry.field(default=None, description="What it was given.")
    output: JSON | None = strawberry.field(default=None, description="What it produced.")
    duration_ms: int | None = strawberry.field(default=None, description="How long it took.")
    ai_provider: str | None = strawberry.field(default=None, description="AI provider called.")
    tokens: int | None = strawberry.field(
        default=None,
        description="Tokens used in all. With `promptTokens` and `completionTokens` it must be "
        "their sum; left out, it is their sum (0 if neither is given).",
    )
    prompt_tokens: int | None = strawberry.field(
        default=None,
        description="Of them, tokens sent to the model. With `tokens` alone, the other part "
        "is what the total leaves.",
    )
    completion_tokens: int | None = strawberry.field(
        default=None, description="Of them, tokens the model produced."
    )
    cost: float = strawberry.field(default=0.0, description="Cost in USD.")
    error: str | None = strawberry.field(default=None, description="Why it failed.")

    def to_report(self) -> steps.StepReport:
        return steps.StepReport(
            node_id=self.node_id,
            status=StepStatus(self.status),
            node_type=NodeType(self.node_type) if self.node_type else None,
            input=self.input,
            output=self.output,
            duration_ms=self.duration_ms,
            ai_provider=self.ai_provider,
            tokens=self.tokens,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            cost=self.cost,
            error=self.error,
        )


@strawberry.type(description="The execution as started (pending until its first step).")
class StartExecutionPayload:
    execution: Execution = strawberry.field(description="The new execution.")


@strawberry.type(description="The execution after the step, and the step's event number.")
class ReportExecutionStepPayload:
    execution: Execution = strawberry.field(description="The execution with its counters.")
    event_seq: int = strawberry.field(
        description="Sequence number of the step's event: a cursor for `executionProgress`."
    )


@strawberry.type(description="The execution as it ended.")
class FinishExecutionPayload:
    execution: Execution = strawberry.field(description="The ended execution.")


StartExecutionResult = Annotated[
    StartExecutionPayload
    | ConcurrencyLimitReached
    | ValidationError
    | NotFound
    | Forbidden
    | InvalidTransition
    | IdempotencyConflict,
    strawberry.union("StartExecutionResult", description="The execution, or why not."),
]
ReportExecutionStepResult = Annotated[
    ReportExecutionStepPayload
    | RetriesExhausted
    | ValidationError
    | NotFound
    | Forbidden
    | InvalidTransition
    | IdempotencyConflict,
    strawberry.union("ReportExecutionStepResult", description="The step recorded, or why not."),
]
FinishExecutionResult = Annotated[
    FinishExecutionPayload
    | ValidationError
    | NotFound
    | Forbidden
    | InvalidTransition
    | IdempotencyConflict,
    strawberry.union("FinishExecutionResult", description="The ended execution, or why not."),
]


@strawberry.type
class ExecutionMutations:
    @strawberry.mutation(
        permission_classes=WRITERS, description="Start an execution of an agent, or of a workflow."
    )
    @capture_errors
    async def start_execution(
        self,
        info: strawberry.Info[Context],
        agent_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The agent to run.")
        ] = None,
        workflow_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="The workflow to run (by its first agent)."),
        ] = None,
        input: Annotated[
            JSON | None, strawberry.argument(description="The run's input (JSON object).")
        ] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> StartExecutionResult:
        execution = await starting.start_execution(
            info,
            agent_id=agent_id,
            workflow_id=workflow_id,
            input_=input,
            idempotency_key=idempotency_key,
        )
        return StartExecutionPayload(execution=Execution.from_model(execution))

    @strawberry.mutation(
        permission_classes=WRITERS, description="Report that a node started or ended."
    )
    @capture_errors
    async def report_execution_step(
        self,
        info: strawberry.Info[Context],
        execution_id: ExecutionId,
        step: Annotated[StepInput, strawberry.argument(description="What happened.")],
        idempotency_key: IdempotencyKey = None,
    ) -> ReportExecutionStepResult:
        execution, seq = await steps.report_step(
            info,
            execution_id=execution_id,
            step=step.to_report(),
            idempotency_key=idempotency_key,
        )
        return ReportExecutionStepPayload(execution=Execution.from_model(execution), event_seq=seq)

    @strawberry.mutation(
        permission_classes=WRITERS, description="End an execution as succeeded or failed."
    )
    @capture_errors
    async def finish_execution(
        self,
        info: strawberry.Info[Context],
        execution_id: ExecutionId,
        status: Annotated[ExecutionStatus, strawberry.argument(description="SUCCEEDED or FAILED.")],
        result: Annotated[
            JSON | None, strawberry.argument(description="What it produced (JSON object).")
        ] = None,
        error: Annotated[
            str | None, strawberry.argument(description="Why it failed (required if FAILED).")
        ] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> FinishExecutionResult:
        execution = await executions.finish_execution(
            info,
            execution_id=execution_id,
            status=ExecutionStatus(status),
            result=result,
            error=error,
            idempotency_key=idempotency_key,
        )
        return FinishExecutionPayload(execution=Execution.from_model(execution))

    @strawberry.mutation(
        permission_classes=WRITERS, description="Cancel a pending, running or paused execution."
    )
    @capture_errors
    async def cancel_execution(
        self,
        info: strawberry.Info[Context],
        execution_id: ExecutionId,
        reason: Annotated[
            str | None, strawberry.argument(description="Why (kept with the execution).")
        ] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> FinishExecutionResult:
        execution = await executions.cancel_execution(
            info, execution_id=execution_id, reason=reason, idempotency_key=idempotency_key
        )
        return FinishExecutionPayload(execution=Execution.from_model(execution))

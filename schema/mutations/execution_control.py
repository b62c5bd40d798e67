"""What engines add to a run beyond its lifecycle: `appendExecutionLog`; and the typed
refusals of the workflow settings (`ConcurrencyLimitReached` from `startExecution`,
`RetriesExhausted` from `reportExecutionStep`)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from resolvers.context import Context
from resolvers.mutations import errors, logs
from schema.enums import LogLevel
from schema.errors import (
    Failure,
    Forbidden,
    IdempotencyConflict,
    InvalidTransition,
    NotFound,
    ValidationError,
)
from schema.execution import Execution
from schema.mutations.capture import capture_errors, register
from schema.permissions import WRITERS


@strawberry.type(
    description="The workflow already has as many pending, running or paused runs as its "
    "`concurrency` setting allows; start again when one ends."
)
class ConcurrencyLimitReached(Failure):
    limit: int = strawberry.field(description="The workflow's `concurrency`.")
    live: int = strawberry.field(description="Its runs that are pending, running or paused.")

    @classmethod
    def from_error(cls, error: errors.ConcurrencyLimitReachedError) -> ConcurrencyLimitReached:
        return cls(code=error.code, message=error.message, limit=error.limit, live=error.live)


@strawberry.type(
    description="The node failed as often as the run's `maxRetries` allows (1 + maxRetries "
    "attempts): it takes no more reports. Finish the execution instead."
)
class RetriesExhausted(Failure):
    node_id: str = strawberry.field(description="The node.")
    failures: int = strawberry.field(description="Its failed attempts.")
    max_retries: int = strawberry.field(description="The retries the run allows.")

    @classmethod
    def from_error(cls, error: errors.RetriesExhaustedError) -> RetriesExhausted:
        return cls(
            code=error.code,
            message=error.message,
            node_id=error.node_id,
            failures=error.failures,
            max_retries=error.max_retries,
        )


register(errors.ConcurrencyLimitReachedError, ConcurrencyLimitReached.from_error)
register(errors.RetriesExhaustedError, RetriesExhausted.from_error)


@strawberry.type(description="The execution, and the log line's event number.")
class AppendExecutionLogPayload:
    execution: Execution = strawberry.field(description="The execution.")
    event_seq: int = strawberry.field(
        description="Sequence number of the `LOG` event: a cursor for `executionProgress`."
    )


AppendExecutionLogResult = Annotated[
    AppendExecutionLogPayload
    | ValidationError
    | NotFound
    | Forbidden
    | InvalidTransition
    | IdempotencyConflict,
    strawberry.union("AppendExecutionLogResult", description="The line appended, or why not."),
]


@strawberry.type
class ExecutionControlMutations:
    @strawberry.mutation(
        permission_classes=WRITERS,
        description="Append a line to a live execution's log (a `LOG` event, streamed by "
        "`executionProgress` and listed by `Execution.events`). Who may: whoever may drive it.",
    )
    @capture_errors
    async def append_execution_log(
        self,
        info: strawberry.Info[Context],
        execution_id: Annotated[strawberry.ID, strawberry.argument(description="The execution.")],
        message: Annotated[str, strawberry.argument(description="1 to 4,000 characters.")],
        level: Annotated[
            LogLevel, strawberry.argument(description="How much it matters.")
        ] = LogLevel.INFO,
        node_id: Annotated[
            str | None, strawberry.argument(description="The node it is about, if any.")
        ] = None,
        data: Annotated[
            JSON | None, strawberry.argument(description="Details: a JSON object, at most 16 KiB.")
        ] = None,
        idempotency_key: Annotated[
            str | None,
            strawberry.argument(description="Retry key: the same key returns the first answer."),
        ] = None,
    ) -> AppendExecutionLogResult:
        execution, seq = await logs.append_log(
            info,
            execution_id=execution_id,
            level=LogLevel(level),
            message=message,
            node_id=node_id,
            data=data,
            idempotency_key=idempotency_key,
        )
        return AppendExecutionLogPayload(execution=Execution.from_model(execution), event_seq=seq)

"""Events of the execution event log, as subscriptions stream them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from flowgate.context import Context
from models import documents
from models import enums as domain
from resolvers.subscriptions import encode_cursor
from schema.execution import Execution

# Registered on the domain enum itself (`strawberry.enum` returns its argument), so that the
# annotation below names a class type checkers understand.
strawberry.enum(domain.ExecutionEventType, description="What an execution event records.")


@strawberry.type(description="Nodes done out of the total at the time of an event.")
class EventProgress:
    done: int = strawberry.field(description="Nodes finished.")
    total: int = strawberry.field(description="Nodes in all.")
    percent: float = strawberry.field(description="0-100.")


@strawberry.type(description="One entry of an execution's event log.")
class ExecutionEvent:
    execution_id: strawberry.Private[uuid.UUID]
    cursor: str = strawberry.field(description="Pass as `after` to resume after this event.")
    seq: int = strawberry.field(description="1, 2, 3, ...: gap-free per execution.")
    type: domain.ExecutionEventType = strawberry.field(description="What happened.")
    node_id: str | None = strawberry.field(description="The node it concerns, if any.")
    status: str | None = strawberry.field(
        description="The execution's new status (status changes) or the step's (steps)."
    )
    progress: EventProgress | None = strawberry.field(description="Progress at this event.")
    timestamp: datetime = strawberry.field(description="When it happened.")
    payload: JSON = strawberry.field(description="Details (an error, a result, ...).")

    @classmethod
    def from_model(cls, event: documents.ExecutionEvent) -> ExecutionEvent:
        progress = event.progress
        return cls(
            execution_id=event.execution_id,
            cursor=encode_cursor(event.seq),
            seq=event.seq,
            type=event.type,
            node_id=event.node_id,
            status=event.status,
            progress=EventProgress(
                done=progress.done,
                total=progress.total,
                percent=round(100 * progress.done / progress.total, 2) if progress.total else 0,
            )
            if progress
            else None,
            timestamp=event.created_at,
            payload=JSON(event.payload),
        )

    @strawberry.field(description="The execution, as it is now.")
    async def execution(self, info: strawberry.Info[Context]) -> Execution | None:
        model = await info.context.loaders.execution_by_id.load(self.execution_id)
        return Execution.from_model(model) if model is not None else None


@strawberry.type(
    description="Your cursor is older than the retained history: refetch the execution, then "
    "subscribe again from `oldestCursor` (or without a cursor)."
)
class ResyncRequired:
    message: str = strawberry.field(description="What happened, for people.")
    oldest_cursor: str | None = strawberry.field(description="Where the history starts now.")


ExecutionProgressItem = Annotated[
    ExecutionEvent | ResyncRequired,
    strawberry.union("ExecutionProgressItem", description="An event, or a request to resync."),
]

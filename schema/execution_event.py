"""Events of the execution event log, as subscriptions stream them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from models import documents
from resolvers.access import is_admin
from resolvers.context import Context
from resolvers.subscriptions import encode_cursor
from schema.enums import ExecutionEventType
from schema.execution import Execution

if TYPE_CHECKING:
    from schema.user import User


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
    type: ExecutionEventType = strawberry.field(description="What happened.")
    node_id: str | None = strawberry.field(description="The node it concerns, if any.")
    status: str | None = strawberry.field(
        description="The execution's new status (status changes) or the step's (steps)."
    )
    progress: EventProgress | None = strawberry.field(description="Progress at this event.")
    timestamp: datetime = strawberry.field(description="When it happened.")
    payload: JSON = strawberry.field(description="Details (an error, a result, ...).")
    actor_type: str | None = strawberry.field(
        description="Who caused it: `user` (a person signed in), `api_key` (an engine, acting "
        "as its key's user) or `system` (the gateway itself: a timeout); null for events "
        "recorded before actors were kept."
    )
    actor_id: strawberry.Private[uuid.UUID | None]
    address: strawberry.Private[str | None]

    @strawberry.field(
        description="The person who caused it (or whose API key did); null for the gateway's "
        "own events and for deleted users."
    )
    async def actor(
        self, info: strawberry.Info[Context]
    ) -> Annotated[User, strawberry.lazy("schema.user")] | None:
        from schema.user import User

        if self.actor_id is None:
            return None
        user = await info.context.loaders.user_by_id.load(self.actor_id)
        return User.from_model(user) if user is not None else None

    @strawberry.field(description="The client's network address; shown to admins only.")
    def client_address(self, info: strawberry.Info[Context]) -> str | None:
        return self.address if is_admin(info.context.principal) else None

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
            actor_type=event.actor_type,
            actor_id=event.actor_id,
            address=event.client_address,
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

"""Notifications: the type, the root list, marking read."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from models import enums, sql
from resolvers.context import Context
from resolvers.ids import to_global_id
from resolvers.notifications import reads
from resolvers.subscriptions import encode_cursor
from schema.connection import After, Connection, First, page_request
from schema.errors import ValidationError
from schema.mutations.capture import capture_errors
from schema.permissions import READERS

if TYPE_CHECKING:
    from schema.execution import Execution
    from schema.workflow import Workflow

strawberry.enum(
    enums.NotificationKind,
    description="What a notification tells of: a run of a workflow you own failed or "
    "succeeded (per its `notifyOnFailure`/`notifyOnSuccess` and your preferences), or an "
    "approval waits on you.",
)


@strawberry.type(description="Something you were told in the app; only you see yours.")
class Notification:
    model: strawberry.Private[sql.Notification]
    id: strawberry.ID = strawberry.field(description="Its id: pass to `markNotificationsRead`.")
    kind: enums.NotificationKind = strawberry.field(description="What it tells of.")
    message: str = strawberry.field(description="A sentence for people.")
    details: JSON = strawberry.field(
        description="What it is about, for programs: executionId, workflowId, workflowName, "
        "and status and error (runs) or approvalId, nodeId and message (approvals)."
    )
    created_at: datetime = strawberry.field(description="When it was written.")
    read_at: datetime | None = strawberry.field(description="When you marked it read.")
    cursor: str = strawberry.field(
        description="Its place in your notifications: pass as `after` to `notificationAdded` "
        "to resume after it."
    )

    @classmethod
    def from_model(cls, model: sql.Notification) -> Notification:
        return cls(
            model=model,
            id=strawberry.ID(to_global_id("Notification", model.id)),
            kind=enums.NotificationKind(model.kind),
            message=model.message,
            details=JSON(model.payload),
            created_at=model.created_at,
            read_at=model.read_at,
            cursor=encode_cursor(model.seq),
        )

    @strawberry.field(description="Whether you marked it read.")
    def read(self) -> bool:
        return self.model.read_at is not None

    @strawberry.field(description="The execution it is about; null if you may not read it.")
    async def execution(
        self, info: strawberry.Info[Context]
    ) -> Annotated[Execution, strawberry.lazy("schema.execution")] | None:
        from schema.execution import Execution

        if self.model.execution_id is None:
            return None
        model = await info.context.loaders.execution_by_id.load(self.model.execution_id)
        return Execution.from_model(model) if model is not None else None

    @strawberry.field(description="The workflow it is about; null if none or not readable.")
    async def workflow(
        self, info: strawberry.Info[Context]
    ) -> Annotated[Workflow, strawberry.lazy("schema.workflow")] | None:
        from schema.workflow import workflow_of

        return await workflow_of(info, self.model.workflow_id)


@strawberry.type(description="Notifications marked read.")
class MarkNotificationsReadPayload:
    marked: int = strawberry.field(description="How many were unread and are now read.")
    unread_count: int = strawberry.field(description="How many of yours remain unread.")


MarkNotificationsReadResult = Annotated[
    MarkNotificationsReadPayload | ValidationError,
    strawberry.union("MarkNotificationsReadResult", description="What was marked, or why not."),
]


@strawberry.type
class NotificationQuery:
    @strawberry.field(
        permission_classes=READERS,
        description="Your notifications, newest first: runs of workflows you own that ended, "
        "approvals waiting on you. Only those about workflows you may read.",
    )
    async def notifications(
        self,
        info: strawberry.Info[Context],
        unread_only: Annotated[
            bool, strawberry.argument(description="Only those not marked read.")
        ] = False,
        first: First = None,
        after: After = None,
    ) -> Connection[Notification]:
        services = info.context.services
        readable = await info.context.loaders.readable_workflow_ids.get()
        query = reads.listing(info.context.principal, readable, unread_only=unread_only)
        page = await reads.list_notifications(
            services,
            query,
            page_request(info, first, after),
        )
        return Connection.from_page(
            page, Notification.from_model, lambda: reads.count(services, query)
        )


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(
        permission_classes=READERS,
        description="Mark your notifications read: those listed, or all of them. Ids that "
        "are not your notifications change nothing.",
    )
    @capture_errors
    async def mark_notifications_read(
        self,
        info: strawberry.Info[Context],
        ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Which ones (at most 100); or give `all: true`."),
        ] = None,
        all: Annotated[bool, strawberry.argument(description="Every one of yours.")] = False,
    ) -> MarkNotificationsReadResult:
        local = reads.check_marking([str(i) for i in ids] if ids is not None else None, all)
        readable = await info.context.loaders.readable_workflow_ids.get()
        marked, unread = await reads.mark_read(
            info.context.services, info.context.principal, readable, local
        )
        return MarkNotificationsReadPayload(marked=marked, unread_count=unread)

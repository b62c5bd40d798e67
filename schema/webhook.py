"""A workflow's webhook, its delivery log, and setting or removing it."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from models import enums, sql
from resolvers.context import Context
from resolvers.ids import to_global_id
from resolvers.notifications import webhooks
from schema.connection import After, Connection, First, page_request, paginate
from schema.errors import Forbidden, NotFound, ValidationError
from schema.mutations.capture import capture_errors
from schema.permissions import READERS, WRITERS

strawberry.enum(
    enums.WebhookDeliveryStatus,
    description="PENDING (queued, or waiting for its next attempt), DELIVERED (the receiver "
    "answered 2xx), FAILED (every attempt failed, or the webhook was removed).",
)

WorkflowId = Annotated[strawberry.ID, strawberry.argument(description="The workflow's id.")]


@strawberry.type(
    description="Where a workflow's notifications are POSTed, signed with its secret "
    "(HMAC-SHA256 in `Flowgate-Signature`), when its `notificationChannels` name `webhook`."
)
class WorkflowWebhook:
    url: str = strawberry.field(description="The receiver's URL.")
    secret_hint: str = strawberry.field(
        description="The secret's last characters: the secret itself is never shown again."
    )
    created_at: datetime = strawberry.field(description="When it was first set.")
    updated_at: datetime = strawberry.field(description="When it was last set.")

    @classmethod
    def from_model(cls, model: sql.WorkflowWebhook) -> WorkflowWebhook:
        return cls(
            url=model.url,
            secret_hint=webhooks.secret_hint(model.secret),
            created_at=model.created_at,
            updated_at=model.updated_at,
        )


@strawberry.type(description="One try at a delivery.")
class WebhookAttempt:
    attempt: int = strawberry.field(description="1 for the first try.")
    url: str = strawberry.field(description="Where it was sent.")
    started_at: datetime = strawberry.field(description="When it was sent.")
    duration_ms: int = strawberry.field(description="How long the receiver took.")
    status_code: int | None = strawberry.field(description="The answer's status; null if none.")
    error: str | None = strawberry.field(description="What went wrong; null on success.")

    @classmethod
    def from_model(cls, model: sql.WebhookAttempt) -> WebhookAttempt:
        return cls(
            attempt=model.attempt,
            url=model.url,
            started_at=model.started_at,
            duration_ms=model.duration_ms,
            status_code=model.status_code,
            error=model.error,
        )


@strawberry.type(description="One event POSTed (or to be POSTed) to a workflow's webhook.")
class WebhookDelivery:
    model: strawberry.Private[sql.WebhookDelivery]
    id: strawberry.ID = strawberry.field(
        description="Sent as `Flowgate-Delivery` with every attempt: receivers dedupe on it."
    )
    event: str = strawberry.field(description="execution.failed, execution.succeeded, ...")
    body: JSON = strawberry.field(description="The JSON body sent.")
    status: enums.WebhookDeliveryStatus = strawberry.field(description="Where it stands.")
    attempts: int = strawberry.field(description="Tries so far.")
    created_at: datetime = strawberry.field(description="When it was queued.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When it is tried next; null once delivered or failed."
    )
    delivered_at: datetime | None = strawberry.field(description="When a 2xx came back.")
    last_status_code: int | None = strawberry.field(description="The last answer's status.")
    last_error: str | None = strawberry.field(description="The last failure, if any.")

    @classmethod
    def from_model(cls, model: sql.WebhookDelivery) -> WebhookDelivery:
        status = enums.WebhookDeliveryStatus(model.status)
        return cls(
            model=model,
            id=strawberry.ID(to_global_id("WebhookDelivery", model.id)),
            event=model.event,
            body=JSON(model.body),
            status=status,
            attempts=model.attempts,
            created_at=model.created_at,
            next_attempt_at=model.next_attempt_at
            if status is enums.WebhookDeliveryStatus.PENDING
            else None,
            delivered_at=model.delivered_at,
            last_status_code=model.last_status_code,
            last_error=model.last_error,
        )

    @strawberry.field(description="Every try, in order: the delivery log.")
    async def log(self, info: strawberry.Info[Context]) -> list[WebhookAttempt]:
        rows = await info.context.loaders.attempts_by_delivery_id.load(self.model.id)
        return [WebhookAttempt.from_model(row) for row in rows]


@strawberry.type(description="The webhook as set.")
class SetWorkflowWebhookPayload:
    webhook: WorkflowWebhook = strawberry.field(description="Its URL and secret hint.")
    secret: str | None = strawberry.field(
        description="The secret the gateway made, when you gave none: shown only this once."
    )


@strawberry.type(description="The webhook removed (or there was none).")
class RemoveWorkflowWebhookPayload:
    removed: bool = strawberry.field(description="Whether there was one to remove.")


SetWorkflowWebhookResult = Annotated[
    SetWorkflowWebhookPayload | ValidationError | NotFound | Forbidden,
    strawberry.union("SetWorkflowWebhookResult", description="The webhook, or why not."),
]
RemoveWorkflowWebhookResult = Annotated[
    RemoveWorkflowWebhookPayload | ValidationError | NotFound | Forbidden,
    strawberry.union("RemoveWorkflowWebhookResult", description="Removed, or why not."),
]


@strawberry.type
class WebhookQuery:
    @strawberry.field(
        permission_classes=READERS,
        description="A workflow's webhook deliveries, newest first, for those who may "
        "change the workflow (FORBIDDEN for others; NOT_FOUND if you may not read it).",
    )
    async def webhook_deliveries(
        self,
        info: strawberry.Info[Context],
        workflow_id: WorkflowId,
        status: Annotated[
            enums.WebhookDeliveryStatus | None, strawberry.argument(description="Only these.")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[WebhookDelivery]:
        services = info.context.services
        return await paginate(
            webhooks.list_deliveries(
                services,
                info.context.principal,
                workflow_id,
                enums.WebhookDeliveryStatus(status) if status else None,
                page_request(info, first, after),
            ),
            WebhookDelivery.from_model,
            partial(webhooks.count, services),
        )


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        permission_classes=WRITERS,
        description="Set (or replace) the workflow's webhook: its notifications are POSTed "
        "there, signed, when its `notificationChannels` name `webhook`. Without a secret, "
        "one is made and returned once. Needs the right to change the workflow.",
    )
    @capture_errors
    async def set_workflow_webhook(
        self,
        info: strawberry.Info[Context],
        workflow_id: WorkflowId,
        url: Annotated[
            str,
            strawberry.argument(
                description="An absolute http(s) URL, at most 2000 chars, on the public "
                "internet unless the gateway allows private targets "
                "(FLOWGATE_WEBHOOK_ALLOW_PRIVATE)."
            ),
        ],
        secret: Annotated[
            str | None,
            strawberry.argument(description="16 to 200 printable characters; omit to get one."),
        ] = None,
    ) -> SetWorkflowWebhookResult:
        done = await webhooks.set_webhook(
            info.context.services,
            info.context.principal,
            info.context.actor,
            workflow_id=workflow_id,
            url=url,
            secret=secret,
        )
        return SetWorkflowWebhookPayload(
            webhook=WorkflowWebhook.from_model(done.webhook), secret=done.generated_secret
        )

    @strawberry.mutation(
        permission_classes=WRITERS,
        description="Remove the workflow's webhook; deliveries not yet made are given up.",
    )
    @capture_errors
    async def remove_workflow_webhook(
        self, info: strawberry.Info[Context], workflow_id: WorkflowId
    ) -> RemoveWorkflowWebhookResult:
        removed = await webhooks.remove_webhook(
            info.context.services,
            info.context.principal,
            info.context.actor,
            workflow_id=workflow_id,
        )
        return RemoveWorkflowWebhookPayload(removed=removed)

"""A workflow's webhook: setting and removing it (URL and secret), queueing its deliveries,
and reading its delivery log. The secret is never read back: `secretHint` shows its end."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from flowgate import webhook_targets
from models.documents import Workflow
from models.enums import NotificationKind, WebhookDeliveryStatus
from models.sql import Execution, WebhookDelivery, WorkflowWebhook
from models.sql.base import utcnow
from resolvers import access
from resolvers.changes import record_change
from resolvers.errors import ClientError
from resolvers.ids import parse_id
from resolvers.mutations.access import require_workflow
from resolvers.mutations.errors import InvalidInputError
from resolvers.pagination import Page, PageRequest
from resolvers.sorting import _datetime
from resolvers.sql_pages import SortKey, count_rows, fetch_page
from resolvers.subscriptions import NotFoundClientError
from resolvers.validation import values
from resolvers.validation.issues import IssueCode, Issues

if TYPE_CHECKING:
    from flowgate.principal import Actor, Principal
    from flowgate.services import Services

CHANNEL = "webhook"  # the `notificationChannels` entry that turns deliveries on
MAX_URL_LENGTH = 2000
MIN_SECRET_LENGTH = 16
MAX_SECRET_LENGTH = 200
HINT_LENGTH = 4
EVENT_NAMES: dict[NotificationKind, str] = {
    NotificationKind.EXECUTION_FAILED: "execution.failed",
    NotificationKind.EXECUTION_SUCCEEDED: "execution.succeeded",
    NotificationKind.APPROVAL_REQUESTED: "approval.requested",
}


class ForbiddenClientError(ClientError):
    code = "FORBIDDEN"


@dataclass(frozen=True)
class WebhookSet:
    webhook: WorkflowWebhook
    # The secret, only when the gateway made it: the one time it is shown.
    generated_secret: str | None


def secret_hint(secret: str) -> str:
    return "…" + secret[-HINT_LENGTH:]


async def queue(
    session: AsyncSession,
    execution: Execution,
    workflow: Workflow,
    kind: NotificationKind,
    details: dict[str, Any],
) -> WebhookDelivery | None:
    """Queue a delivery of `kind` in the caller's transaction, if the workflow's channels
    name the webhook and it has one set."""
    if CHANNEL not in workflow.settings.notifications.channels:
        return None
    if await session.get(WorkflowWebhook, workflow.id) is None:
        return None
    delivery_id = uuid.uuid4()
    now = utcnow()
    delivery = WebhookDelivery(
        id=delivery_id,
        organization_id=execution.organization_id,
        workflow_id=workflow.id,
        execution_id=execution.id,
        event=EVENT_NAMES[kind],
        body={
            "id": str(delivery_id),
            "type": EVENT_NAMES[kind],
            "createdAt": now.isoformat(),
            "data": {k: v for k, v in details.items() if v is not None},
        },
        status=WebhookDeliveryStatus.PENDING.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    return delivery


def check_url(issues: Issues, value: str, *, allow_private: bool) -> str | None:
    """A webhook URL, or None with the issue noted. A host that names a private address
    literally is refused here, so that users learn early; one that resolves to one is
    refused at each delivery (`flowgate.webhook_targets`)."""
    url = values.text(issues, "url", value, max_length=MAX_URL_LENGTH, required=True)
    if url is None:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as error:
        issues.add("url", IssueCode.INVALID, f"is not a URL ({error})")
        return None
    problem = _url_problem(url, parts, allow_private=allow_private)
    if problem is not None:
        issues.add("url", IssueCode.INVALID, problem)
        return None
    return url


def _url_problem(url: str, parts: SplitResult, *, allow_private: bool) -> str | None:
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "must be an absolute http:// or https:// URL"
    if parts.username or parts.password:
        return "must not carry credentials; the secret signs"
    if any(ch.isspace() for ch in url):
        return "must not contain whitespace"
    return None if allow_private else webhook_targets.literal_refusal(parts.hostname)


def check_secret(issues: Issues, value: str | None) -> str | None:
    if value is None:
        return None
    secret = values.text(
        issues, "secret", value, max_length=MAX_SECRET_LENGTH, required=True, trim=False
    )
    if secret is None:
        return None
    if len(secret) < MIN_SECRET_LENGTH:
        issues.add("secret", IssueCode.INVALID, f"must be at least {MIN_SECRET_LENGTH} characters")
        return None
    if not secret.isprintable() or secret != secret.strip():
        issues.add("secret", IssueCode.INVALID, "must be printable, without edge whitespace")
        return None
    return secret


async def _changeable_workflow(principal: Principal, workflow_id: str) -> Workflow:
    issues = Issues()
    local_id = values.global_id(issues, "workflowId", workflow_id, "Workflow")
    if issues or local_id is None:
        raise InvalidInputError(issues)
    workflow = await Workflow.find_one(
        {"_id": local_id, "organization_id": principal.organization_id}
    )
    return require_workflow(principal, workflow, workflow_id, access.may_change_workflow, "change")


async def set_webhook(
    services: Services,
    principal: Principal,
    actor: Actor,
    *,
    workflow_id: str,
    url: str,
    secret: str | None,
) -> WebhookSet:
    """Set (or replace) the workflow's webhook. Without a secret, one is made and returned
    once; with one, it is kept as given."""
    issues = Issues()
    cleaned_url = check_url(issues, url, allow_private=services.settings.webhook_allow_private)
    cleaned_secret = check_secret(issues, secret)
    values.global_id(issues, "workflowId", workflow_id, "Workflow")
    if issues:
        raise InvalidInputError(issues)
    workflow = await _changeable_workflow(principal, workflow_id)
    generated = secrets.token_urlsafe(32) if cleaned_secret is None else None
    async with services.postgres.session() as session, session.begin():
        webhook = await session.get(WorkflowWebhook, workflow.id, with_for_update=True)
        if webhook is None:
            webhook = WorkflowWebhook(
                workflow_id=workflow.id, organization_id=workflow.organization_id
            )
            session.add(webhook)
        webhook.url = cleaned_url or ""
        webhook.secret = cleaned_secret or generated or ""
        webhook.updated_by_id = principal.user_id
        webhook.updated_at = utcnow()
        record_change(
            session,
            actor,
            action="workflow.webhook_set",
            object_type="Workflow",
            object_id=workflow.id,
            # Never the secret: the audit log is readable by admins.
            summary={"url": cleaned_url, "secret_hint": secret_hint(webhook.secret)},
        )
    return WebhookSet(webhook, generated)


async def remove_webhook(
    services: Services, principal: Principal, actor: Actor, *, workflow_id: str
) -> bool:
    """Remove the workflow's webhook (whether there was one); deliveries still pending are
    given up by the deliverer, which finds no webhook to send them to."""
    workflow = await _changeable_workflow(principal, workflow_id)
    async with services.postgres.session() as session, session.begin():
        removed = await session.execute(
            delete(WorkflowWebhook).where(WorkflowWebhook.workflow_id == workflow.id)
        )
        if not removed.rowcount:  # type: ignore[attr-defined]
            return False
        record_change(
            session,
            actor,
            action="workflow.webhook_removed",
            object_type="Workflow",
            object_id=workflow.id,
            summary={},
        )
    return True


NEWEST_FIRST = SortKey(WebhookDelivery.created_at, lambda d: d.created_at, _datetime)


async def list_deliveries(
    services: Services,
    principal: Principal,
    workflow_id: str,
    status: WebhookDeliveryStatus | None,
    request: PageRequest,
) -> tuple[Page[WebhookDelivery], Select[Any]]:
    """A page of the workflow's delivery log, newest first, and its query (for a count)."""
    workflow = await delivery_log_workflow(principal, workflow_id)
    query = select(WebhookDelivery).where(
        WebhookDelivery.organization_id == workflow.organization_id,
        WebhookDelivery.workflow_id == workflow.id,
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status.value)
    async with services.postgres.read_session() as session:
        page = await fetch_page(
            session,
            query,
            request,
            sort=NEWEST_FIRST,
            id_column=WebhookDelivery.id,
            descending=True,
        )
    return page, query


async def count(services: Services, query: Select[Any]) -> int:
    async with services.postgres.read_session() as session:
        return await count_rows(session, query)


async def delivery_log_workflow(principal: Principal, global_id: str) -> Workflow:
    """The workflow whose delivery log `principal` asks for: those who may change it read
    it; one they may not read is not found."""
    local_id = parse_id(global_id, "Workflow", argument="workflowId")
    workflow = await Workflow.find_one(
        {"_id": local_id, "organization_id": principal.organization_id}
    )
    if workflow is None or not access.may_read_workflow(principal, workflow):
        raise NotFoundClientError(f"No workflow with id {global_id!r} you can see")
    if not access.may_change_workflow(principal, workflow):
        raise ForbiddenClientError("Only those who may change the workflow read its deliveries")
    return workflow

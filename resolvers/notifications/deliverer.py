"""The background webhook deliverer: claims due deliveries, POSTs them signed, logs each
attempt, and schedules a retry with backoff or gives up.

Safe with several replicas: a pass claims its deliveries with `FOR UPDATE SKIP LOCKED` and,
in the same statement, pushes their next attempt past the request's timeout (a lease), then
commits before sending; no transaction stays open across HTTP. Another replica skips what
is claimed, and takes it up only if this one died before recording the outcome. A delivery
is sent again only after a failed (or unrecorded) attempt, never after a 2xx: with the
`Flowgate-Delivery` header a receiver drops the rare repeat of an attempt whose answer was
lost."""

from __future__ import annotations

import asyncio
import random
import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta

import httpx
import orjson
import structlog
from sqlalchemy import select, text, update

from flowgate import webhooks
from flowgate.background import in_background
from flowgate.services import Services
from flowgate.settings import Settings
from models.enums import WebhookDeliveryStatus
from models.sql import WebhookAttempt, WebhookDelivery, WorkflowWebhook
from models.sql.base import utcnow

log = structlog.get_logger(__name__)

BATCH = 20
# Beyond the POST's timeout, how long a claim holds before another replica may retry it.
LEASE_MARGIN = 30.0

_CLAIM = text(
    """
    UPDATE webhook_deliveries AS d
    SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => :lease)
    FROM (
        SELECT id FROM webhook_deliveries
        WHERE status = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at
        LIMIT :batch
        FOR UPDATE SKIP LOCKED
    ) AS due
    WHERE d.id = due.id
    RETURNING d.id, d.attempts
    """
)


@dataclass(frozen=True)
class Claimed:
    delivery: WebhookDelivery
    attempt: int
    webhook: WorkflowWebhook | None


def backoff(settings: Settings, attempt: int) -> float:
    """Seconds before the attempt after `attempt` (1-based): doubling from
    `webhook_backoff`, capped, with up to 20% jitter so that retries of many deliveries to
    one receiver that came back do not arrive together."""
    delay = min(settings.webhook_backoff * 2.0 ** (attempt - 1), settings.webhook_backoff_max)
    return delay * (1 + random.random() / 5)


async def claim(services: Services) -> list[Claimed]:
    lease = services.settings.webhook_timeout + LEASE_MARGIN
    async with services.postgres.session() as session, session.begin():
        rows = (await session.execute(_CLAIM, {"lease": lease, "batch": BATCH})).all()
        if not rows:
            return []
        attempts = {row.id: row.attempts for row in rows}
        deliveries = (
            await session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.id.in_(list(attempts)))
            )
        ).all()
        workflow_ids = {delivery.workflow_id for delivery in deliveries}
        hooks = {
            hook.workflow_id: hook
            for hook in (
                await session.scalars(
                    select(WorkflowWebhook).where(WorkflowWebhook.workflow_id.in_(workflow_ids))
                )
            ).all()
        }
    return [
        Claimed(delivery, attempts[delivery.id], hooks.get(delivery.workflow_id))
        for delivery in deliveries
    ]


async def send(client: httpx.AsyncClient, claimed: Claimed, settings: Settings) -> webhooks.Outcome:
    delivery, hook = claimed.delivery, claimed.webhook
    if hook is None:
        return webhooks.Outcome(None, "the workflow's webhook was removed", 0)
    return await webhooks.post(
        client,
        url=hook.url,
        secret=hook.secret,
        delivery_id=str(delivery.id),
        event=delivery.event,
        body=orjson.dumps(delivery.body),
        allow_private=settings.webhook_allow_private,
    )


async def record(services: Services, claimed: Claimed, outcome: webhooks.Outcome) -> str:
    """Log the attempt and settle the delivery; returns its status."""
    settings = services.settings
    delivery = claimed.delivery
    now = utcnow()
    if outcome.delivered:
        status, next_at = WebhookDeliveryStatus.DELIVERED, now
    elif (
        outcome.final or claimed.webhook is None or claimed.attempt >= settings.webhook_max_attempts
    ):
        status, next_at = WebhookDeliveryStatus.FAILED, now
    else:
        status = WebhookDeliveryStatus.PENDING
        next_at = now + timedelta(seconds=backoff(settings, claimed.attempt))
    async with services.postgres.session() as session, session.begin():
        session.add(
            WebhookAttempt(
                organization_id=delivery.organization_id,
                delivery_id=delivery.id,
                attempt=claimed.attempt,
                url=claimed.webhook.url if claimed.webhook else "",
                started_at=now - timedelta(milliseconds=outcome.duration_ms),
                duration_ms=outcome.duration_ms,
                status_code=outcome.status_code,
                error=outcome.error,
            )
        )
        # Only while the claim is ours: had the lease run out and another replica claimed
        # it again, its outcome settles the delivery, not this late one.
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery.id, WebhookDelivery.attempts == claimed.attempt)
            .values(
                status=status.value,
                next_attempt_at=next_at,
                last_status_code=outcome.status_code,
                last_error=outcome.error,
                delivered_at=now if outcome.delivered else None,
            )
        )
    log.info(
        "webhook attempt",
        delivery_id=str(delivery.id),
        attempt=claimed.attempt,
        status_code=outcome.status_code,
        error=outcome.error,
        outcome=status.value,
    )
    return status.value


async def deliver_due(services: Services, client: httpx.AsyncClient) -> dict[uuid.UUID, str]:
    """One pass: every due delivery claimed, sent concurrently, recorded."""
    claimed = await claim(services)

    async def one(item: Claimed) -> str:
        return await record(services, item, await send(client, item, services.settings))

    statuses = await asyncio.gather(*(one(item) for item in claimed))
    return {item.delivery.id: status for item, status in zip(claimed, statuses, strict=True)}


def client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=settings.webhook_timeout)


async def deliver_forever(services: Services, http_client: httpx.AsyncClient) -> None:
    async with http_client as http:
        while True:
            try:
                await deliver_due(services, http)
            except Exception as error:  # keep delivering through a PostgreSQL outage
                log.warning("webhook pass failed", error=str(error))
            await asyncio.sleep(services.settings.webhook_interval)


def running_deliverer(services: Services) -> AbstractAsyncContextManager[None]:
    # The client is made here, as the app starts: httpx imports its transport on the first
    # client made, which held the event loop for about 200 ms when the loop's first pass
    # made it while requests were being served.
    http_client = client(services.settings)
    return in_background(lambda: deliver_forever(services, http_client), name="webhook-deliverer")

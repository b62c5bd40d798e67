"""`notificationAdded`: a person's notifications as they are written, resumable from a
cursor. Notifications are few, so every bus message (or a silence) is only a wake-up: what
is sent is read from PostgreSQL after the last number delivered, each once and in order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from sqlalchemy import select

from flowgate.bus.message import BusMessage
from flowgate.services import Services
from models.sql import Notification, NotificationCounter
from resolvers import access
from resolvers.notifications.reads import log_after
from resolvers.subscriptions import (
    SlowConsumerError,
    decode_cursor,
    encode_cursor,
    next_or_idle,
    subscribe,
)

if TYPE_CHECKING:
    from strawberry import Info

    from flowgate.principal import Principal
    from resolvers.context import Context

ADDED = "notification_added"


def bus_message(notification: Notification) -> BusMessage:
    return BusMessage.from_body(
        {
            "type": ADDED,
            "recipient_id": str(notification.user_id),
            "organization_id": str(notification.organization_id),
            "seq": notification.seq,
        }
    )


async def announce(services: Services, notifications: list[Notification]) -> None:
    """Wake the recipients' subscribers once the notifications are committed. A bus outage
    is not the caller's: a subscriber reads the log on its next wake-up or idle check."""
    for notification in notifications:
        await services.bus.publish(bus_message(notification))


async def notification_added(
    info: Info[Context], *, after: str | None
) -> AsyncIterator[Notification]:
    principal = info.context.principal
    services = info.context.services
    # As of subscribing (asked afresh: a socket's loaders may be older).
    readable = await access.readable_workflow_ids(services.mongo, principal)
    subscriber = subscribe(info, execution_id=principal.user_id)
    try:
        # Registered first, read second: one written in between is in the log or will wake us.
        last = decode_cursor(after) if after is not None else await _latest(services, principal)
        while True:
            for notification in await log_after(services, principal, readable, last):
                yield notification
                last = notification.seq
            await next_or_idle(subscriber)
            subscriber.queue.clear()  # one read of the log answers every wake-up queued
            if subscriber.overflowed:
                raise SlowConsumerError(encode_cursor(last) if last else None)
    finally:
        services.bus.hub.unsubscribe(subscriber)


async def _latest(services: Services, principal: Principal) -> int:
    async with services.postgres.read_session() as session:
        seq = await session.scalar(
            select(NotificationCounter.last_seq).where(
                NotificationCounter.user_id == principal.user_id
            )
        )
    return int(seq or 0)

"""The shape every lifecycle call shares: one PostgreSQL transaction that replays or applies
the change, then delivery of its events to MongoDB."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.sql import Execution, Notification
from resolvers.lifecycle import idempotency
from resolvers.lifecycle.events import PendingEvent, to_outbox
from resolvers.lifecycle.outbox import deliver
from resolvers.mutations.errors import NotFoundError
from resolvers.notifications import records as notifications
from resolvers.notifications.stream import announce

if TYPE_CHECKING:
    from flowgate.principal import Actor
    from flowgate.services import Services


# What a call does inside the transaction: returns the execution it changed, the events to
# append, and the answer to remember for its idempotency key.
Change = Callable[[AsyncSession], Awaitable[tuple[Execution, list[PendingEvent], dict[str, Any]]]]


async def run_change(
    services: Services,
    actor: Actor,
    *,
    operation: str,
    request: dict[str, Any],
    idempotency_key: str | None,
    change: Change,
) -> dict[str, Any]:
    """Apply `change` once per idempotency key; returns the (first) answer."""
    organization_id = actor.organization_id
    digest = idempotency.request_hash(operation, request)
    postgres = services.postgres
    told: list[Notification] = []
    for attempt in (1, 2):
        try:
            async with postgres.session() as session, session.begin():
                stored = await idempotency.replay(
                    session, organization_id, idempotency_key, operation, digest
                )
                if stored is not None:
                    answer = stored
                    break
                execution, events, answer = await change(session)
                session.add_all(to_outbox(execution, events, actor))
                # In this transaction: a notification (or a webhook delivery) commits with
                # the change that causes it, or neither does.
                told = await notifications.on_events(session, execution, events)
                idempotency.remember(
                    session, organization_id, idempotency_key, operation, digest, answer
                )
            break
        except IntegrityError:
            # Two calls with the same new key raced: the loser retries and finds the
            # winner's answer (or a conflict) on its second attempt.
            if attempt == 2 or idempotency_key is None:
                raise
    # Now, not later: the caller's events reach MongoDB before it hears back. A MongoDB
    # failure is not the caller's: `deliver` logs it and leaves the events for the relay.
    await deliver(services, execution_id=uuid.UUID(answer["execution_id"]))
    await announce(services, told)
    return answer


async def locked_execution(
    session: AsyncSession, organization_id: uuid.UUID, execution_id: uuid.UUID, global_id: str
) -> Execution:
    """The execution row, locked until the transaction ends: calls for one execution are
    serialized here, which is what keeps its event numbers gap-free and unique."""
    execution = await session.scalar(
        select(Execution)
        .where(
            Execution.id == execution_id,
            Execution.organization_id == organization_id,
        )
        .with_for_update()
    )
    if execution is None:
        raise NotFoundError("Execution", global_id)
    return execution

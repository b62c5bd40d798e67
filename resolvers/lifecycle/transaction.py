"""The shape every lifecycle call shares: one PostgreSQL transaction that replays or applies
the change, then delivery of its events to MongoDB."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.sql import Execution
from resolvers.lifecycle import idempotency
from resolvers.lifecycle.events import PendingEvent, to_outbox
from resolvers.lifecycle.outbox import deliver_pending
from resolvers.mutations.errors import NotFoundError

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context


# What a call does inside the transaction: returns the execution it changed, the events to
# append, and the answer to remember for its idempotency key.
Change = Callable[[AsyncSession], Awaitable[tuple[Execution, list[PendingEvent], dict[str, Any]]]]


async def run_change(
    info: Info[Context],
    *,
    operation: str,
    request: dict[str, Any],
    idempotency_key: str | None,
    change: Change,
) -> dict[str, Any]:
    """Apply `change` once per idempotency key; returns the (first) answer."""
    organization_id = info.context.principal.organization_id
    digest = idempotency.request_hash(operation, request)
    postgres = info.context.services.postgres
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
                session.add_all(to_outbox(execution, events))
                idempotency.remember(
                    session, organization_id, idempotency_key, operation, digest, answer
                )
            break
        except IntegrityError:
            # Two calls with the same new key raced: the loser retries and finds the
            # winner's answer (or a conflict) on its second attempt.
            if attempt == 2 or idempotency_key is None:
                raise
    execution_id = uuid.UUID(answer["execution_id"])
    await deliver(info, execution_id)
    return answer


async def deliver(info: Info[Context], execution_id: uuid.UUID) -> None:
    """Push the execution's committed events to MongoDB now. A MongoDB failure is not the
    caller's: `deliver_pending` logs it and leaves the events in the outbox for later."""
    await deliver_pending(info.context.services, execution_id=execution_id)


async def locked_execution(
    session: AsyncSession, info: Info[Context], execution_id: uuid.UUID, global_id: str
) -> Execution:
    """The execution row, locked until the transaction ends: calls for one execution are
    serialized here, which is what keeps its event numbers gap-free and unique."""
    execution = await session.scalar(
        select(Execution)
        .where(
            Execution.id == execution_id,
            Execution.organization_id == info.context.principal.organization_id,
        )
        .with_for_update()
    )
    if execution is None:
        raise NotFoundError("Execution", global_id)
    return execution

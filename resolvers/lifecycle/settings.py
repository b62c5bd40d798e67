"""The workflow settings a run starts under, enforced in the start's own transaction.

`concurrency` counts the workflow's live runs (pending, running or paused) under a
transaction-scoped advisory lock on the workflow: two starts of its last slot, on one replica
or two, queue on the lock, and the second counts the first's committed row (each statement
of READ COMMITTED sees what committed before it). The lock is PostgreSQL's, not a process's,
so any number of replicas share it. `timeoutSeconds` becomes a wall-clock deadline and
`maxRetries` is copied onto the row: a run keeps the rules it started under."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.documents import WorkflowSettings
from models.enums import TERMINAL_EXECUTION_STATUSES
from models.sql import Execution
from resolvers.mutations.errors import ConcurrencyLimitReachedError

# Seeds the hash of the workflow's advisory lock, apart from idempotency keys' (0x1D3).
LOCK_SEED = 0xC0C


async def claim_slot(
    session: AsyncSession,
    organization_id: uuid.UUID,
    workflow_id: uuid.UUID,
    settings: WorkflowSettings,
) -> None:
    """Return if a new run of the workflow fits its `concurrency`; raise otherwise. Holds the
    workflow's lock until the caller's transaction (which inserts the run) ends."""
    lock_id = func.hashtextextended(f"{organization_id}:{workflow_id}", LOCK_SEED)
    await session.execute(select(func.pg_advisory_xact_lock(lock_id)))
    live = await session.scalar(
        select(func.count())
        .select_from(Execution)
        .where(
            Execution.organization_id == organization_id,
            Execution.workflow_id == workflow_id,
            Execution.status.not_in(TERMINAL_EXECUTION_STATUSES),
        )
    )
    if (live or 0) >= settings.concurrency:
        raise ConcurrencyLimitReachedError(settings.concurrency, live or 0)


def apply_settings(execution: Execution, settings: WorkflowSettings | None) -> None:
    """The deadline and retry allowance of a new run (none, and the default, without a
    workflow)."""
    if settings is None:
        return
    execution.deadline_at = deadline(execution.started_at, settings.timeout_seconds)
    execution.max_retries = settings.max_retries


def deadline(started_at: datetime, timeout_seconds: int) -> datetime:
    # Wall-clock from the start: time spent paused (waiting for an approval) counts, so a
    # run never outlives its timeout however long people take to decide.
    return started_at + timedelta(seconds=timeout_seconds)

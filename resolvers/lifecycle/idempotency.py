"""Idempotency keys for the calls an engine retries."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.sql import IdempotencyKey
from models.sql.base import utcnow
from resolvers.mutations.errors import IdempotencyConflictError

# Keys are honoured for at least this long; older ones may be purged.
RETENTION = timedelta(hours=48)
# Seeds the 64-bit hash of a key's advisory lock, so it does not collide with other users of
# `pg_advisory_xact_lock` that hash similar text.
LOCK_SEED = 0x1D3


def request_hash(operation: str, request: dict[str, Any]) -> str:
    encoded = orjson.dumps(
        [operation, request], option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
    )
    return hashlib.sha256(encoded).hexdigest()


async def replay(
    session: AsyncSession,
    organization_id: uuid.UUID,
    key: str | None,
    operation: str,
    digest: str,
) -> dict[str, Any] | None:
    """The first answer for this key, if the same request was made with it before; raises
    `IdempotencyConflictError` if the key was used for something else."""
    if key is None:
        return None
    await _lock_key(session, organization_id, key)
    row = await session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.organization_id == organization_id, IdempotencyKey.key == key
        )
    )
    if row is None:
        return None
    if row.operation != operation or row.request_hash != digest:
        raise IdempotencyConflictError(key, operation)
    return row.response


async def _lock_key(session: AsyncSession, organization_id: uuid.UUID, key: str) -> None:
    """Hold a lock on the key until the transaction ends. Retries of one call that arrive
    together queue here: the first applies the change and records its answer; the others
    then find that answer instead of each running the change again (which, on a finished
    execution, would answer INVALID_TRANSITION). The row lock on the execution comes later
    and cannot serialize them, because the key is read before it is taken."""
    lock_id = func.hashtextextended(f"{organization_id}:{key}", LOCK_SEED)
    await session.execute(select(func.pg_advisory_xact_lock(lock_id)))


def remember(
    session: AsyncSession,
    organization_id: uuid.UUID,
    key: str | None,
    operation: str,
    digest: str,
    response: dict[str, Any],
) -> None:
    """Record the answer in the caller's transaction: it commits with the change."""
    if key is not None:
        session.add(
            IdempotencyKey(
                organization_id=organization_id,
                key=key,
                operation=operation,
                request_hash=digest,
                response=response,
            )
        )


async def purge_expired(session: AsyncSession) -> int:
    result = await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - RETENTION)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

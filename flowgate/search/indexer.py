"""The indexer: drains the search outbox into the index, after the changes have committed.

Each pass claims a batch of entries (`FOR UPDATE SKIP LOCKED`, so gateway replicas share
the work), reads the objects as they are now from the stores, writes or removes their
documents, and deletes the entries in the same transaction that claimed them. It runs on the
gateway's event loop, so it reads, builds and writes a chunk of objects at a time and lets
the loop run whatever is ready between chunks. An index that is down rolls the pass back:
the entries stay queued and are indexed when it returns.
An execution whose events are still in the execution outbox (not yet in MongoDB) waits."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Final

import structlog
from sqlalchemy import and_, delete, exists, func, not_, select

from flowgate.background import in_background
from flowgate.search import metrics, sources
from flowgate.search.base import DocumentType, SearchIndex, SearchUnavailableError
from flowgate.services import Services
from models.documents.execution_event import EVENT_RETENTION_SECONDS
from models.sql import ExecutionOutboxEntry, SearchOutboxEntry

log = structlog.get_logger(__name__)

BATCH: Final = 500
# Objects read, built and written between two turns of the event loop: a chunk of executions
# (with their events and traces) costs the loop about 10 ms of CPU at the seed's sizes.
CHUNK: Final = 100
RETENTION_INTERVAL: Final = 3600.0


async def index_pending(services: Services, index: SearchIndex, *, limit: int = BATCH) -> int:
    """One pass over at most `limit` entries; returns how many were done. Raises
    SearchUnavailableError (leaving them queued) when the index is down."""
    undelivered = exists().where(ExecutionOutboxEntry.execution_id == SearchOutboxEntry.object_id)
    claim = (
        select(SearchOutboxEntry.id, SearchOutboxEntry.object_type, SearchOutboxEntry.object_id)
        .where(
            not_(and_(SearchOutboxEntry.object_type == DocumentType.EXECUTION.value, undelivered))
        )
        # By object, not by arrival: a large backlog (a seed) is then drained in runs of
        # consecutive ids, which the stores read as ranges (`sources._execution_filters`).
        .order_by(SearchOutboxEntry.object_type, SearchOutboxEntry.object_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    async with services.postgres.session() as session, session.begin():
        entries = (await session.execute(claim)).all()
        if not entries:
            return 0
        by_type: dict[DocumentType, set[uuid.UUID]] = {}
        for _, object_type, object_id in entries:
            by_type.setdefault(DocumentType(object_type), set()).add(object_id)
        for type_, ids in by_type.items():
            ordered = sorted(ids)  # chunks of consecutive ids: ranges for the stores
            for start in range(0, len(ordered), CHUNK):
                await _index_chunk(services, index, type_, ordered[start : start + CHUNK])
        await session.execute(
            delete(SearchOutboxEntry).where(
                SearchOutboxEntry.id.in_([id_ for id_, _, _ in entries])
            )
        )
    return len(entries)


async def _index_chunk(
    services: Services, index: SearchIndex, type_: DocumentType, ids: list[uuid.UUID]
) -> None:
    """Load, build and write the documents of some objects, then give the loop back: the
    indexer shares the gateway's event loop, and a pass over a backlog done in one go held it
    for hundreds of milliseconds (requests and subscription fan-out waited)."""
    loaded = await sources.load(services, type_, ids)
    await index.delete(loaded.gone, parents=loaded.gone_parents)
    await index.upsert(loaded.documents)
    metrics.INDEXED.labels(type=type_.value).inc(len(ids))
    # Awaiting the stores does not bound the work between two awaits; this does: whatever is
    # ready runs before the next chunk.
    await asyncio.sleep(0)


async def index_all_pending(services: Services, index: SearchIndex) -> int:
    """Pass after pass until the outbox holds nothing that can be indexed now."""
    total = 0
    while done := await index_pending(services, index):
        total += done
    await observe_lag(services)
    return total


async def observe_lag(services: Services) -> None:
    async with services.postgres.session() as session:
        oldest, pending = (
            await session.execute(
                select(func.min(SearchOutboxEntry.created_at), func.count(SearchOutboxEntry.id))
            )
        ).one()
    lag = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
    metrics.INDEX_LAG.set(max(lag, 0.0))
    metrics.OUTBOX_PENDING.set(pending)


async def expire_events(index: SearchIndex) -> int:
    """Retention: the index keeps execution events as long as the event log does."""
    before = datetime.now(UTC) - timedelta(seconds=EVENT_RETENTION_SECONDS)
    return await index.expire(DocumentType.EXECUTION_EVENT, before)


async def index_forever(services: Services, index: SearchIndex, interval: float) -> None:
    ensured = False
    next_expiry = 0.0
    while True:
        # Sleep first: a pass at start-up would race whatever the process does first.
        await asyncio.sleep(interval)
        try:
            if not ensured:
                await index.ensure()
                ensured = True
            done = await index_all_pending(services, index)
            if done:
                log.info("search indexer indexed", objects=done, backend=index.backend)
            if time.monotonic() >= next_expiry:
                expired = await expire_events(index)
                next_expiry = time.monotonic() + RETENTION_INTERVAL
                if expired:
                    log.info("search retention removed events", documents=expired)
        except SearchUnavailableError as error:
            metrics.INDEX_FAILURES.labels(backend=index.backend).inc()
            log.warning("search index unavailable; changes stay queued", error=str(error))
            with contextlib.suppress(Exception):
                await observe_lag(services)
        except Exception as error:  # keep indexing through outages of the stores
            metrics.INDEX_FAILURES.labels(backend=index.backend).inc()
            log.warning("search indexer pass failed", error=str(error))


def running_indexer(services: Services) -> AbstractAsyncContextManager[None]:
    """The indexer as a background task for the app's lifespan."""
    interval = services.settings.search_indexer_interval
    return in_background(
        lambda: index_forever(services, services.search, interval), name="search-indexer"
    )

"""`flowgate reindex`: rebuild the index from the stores, built aside and swapped in.

Changes that land while the rebuild runs may reach only the old index (Elasticsearch) or
be read before they commit; so once the new index is in place, every object changed since
shortly before the start is queued for the indexer again. Queued entries older than that
are covered by the rebuild and dropped."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Final

from sqlalchemy import delete, func, select, text

from flowgate.search import sources
from flowgate.search.base import DocumentType, SearchDocument
from flowgate.search.outbox import INDEXED, mark_all_stale
from flowgate.services import Services
from models import documents, sql

# How long a change may take to commit and still be caught by the pass after a rebuild.
IN_FLIGHT_MARGIN: Final = timedelta(minutes=5)

# The documents a type's rebuild brings along (they are indexed with their owner).
COMES_WITH: Final = {
    DocumentType.EXECUTION: DocumentType.EXECUTION_EVENT,
    DocumentType.CONVERSATION: DocumentType.MESSAGE,
}

Progress = Callable[[DocumentType, int], None]


async def totals(services: Services, types: frozenset[DocumentType]) -> dict[DocumentType, int]:
    """How many objects of each type a rebuild reads (for a progress bar)."""
    found: dict[DocumentType, int] = {}
    async with services.postgres.session() as session:
        for type_, model in sources.ROWS.items():
            if type_ in types:
                found[type_] = int(await session.scalar(select(func.count(model.id))) or 0)
    if DocumentType.WORKFLOW in types:
        found[DocumentType.WORKFLOW] = await documents.Workflow.find({}).count()
    return found


async def rebuild(
    services: Services, types: frozenset[DocumentType] = INDEXED, progress: Progress | None = None
) -> int:
    """Rebuild the documents of `types` (executions bring their events); returns how many
    documents the new index holds for them."""
    types = frozenset(types) & INDEXED
    async with services.postgres.session() as session:
        started = await session.scalar(text("SELECT now()"))
    index = services.search
    await index.ensure()

    async def batches() -> AsyncIterator[list[SearchDocument]]:
        for type_ in sorted(types):
            async for batch in sources.everything(services, type_):
                if progress is not None:
                    progress(type_, sum(1 for document in batch if document.type is type_))
                yield batch

    document_types = types | {COMES_WITH[type_] for type_ in types if type_ in COMES_WITH}
    count = await index.rebuild(frozenset(document_types), batches())
    since = started - IN_FLIGHT_MARGIN
    async with services.postgres.session() as session, session.begin():
        await session.execute(
            delete(sql.SearchOutboxEntry).where(
                sql.SearchOutboxEntry.object_type.in_([type_.value for type_ in types]),
                sql.SearchOutboxEntry.created_at < since,
            )
        )
    await mark_all_stale(services, types, changed_since=since)
    return count

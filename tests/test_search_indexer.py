"""The search indexer shares the gateway's event loop: a pass over a backlog gives the loop
back after every chunk of objects, and an index that fails part way through a pass loses
nothing and duplicates nothing (the entries stay queued; the next pass writes them again)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from itertools import pairwise

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import delete, func, insert, select, text

from flowgate.search.base import DocumentType, SearchDocument, SearchUnavailableError
from flowgate.search.indexer import CHUNK, index_all_pending, index_pending
from flowgate.search.postgres import PostgresSearchIndex
from flowgate.seed import SeedSummary
from flowgate.services import Services
from models.sql import Execution, SearchOutboxEntry

# Every column a search document is made of, per document: equal digests, equal documents.
DIGEST = text("""
SELECT count(*), md5(string_agg(concat_ws('|', key, organization_id, type, object_id,
    parent_id, title, body, status, category, tags, readers, updated_at, english_vector,
    simple_vector), E'\\n' ORDER BY key))
FROM search_documents WHERE object_id = ANY(:ids) OR parent_id = ANY(:ids)
""")


class _FailsAfterFirstWrite(PostgresSearchIndex):
    """The real PostgreSQL index, which goes down after its first write: an outage in the
    middle of a pass."""

    writes = 0

    async def upsert(self, documents: Sequence[SearchDocument]) -> None:
        if self.writes:
            raise SearchUnavailableError(self.backend, "went down in the middle of a pass")
        self.writes += 1
        await super().upsert(documents)


@pytest.fixture
async def backlog(seeded: SeedSummary, services: Services) -> AsyncIterator[list[uuid.UUID]]:
    """Seeded executions (three chunks' worth) queued again, as after an import; nothing
    else is queued. Indexing them again writes the documents they already have."""
    await index_all_pending(services, services.search)
    async with services.postgres.session() as session, session.begin():
        rows = (
            await session.execute(
                select(Execution.id, Execution.organization_id)
                .order_by(Execution.id)
                .limit(3 * CHUNK)
            )
        ).all()
        await session.execute(
            insert(SearchOutboxEntry),
            [
                {"organization_id": org, "object_type": DocumentType.EXECUTION.value,
                 "object_id": id_}
                for id_, org in rows
            ],
        )  # fmt: skip
    ids = [id_ for id_, _ in rows]
    try:
        yield ids
    finally:
        async with services.postgres.session() as session, session.begin():
            await session.execute(
                delete(SearchOutboxEntry).where(SearchOutboxEntry.object_id.in_(ids))
            )


async def test_a_pass_over_a_backlog_gives_the_loop_back_after_every_chunk(
    services: Services, backlog: list[uuid.UUID]
) -> None:
    # given: the documents of the queued executions as they are
    before = await _digest(services, backlog)

    # when: a pass runs beside a task that notes, at each of its turns, how many objects the
    # indexer has done so far
    seen: list[float] = []

    async def ticker() -> None:
        while True:
            seen.append(_indexed_executions())
            await asyncio.sleep(0)

    ticking = asyncio.create_task(ticker())
    try:
        done = await index_pending(services, services.search)
    finally:
        ticking.cancel()

    # then: the task had a turn after every chunk, never after more
    assert done == len(backlog)
    progress = [after - earlier for earlier, after in pairwise(seen)]
    assert sum(progress) == len(backlog)
    assert max(progress) == CHUNK, f"objects done between two turns of the loop: {progress}"
    # and: the entries are gone, and the index holds the same documents, once each
    assert await _queued(services, backlog) == 0
    assert await _digest(services, backlog) == before


async def test_an_index_that_fails_part_way_through_a_pass_leaves_the_pass_queued(
    services: Services, backlog: list[uuid.UUID]
) -> None:
    # given
    before = await _digest(services, backlog)
    failing = _FailsAfterFirstWrite(services.postgres)

    # when: the index goes down after the pass's first chunk
    with pytest.raises(SearchUnavailableError):
        await index_pending(services, failing)

    # then: every entry of the pass is still queued
    assert failing.writes == 1
    assert await _queued(services, backlog) == len(backlog)
    # and: once the index is back they are indexed, each document once
    await index_all_pending(services, services.search)
    assert await _queued(services, backlog) == 0
    assert await _digest(services, backlog) == before


def _indexed_executions() -> float:
    value = REGISTRY.get_sample_value(
        "flowgate_search_indexed_total", {"type": DocumentType.EXECUTION.value}
    )
    return value or 0.0


async def _queued(services: Services, ids: list[uuid.UUID]) -> int:
    async with services.postgres.session() as session:
        count = await session.scalar(
            select(func.count()).where(SearchOutboxEntry.object_id.in_(ids))
        )
    return int(count or 0)


async def _digest(services: Services, ids: list[uuid.UUID]) -> tuple[int, str]:
    async with services.postgres.session() as session:
        count, digest = (await session.execute(DIGEST, {"ids": ids})).one()
    assert count > len(ids), "the executions have documents, and some events too"
    return int(count), str(digest)

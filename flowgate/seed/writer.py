"""The store half of seeding: bulk writes only. PostgreSQL in one transaction of multi-row
inserts; MongoDB with unordered `insert_many` batches on the raw collections (the documents
are already in the shape Beanie loads, so nothing is validated twice)."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, TypeVar

from beanie import Document
from pymongo import IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from sqlalchemy import insert, literal, select, text, union_all
from sqlalchemy.exc import DBAPIError, IntegrityError

from flowgate.seed.dataset import SeedData
from flowgate.seed.progress import SeedProgress
from flowgate.seed.summary import SeedError
from flowgate.services import Services
from models.documents import (
    ALL_DOCUMENTS,
    ExecutionEvent,
    ExecutionTrace,
    Flowchart,
    Workflow,
    WorkflowVersion,
)
from models.sql import Base

T = TypeVar("T")
ROWS_PER_STATEMENT = 1_000
LOCK_TIMEOUT = "15s"
DOCS_PER_BATCH = 2_000
# Collections big enough that building their secondary indexes once, after the load, beats
# maintaining them on every insert. Measured on SecantusDB 0.7 with 57k events: 15.9 s with
# the two indexes in place, against 6.5 s without them plus 3.8 s to build them afterwards
# (bulk loads into MongoDB itself follow the same advice).
DEFERRED_INDEX_COLLECTIONS: tuple[type[Document], ...] = (ExecutionEvent, ExecutionTrace)

AnyCollection = AsyncCollection[dict[str, Any]]


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


async def describe_existing_data(services: Services) -> str | None:
    """What the stores already hold, in a few words, or None when both are empty."""
    probe = union_all(
        *(
            select(literal(table.name).label("name")).where(select(table).exists())
            for table in Base.metadata.sorted_tables
        )
    )
    async with services.postgres.engine.connect() as connection:
        tables = (await connection.scalars(probe)).all()
    collections = [
        document.get_pymongo_collection()
        for document in ALL_DOCUMENTS
        if await document.get_pymongo_collection().find_one({}, projection={"_id": 1})
    ]
    found = []
    if tables:
        found.append(f"PostgreSQL tables {', '.join(tables)}")
    if collections:
        found.append(f"MongoDB collections {', '.join(c.name for c in collections)}")
    return "; ".join(found) or None


async def write_postgres(
    services: Services, data: SeedData, progress: SeedProgress, *, reset: bool
) -> None:
    tables = data.sql_tables()
    phase = progress.phase("PostgreSQL rows", sum(len(rows) for _, rows in tables))
    try:
        async with services.postgres.engine.begin() as connection:
            if reset:
                # TRUNCATE waits for every open transaction on these tables: fail clearly
                # rather than hang behind a client that holds one.
                await connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
                names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
                # Our own table names, not input. RESTART IDENTITY: the audit log's ids too.
                await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            for model, rows in tables:
                for chunk in chunks(rows, ROWS_PER_STATEMENT):
                    await connection.execute(insert(model.__table__), chunk)
                    phase.advance(len(chunk))
    except IntegrityError as error:  # another seed got in between our check and our insert
        raise SeedError(
            "PostgreSQL already holds demo data; run `flowgate seed --reset` to replace it"
        ) from error
    except DBAPIError as error:
        if "lock timeout" not in str(error):
            raise
        raise SeedError(
            f"could not lock the tables to reset them within {LOCK_TIMEOUT}: "
            "another client holds a transaction open on them (a running gateway?)"
        ) from error


async def write_mongo(
    services: Services, data: SeedData, progress: SeedProgress, *, reset: bool
) -> None:
    if reset:
        phase = progress.phase("Emptying collections", len(ALL_DOCUMENTS))
        for document in ALL_DOCUMENTS:
            await _empty(services, document.get_pymongo_collection())
            phase.advance()
    batches: list[tuple[str, type[Document], Iterable[dict[str, Any]], int]] = [
        ("Flowcharts", Flowchart, data.flowchart_docs(), len(data.flowcharts)),
        ("Workflows", Workflow, data.workflow_docs(), len(data.workflows)),
        (
            "Workflow versions",
            WorkflowVersion,
            data.workflow_version_docs(),
            len(data.workflow_versions),
        ),
        ("Execution traces", ExecutionTrace, data.trace_docs(), len(data.executions)),
        ("Execution events", ExecutionEvent, data.event_docs(), data.event_count()),
    ]
    for description, document, docs, total in batches:
        phase = progress.phase(description, total)
        collection: AnyCollection = document.get_pymongo_collection()
        deferred = document in DEFERRED_INDEX_COLLECTIONS
        async with _indexes_built_after(collection, progress, enabled=deferred):
            for chunk in chunks(docs, DOCS_PER_BATCH):
                await collection.insert_many(chunk, ordered=False)
                phase.advance(len(chunk))


async def _empty(services: Services, collection: AnyCollection) -> None:
    """Delete every document, keeping the collection's options and indexes. Dropping and
    recreating does that several times faster than `delete_many({})`, which removes documents
    and index entries one by one (SecantusDB 0.7: 12 s against 2 s for 57k events)."""
    options = await collection.options()
    information = await collection.index_information()
    await collection.drop()
    await services.mongo.database.create_collection(collection.name, **options)
    indexes = [_index_model(name, spec) for name, spec in information.items() if name != "_id_"]
    if indexes:
        await collection.create_indexes(indexes)


@contextlib.asynccontextmanager
async def _indexes_built_after(
    collection: AnyCollection, progress: SeedProgress, *, enabled: bool
) -> AsyncIterator[None]:
    """Drop the collection's secondary indexes for the load and build them again after it,
    from their own definitions, whether or not the load succeeded. Only used on collections
    that seeding has just emptied: nothing else relies on them meanwhile."""
    if not enabled:
        yield
        return
    information = await collection.index_information()
    saved = {name: spec for name, spec in information.items() if name != "_id_"}
    for name in saved:
        await collection.drop_index(name)
    try:
        yield
    finally:
        if saved:
            phase = progress.phase(f"Indexes of {collection.name}", 1)
            await collection.create_indexes(
                [_index_model(name, spec) for name, spec in saved.items()]
            )
            phase.advance()


def _index_model(name: str, spec: dict[str, Any]) -> IndexModel:
    options = {key: value for key, value in spec.items() if key not in {"key", "v", "ns"}}
    return IndexModel(spec["key"], name=name, **options)

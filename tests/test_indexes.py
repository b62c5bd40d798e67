"""Indexes are declared once: no two declarations on a collection or table cover the same
keys (a duplicate costs every write and buys nothing), and the indexes the guarantees rest on
(the event log's TTL and per-execution sequence, one flowchart per agent) exist on the real
MongoDB server, not only in the code."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from beanie import Document
from beanie.odm.utils.typing import get_index_attributes
from pymongo import ASCENDING, IndexModel
from sqlalchemy import (
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.asyncio import create_async_engine

import models.sql
from flowgate.services import Services
from flowgate.settings import Settings
from models.documents import ALL_DOCUMENTS, ExecutionEvent, Flowchart

KeyPattern = tuple[tuple[str, Any], ...]


# --- MongoDB -------------------------------------------------------------------------------


def key_pattern(declaration: IndexModel | str | Iterable[Any]) -> KeyPattern:
    """The ordered (field, direction) pairs of any form `Settings.indexes` accepts."""
    if isinstance(declaration, IndexModel):
        return tuple(declaration.document["key"].items())
    if isinstance(declaration, str):
        return ((declaration, ASCENDING),)
    return tuple(
        (item, ASCENDING) if isinstance(item, str) else tuple(item) for item in declaration
    )


def document_key_patterns(document: type[Document]) -> list[KeyPattern]:
    """Every index the document declares, `_id`'s implicit one included: from
    `Settings.indexes` and from fields annotated with `Indexed(...)`."""
    patterns: list[KeyPattern] = [(("_id", ASCENDING),)]
    for name, field in document.model_fields.items():
        indexed = get_index_attributes(field)
        if indexed is not None:
            patterns.append(((field.alias or name, indexed[0]),))
    # The class's own `Settings`, not `get_settings()`: this check needs no initialised Beanie.
    declared = getattr(document.Settings, "indexes", None) or []
    patterns.extend(key_pattern(item) for item in declared)
    return patterns


def duplicates(patterns: Iterable[Any]) -> list[Any]:
    return [pattern for pattern, count in Counter(patterns).items() if count > 1]


def test_duplicate_detection_sees_every_declaration_form() -> None:
    # given: the same key pattern declared three ways
    declarations = [
        IndexModel([("agent_id", ASCENDING)], name="one"),
        "agent_id",
        [("agent_id", ASCENDING)],
    ]

    # when
    patterns = [key_pattern(item) for item in declarations]

    # then
    assert duplicates(patterns) == [(("agent_id", ASCENDING),)]


def test_no_document_declares_the_same_index_twice() -> None:
    # given
    by_collection: dict[str, list[KeyPattern]] = {}
    for document in ALL_DOCUMENTS:
        name = getattr(document.Settings, "name", None) or document.__name__
        by_collection.setdefault(name, []).extend(document_key_patterns(document))

    # when
    found = {name: duplicates(p) for name, p in by_collection.items() if duplicates(p)}

    # then
    assert found == {}


async def test_the_event_log_and_flowchart_indexes_exist_on_the_server(
    services: Services,
) -> None:
    # given: `services` ran init_beanie, which creates the declared indexes

    # when
    events = await ExecutionEvent.get_pymongo_collection().index_information()
    flowcharts = await Flowchart.get_pymongo_collection().index_information()

    # then
    by_key_events = {tuple(info["key"]): info for info in events.values()}
    by_key_flowcharts = {tuple(info["key"]): info for info in flowcharts.values()}
    ttl = by_key_events[(("created_at", ASCENDING),)]
    assert ttl.get("expireAfterSeconds", 0) > 0
    assert by_key_events[(("execution_id", ASCENDING), ("seq", ASCENDING))].get("unique")
    assert by_key_flowcharts[(("agent_id", ASCENDING),)].get("unique")


# --- PostgreSQL ----------------------------------------------------------------------------


def table_key_sets(table: Table) -> list[tuple[str, ...]]:
    """The keys of the table's primary key, unique constraints and indexes. A partial index
    carries its predicate: it is not a duplicate of a full index on the same columns."""
    keys: list[tuple[str, ...]] = []
    for constraint in table.constraints:
        if isinstance(constraint, PrimaryKeyConstraint | UniqueConstraint) and constraint.columns:
            keys.append(tuple(column.name for column in constraint.columns))
    for index in table.indexes:
        columns = tuple(
            expression.name if isinstance(expression, Column) else str(expression)
            for expression in index.expressions
        )
        where = index.dialect_options["postgresql"].get("where")
        keys.append(columns if where is None else (*columns, f"WHERE {where}"))
    return keys


def test_duplicate_detection_sees_an_index_repeating_a_unique_constraint() -> None:
    # given
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("a", Integer))
    table.append_constraint(UniqueConstraint("a"))
    Index("ix_t_a", table.c.a)
    Index("ix_t_id", table.c.id)

    # then
    assert sorted(duplicates(table_key_sets(table))) == [("a",), ("id",)]


def test_no_table_declares_the_same_index_twice() -> None:
    # when
    found = {
        table.name: duplicates(table_key_sets(table))
        for table in models.sql.Base.metadata.sorted_tables
        if duplicates(table_key_sets(table))
    }

    # then
    assert found == {}


DUPLICATE_INDEXES_SQL = """
SELECT indrelid::regclass::text AS table_name,
       array_agg(indexrelid::regclass::text ORDER BY indexrelid::regclass::text) AS names
FROM pg_index
JOIN pg_class ON pg_class.oid = pg_index.indrelid
JOIN pg_namespace ON pg_namespace.oid = pg_class.relnamespace
WHERE pg_namespace.nspname = 'public'
GROUP BY indrelid, indkey::text, coalesce(pg_get_expr(indexprs, indrelid), ''),
         coalesce(pg_get_expr(indpred, indrelid), '')
HAVING count(*) > 1
"""


async def test_the_migrated_database_has_no_duplicate_indexes(settings: Settings) -> None:
    # given: `settings` names the session's migrated database
    engine = create_async_engine(settings.sqlalchemy_url)

    # when: primary keys and unique constraints are indexes in pg_index too
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(text(DUPLICATE_INDEXES_SQL))).all()
    finally:
        await engine.dispose()

    # then
    assert [tuple(row) for row in rows] == []

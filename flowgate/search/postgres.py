"""The PostgreSQL full-text backend: the `search_documents` table (migration 0004).

Words match the `english` configuration (stemmed, stop words dropped) over a weighted vector:
title A, tags and category B, body C; the word being typed matches as a prefix of the
unstemmed (`simple`) vector. Text is normalized to letter-and-digit words before either
vector is computed, as the Elasticsearch analyzers split it. Highlights come from
`ts_headline` over the original text, computed for the returned page only."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from typing import Any, Final

import orjson
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from flowgate.search.base import (
    FACET_SIZE,
    DocumentType,
    FacetCount,
    Facets,
    Highlight,
    SearchDocument,
    SearchHit,
    SearchRequest,
    SearchResults,
    SearchUnavailableError,
)
from flowgate.search.query import normalize
from flowgate.stores.postgres import Postgres, describe

BACKEND: Final = "postgresql"
HEADLINE_OPTIONS: Final = "StartSel=<em>, StopSel=</em>, MaxWords=20, MinWords=8, MaxFragments=2"

_UPSERT = text("""
INSERT INTO search_documents (key, organization_id, type, object_id, parent_id, title, body,
    status, category, tags, readers, updated_at, english_vector, simple_vector)
SELECT d.key, d.organization_id, d.type, d.object_id, d.parent_id, d.title, d.body,
    d.status, d.category, ARRAY(SELECT jsonb_array_elements_text(d.tags)),
    CASE WHEN jsonb_typeof(d.readers) = 'array'
         THEN ARRAY(SELECT jsonb_array_elements_text(d.readers)::uuid) END,
    d.updated_at,
    setweight(to_tsvector('english', d.title_words), 'A')
        || setweight(to_tsvector('english', d.label_words), 'B')
        || setweight(to_tsvector('english', d.body_words), 'C'),
    to_tsvector('simple', d.title_words || ' ' || d.label_words || ' ' || d.body_words)
FROM jsonb_to_recordset(CAST(CAST(:documents AS text) AS jsonb)) AS d(
    key text, organization_id uuid, type text, object_id uuid, parent_id uuid, title text,
    body text, status text, category text, tags jsonb, readers jsonb, updated_at timestamptz,
    title_words text, label_words text, body_words text)
ON CONFLICT (key) DO UPDATE SET
    organization_id = excluded.organization_id, type = excluded.type,
    object_id = excluded.object_id, parent_id = excluded.parent_id, title = excluded.title,
    body = excluded.body, status = excluded.status, category = excluded.category,
    tags = excluded.tags, readers = excluded.readers, updated_at = excluded.updated_at,
    english_vector = excluded.english_vector, simple_vector = excluded.simple_vector
""")


class PostgresSearchIndex:
    backend = BACKEND

    def __init__(self, postgres: Postgres) -> None:
        self._postgres = postgres

    async def ensure(self) -> None:
        """The table comes from the migrations; nothing to create."""

    async def upsert(self, documents: Sequence[SearchDocument]) -> None:
        if not documents:
            return
        async with self._connection(begin=True) as connection:
            await _upsert(connection, documents)

    async def delete(self, keys: Collection[str], *, parents: Collection[uuid.UUID] = ()) -> None:
        if not keys and not parents:
            return
        async with self._connection(begin=True) as connection:
            await connection.execute(
                text(
                    "DELETE FROM search_documents "
                    "WHERE key = ANY(:keys) OR parent_id = ANY(:parents)"
                ),
                {"keys": list(keys), "parents": list(parents)},
            )

    async def search(self, request: SearchRequest) -> SearchResults:
        where, params = _conditions(request)
        # Assembled from fixed fragments: every value the user sent is a bind parameter.
        matches = f"""
            SELECT key, type, object_id, parent_id, title, body, status, category, tags,
                   ({_score(request)})::float8 AS score
            FROM search_documents WHERE {where}"""  # noqa: S608
        after = ""
        if request.after is not None:
            after = "WHERE score < :after_score OR (score = :after_score AND key > :after_key)"
            params.update(after_score=request.after[0], after_key=request.after[1])
        page_sql = f"""
            WITH matches AS ({matches})
            SELECT key, type, object_id, parent_id, score,
                   ts_headline('english', title, {_highlight_query(request)}, :options),
                   ts_headline('english', body, {_highlight_query(request)}, :options)
            FROM (SELECT * FROM matches {after} ORDER BY score DESC, key LIMIT :limit) AS page
            ORDER BY score DESC, key"""  # noqa: S608
        facets_sql = f"""
            WITH matches AS ({matches})
            SELECT 'type', type, count(*) FROM matches GROUP BY type
            UNION ALL SELECT 'status', status, count(*) FROM matches
                WHERE status IS NOT NULL GROUP BY status
            UNION ALL SELECT 'category', category, count(*) FROM matches
                WHERE category IS NOT NULL GROUP BY category
            UNION ALL SELECT 'tag', tag, count(*) FROM matches, unnest(tags) AS tag GROUP BY tag"""  # noqa: S608
        async with self._connection() as connection:
            rows = (
                await connection.execute(
                    text(page_sql),
                    {**params, "limit": request.limit + 1, "options": HEADLINE_OPTIONS},
                )
            ).all()
            facet_rows = (await connection.execute(text(facets_sql), params)).all()
        hits = tuple(_hit(row) for row in rows[: request.limit])
        facets = _facets(facet_rows)
        total = sum(count.count for count in facets.types) if facet_rows else 0
        return SearchResults(
            hits=hits, total=total, facets=facets, has_next_page=len(rows) > request.limit
        )

    async def rebuild(
        self, types: frozenset[DocumentType], batches: AsyncIterator[Sequence[SearchDocument]]
    ) -> int:
        # One transaction: searches see the old documents until it commits, then the new ones.
        count = 0
        async with self._connection(begin=True) as connection:
            await connection.execute(
                text("DELETE FROM search_documents WHERE type = ANY(:types)"),
                {"types": [type_.value for type_ in types]},
            )
            async for batch in batches:
                await _upsert(connection, batch)
                count += len(batch)
        return count

    async def expire(self, type_: DocumentType, before: datetime) -> int:
        async with self._connection(begin=True) as connection:
            result = await connection.execute(
                text("DELETE FROM search_documents WHERE type = :type AND updated_at < :before"),
                {"type": type_.value, "before": before},
            )
        return int(result.rowcount)

    async def count(self) -> int:
        async with self._connection() as connection:
            return int(await connection.scalar(text("SELECT count(*) FROM search_documents")) or 0)

    async def close(self) -> None:
        """The engine belongs to the services; nothing of ours to close."""

    @contextlib.asynccontextmanager
    async def _connection(self, *, begin: bool = False) -> AsyncIterator[AsyncConnection]:
        """A connection (in a transaction if asked); an unreachable server becomes
        SearchUnavailableError."""
        engine = self._postgres.engine
        try:
            async with engine.begin() if begin else engine.connect() as connection:
                yield connection
        except (OSError, TimeoutError, OperationalError, InterfaceError) as error:
            raise SearchUnavailableError(BACKEND, describe(error)) from error
        except DBAPIError as error:
            if error.connection_invalidated:
                raise SearchUnavailableError(BACKEND, describe(error)) from error
            raise


async def _upsert(connection: AsyncConnection, documents: Sequence[SearchDocument]) -> None:
    rows = [
        {
            "key": document.key,
            "organization_id": document.organization_id,
            "type": document.type.value,
            "object_id": document.object_id,
            "parent_id": document.parent_id,
            "title": document.title,
            "body": document.body,
            "status": document.status,
            "category": document.category,
            "tags": list(document.tags),
            "readers": list(document.readers) if document.readers is not None else None,
            "updated_at": document.updated_at,
            "title_words": normalize(document.title),
            "label_words": normalize(" ".join((*document.tags, document.category or ""))),
            "body_words": normalize(document.body),
        }
        for document in documents
    ]
    # default=str: asyncpg hands out UUIDs of its own class, which orjson does not know.
    payload = orjson.dumps(rows, default=str).decode()
    await connection.execute(_UPSERT, {"documents": payload})


def _english_query(request: SearchRequest) -> str | None:
    """The tsquery of the words and phrases that must match, as SQL; None when there are
    none (only a prefix)."""
    parts = [f"plainto_tsquery('english', :word_{i})" for i in range(len(request.query.words))]
    parts += [
        f"phraseto_tsquery('english', :phrase_{i})" for i in range(len(request.query.phrases))
    ]
    return " && ".join(parts) if parts else None


def _prefix_query(request: SearchRequest) -> str | None:
    return "to_tsquery('simple', :prefix || ':*')" if request.query.prefix else None


_PREFIX_AS_WORD: Final = "plainto_tsquery('english', :prefix)"


def _conditions(request: SearchRequest) -> tuple[str, dict[str, Any]]:
    query, reader = request.query, request.reader
    params: dict[str, Any] = {"organization_id": reader.organization_id}
    params.update({f"word_{i}": word for i, word in enumerate(query.words)})
    params.update({f"phrase_{i}": phrase for i, phrase in enumerate(query.phrases)})
    params.update({f"excluded_{i}": excluded for i, excluded in enumerate(query.excluded)})
    if query.prefix:
        params["prefix"] = query.prefix
    conditions = ["organization_id = :organization_id"]
    if (english := _english_query(request)) is not None:
        conditions.append(f"english_vector @@ ({english})")
    if (prefix := _prefix_query(request)) is not None:
        # The word being typed: a whole word (stemmed), or the start of one.
        conditions.append(f"(english_vector @@ {_PREFIX_AS_WORD} OR simple_vector @@ {prefix})")
    conditions += [
        f"NOT english_vector @@ phraseto_tsquery('english', :excluded_{i})"
        for i in range(len(query.excluded))
    ]
    if not reader.everything:
        conditions.append("(readers IS NULL OR CAST(:user_id AS uuid) = ANY(readers))")
        params["user_id"] = reader.user_id
    for column, values in (
        ("type", [type_.value for type_ in sorted(request.types)]),
        ("status", list(request.filter.statuses)),
        ("category", list(request.filter.categories)),
    ):
        if values:
            conditions.append(f"{column} = ANY(:{column}_values)")
            params[f"{column}_values"] = values
    if request.filter.tags:
        conditions.append("tags && CAST(:tag_values AS varchar[])")
        params["tag_values"] = list(request.filter.tags)
    return " AND ".join(conditions), params


def _score(request: SearchRequest) -> str:
    terms = []
    if (english := _english_query(request)) is not None:
        terms.append(f"ts_rank(english_vector, {english})")
    if (prefix := _prefix_query(request)) is not None:
        # The word being typed counts for less than a finished one.
        terms.append(
            f"ts_rank(english_vector, {_PREFIX_AS_WORD}) + 0.5 * ts_rank(simple_vector, {prefix})"
        )
    return " + ".join(terms)


def _highlight_query(request: SearchRequest) -> str:
    parts = [q for q in (_english_query(request), _prefix_query(request)) if q is not None]
    if request.query.prefix:
        parts.append(_PREFIX_AS_WORD)
    return "(" + " || ".join(f"({part})" for part in parts) + ")"


def _hit(row: Any) -> SearchHit:
    key, type_, object_id, parent_id, score, title, body = row
    highlights = tuple(
        Highlight(field=name, fragments=tuple(_fragments(value)))
        for name, value in (("title", title), ("body", body))
        if value and "<em>" in value
    )
    return SearchHit(
        type=DocumentType(type_),
        object_id=object_id,
        parent_id=parent_id,
        score=float(score),
        highlights=highlights,
        sort=(float(score), key),
    )


def _fragments(headline: str) -> list[str]:
    # ts_headline joins fragments with " ... ".
    return [fragment.strip() for fragment in headline.split(" ... ") if "<em>" in fragment]


def _facets(rows: Sequence[Any]) -> Facets:
    by_facet: dict[str, list[FacetCount]] = {"type": [], "status": [], "category": [], "tag": []}
    for facet, value, count in rows:
        by_facet[facet].append(FacetCount(value=value, count=int(count)))

    def top(counts: list[FacetCount]) -> tuple[FacetCount, ...]:
        return tuple(sorted(counts, key=lambda c: (-c.count, c.value))[:FACET_SIZE])

    return Facets(
        types=top(by_facet["type"]),
        statuses=top(by_facet["status"]),
        tags=top(by_facet["tag"]),
        categories=top(by_facet["category"]),
    )

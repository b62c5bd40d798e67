"""The Elasticsearch backend (the official async client).

Searches and writes go through an alias (`<name>`); each physical index is `<name>-<time>`.
`rebuild` fills a new index aside (copying, with `_reindex`, the types it does not rebuild)
and then moves the alias in one atomic `update_aliases`: searches never see a half-built
index. Pages continue with `search_after` on (score, key)."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from typing import Any, Final

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, TransportError
from elasticsearch import ApiError, AsyncElasticsearch
from elasticsearch.helpers import async_bulk

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
from flowgate.search.elastic_mappings import MAPPINGS, SETTINGS

BACKEND: Final = "elasticsearch"
BULK_CHUNK: Final = 500
REBUILD_TIMEOUT: Final = 3600.0
_FACET_FIELDS: Final = {
    "types": "type",
    "statuses": "status",
    "tags": "tags",
    "categories": "category",
}


class ElasticsearchIndex:
    backend = BACKEND

    def __init__(self, url: str, alias: str, *, timeout: float = 10.0) -> None:
        self.alias = alias
        # No retries: an index that is down should fail fast, the indexer retries later.
        self._client = AsyncElasticsearch(url, request_timeout=timeout, max_retries=0)

    async def ensure(self) -> None:
        async with self._guard():
            if not await self._client.indices.exists_alias(name=self.alias):
                await self._create_index(alias=True)

    async def upsert(self, documents: Sequence[SearchDocument]) -> None:
        if not documents:
            return
        actions = [_action(self.alias, document) for document in documents]
        async with self._guard():
            # wait_for: once the indexer has written an entry, searches find it.
            await async_bulk(self._client, actions, chunk_size=BULK_CHUNK, refresh="wait_for")

    async def delete(self, keys: Collection[str], *, parents: Collection[uuid.UUID] = ()) -> None:
        if not keys and not parents:
            return
        should: list[dict[str, Any]] = []
        if keys:
            should.append({"terms": {"key": list(keys)}})
        if parents:
            should.append({"terms": {"parent_id": [str(parent) for parent in parents]}})
        async with self._guard():
            await self._client.delete_by_query(
                index=self.alias,
                query={"bool": {"should": should, "minimum_should_match": 1}},
                conflicts="proceed",
                refresh=True,
            )

    async def search(self, request: SearchRequest) -> SearchResults:
        body: dict[str, Any] = {
            "query": _query(request),
            "sort": [{"_score": "desc"}, {"key": "asc"}],
            "size": request.limit + 1,
            "track_total_hits": True,
            "source": ["type", "object_id", "parent_id"],
            "highlight": {
                "pre_tags": ["<em>"],
                "post_tags": ["</em>"],
                "require_field_match": False,
                "highlight_query": _highlight_query(request),
                "fields": {
                    "title": {"number_of_fragments": 0},
                    "body": {"fragment_size": 120, "number_of_fragments": 2},
                },
            },
            "aggs": {
                name: {"terms": {"field": field, "size": FACET_SIZE}}
                for name, field in _FACET_FIELDS.items()
            },
        }
        if request.after is not None:
            body["search_after"] = list(request.after)
        async with self._guard():
            response = await self._client.search(index=self.alias, **body)
        hits = response["hits"]["hits"]
        aggregations = response["aggregations"]
        return SearchResults(
            hits=tuple(_hit(hit) for hit in hits[: request.limit]),
            total=int(response["hits"]["total"]["value"]),
            facets=Facets(**{name: _counts(aggregations[name]) for name in _FACET_FIELDS}),
            has_next_page=len(hits) > request.limit,
        )

    async def rebuild(
        self, types: frozenset[DocumentType], batches: AsyncIterator[Sequence[SearchDocument]]
    ) -> int:
        # A rebuild copies and writes a whole index: far longer than one request may take.
        slow = self._client.options(request_timeout=REBUILD_TIMEOUT)
        async with self._guard():
            old = await self._indices()
            new = await self._create_index(alias=False)
            try:
                kept = [type_.value for type_ in DocumentType if type_ not in types]
                if old and kept:
                    await slow.reindex(
                        source={"index": self.alias, "query": {"terms": {"type": kept}}},
                        dest={"index": new},
                        wait_for_completion=True,
                    )
                count = 0
                async for batch in batches:
                    writes = [_action(new, document) for document in batch]
                    await async_bulk(slow, writes, chunk_size=BULK_CHUNK)
                    count += len(batch)
                await self._client.indices.refresh(index=new)
            except BaseException:
                await self._client.indices.delete(index=new, ignore_unavailable=True)
                raise
            actions: list[dict[str, Any]] = [
                {"remove": {"index": index, "alias": self.alias}} for index in old
            ]
            actions.append({"add": {"index": new, "alias": self.alias, "is_write_index": True}})
            await self._client.indices.update_aliases(actions=actions)
            for index in old:
                await self._client.indices.delete(index=index, ignore_unavailable=True)
        return count

    async def expire(self, type_: DocumentType, before: datetime) -> int:
        async with self._guard():
            response = await self._client.delete_by_query(
                index=self.alias,
                query={
                    "bool": {
                        "filter": [
                            {"term": {"type": type_.value}},
                            {"range": {"updated_at": {"lt": before.isoformat()}}},
                        ]
                    }
                },
                conflicts="proceed",
                refresh=True,
            )
        return int(response["deleted"])

    async def exists(self) -> bool:
        """Whether the alias searches go through exists yet."""
        async with self._guard():
            return bool(await self._client.indices.exists_alias(name=self.alias))

    async def count(self) -> int:
        async with self._guard():
            response = await self._client.count(index=self.alias)
        return int(response["count"])

    async def drop(self) -> None:
        """Delete the alias's indices (tests)."""
        async with self._guard():
            for index in await self._indices():
                await self._client.indices.delete(index=index, ignore_unavailable=True)

    async def close(self) -> None:
        await self._client.close()

    async def _indices(self) -> list[str]:
        if not await self._client.indices.exists_alias(name=self.alias):
            return []
        return list((await self._client.indices.get_alias(name=self.alias)).keys())

    async def _create_index(self, *, alias: bool) -> str:
        name = f"{self.alias}-{time.time_ns()}"
        aliases = {self.alias: {"is_write_index": True}} if alias else None
        await self._client.indices.create(
            index=name, settings=SETTINGS, mappings=MAPPINGS, aliases=aliases
        )
        return name

    @contextlib.asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        """Turns "cannot reach or use the cluster" into SearchUnavailableError."""
        try:
            yield
        except (TransportConnectionError, ConnectionTimeout) as error:
            raise SearchUnavailableError(BACKEND, f"cannot reach the cluster: {error}") from error
        except ApiError as error:
            # 404: the alias or index is gone; 5xx: the cluster cannot serve. A 400 is ours.
            if error.meta.status >= 500 or error.meta.status == 404:
                reason = f"{error.meta.status}: {error.message}"
                raise SearchUnavailableError(BACKEND, reason) from error
            raise
        except TransportError as error:
            raise SearchUnavailableError(BACKEND, str(error)) from error


def _action(index: str, document: SearchDocument) -> dict[str, Any]:
    return {
        "_op_type": "index",
        "_index": index,
        "_id": document.key,
        "_source": {
            "key": document.key,
            "organization_id": str(document.organization_id),
            "type": document.type.value,
            "object_id": str(document.object_id),
            "parent_id": str(document.parent_id) if document.parent_id else None,
            "title": document.title,
            "labels": " ".join((*document.tags, document.category or "")),
            "body": document.body,
            "status": document.status,
            "category": document.category,
            "tags": list(document.tags),
            "restricted": document.readers is not None,
            "readers": [str(reader) for reader in document.readers or ()],
            "updated_at": document.updated_at.isoformat(),
        },
    }


def _query(request: SearchRequest) -> dict[str, Any]:
    query, reader = request.query, request.reader
    must: list[dict[str, Any]] = [
        {"match": {"all": {"query": word, "operator": "and"}}} for word in query.words
    ]
    must += [{"match_phrase": {"all": phrase}} for phrase in query.phrases]
    if query.prefix:
        # The word being typed: a whole word (stemmed), or the start of one.
        must.append(
            {
                "bool": {
                    "should": [
                        {"match": {"all": query.prefix}},
                        {"prefix": {"all_plain": query.prefix}},
                    ],
                    "minimum_should_match": 1,
                }
            }
        )
    filters: list[dict[str, Any]] = [{"term": {"organization_id": str(reader.organization_id)}}]
    if not reader.everything:
        readable: list[dict[str, Any]] = [{"term": {"restricted": False}}]
        if reader.user_id is not None:
            readable.append({"term": {"readers": str(reader.user_id)}})
        filters.append({"bool": {"should": readable, "minimum_should_match": 1}})
    for field, values in (
        ("type", [type_.value for type_ in request.types]),
        ("status", list(request.filter.statuses)),
        ("tags", list(request.filter.tags)),
        ("category", list(request.filter.categories)),
    ):
        if values:
            filters.append({"terms": {field: values}})
    # Scoring: the same terms again, where a match in the title counts for more.
    boost = " ".join(query.positive_terms)
    return {
        "bool": {
            "must": must,
            "must_not": [{"match_phrase": {"all": excluded}} for excluded in query.excluded],
            "filter": filters,
            "should": [
                {"multi_match": {"query": boost, "fields": ["title^3", "labels^2", "body"]}}
            ],
        }
    }


def _highlight_query(request: SearchRequest) -> dict[str, Any]:
    query = request.query
    should: list[dict[str, Any]] = (
        [{"multi_match": {"query": " ".join(query.words), "fields": ["title", "body"]}}]
        if query.words
        else []
    )
    should += [
        {"multi_match": {"query": phrase, "fields": ["title", "body"], "type": "phrase"}}
        for phrase in query.phrases
    ]
    if query.prefix:
        should.append(
            {
                "multi_match": {
                    "query": query.prefix,
                    "fields": ["title", "body"],
                    "type": "phrase_prefix",
                }
            }
        )
        should.append({"multi_match": {"query": query.prefix, "fields": ["title", "body"]}})
    return {"bool": {"should": should}}


def _hit(hit: dict[str, Any]) -> SearchHit:
    source = hit["_source"]
    highlight = hit.get("highlight", {})
    score, key = hit["sort"]
    return SearchHit(
        type=DocumentType(source["type"]),
        object_id=uuid.UUID(source["object_id"]),
        parent_id=uuid.UUID(source["parent_id"]) if source.get("parent_id") else None,
        score=float(score),
        highlights=tuple(
            Highlight(field=name, fragments=tuple(highlight[name]))
            for name in ("title", "body")
            if name in highlight
        ),
        sort=(float(score), str(key)),
    )


def _counts(aggregation: dict[str, Any]) -> tuple[FacetCount, ...]:
    return tuple(
        FacetCount(value=str(bucket["key"]), count=int(bucket["doc_count"]))
        for bucket in aggregation["buckets"]
    )

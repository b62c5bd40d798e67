"""Persisted queries: Apollo's automatic persisted queries (APQ), and an allow-list mode.

APQ: a client sends `extensions.persistedQuery = {version: 1, sha256Hash}` without the query;
if the gateway knows the hash it runs the query stored under it, else it answers
PERSISTED_QUERY_NOT_FOUND and the client sends the query with the hash once, which registers
it (after checking that the hash is the query's). Hashes live in Redis when one is configured
(shared by every replica, kept a day), else in a bounded in-process LRU; while Redis fails,
each replica keeps them in its own LRU (a client may be asked for a query once more).

Allow-list mode (`persisted_queries_only`): only the operations of a JSON file {hash: query}
run, sent by hash or in full; nothing new is registered."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import orjson
from strawberry.extensions import SchemaExtension

from flowgate.settings import Settings
from flowgate.stores.redis import Breaker, redis_client
from resolvers.errors import ClientError

REDIS_TTL_SECONDS = 24 * 3600


class PersistedQueryNotFoundError(ClientError):
    code = "PERSISTED_QUERY_NOT_FOUND"

    def __init__(self) -> None:
        # Apollo clients recognise the message as well as the code.
        super().__init__("PersistedQueryNotFound")


class PersistedQueryError(ClientError):
    """A `persistedQuery` extension that cannot be honoured (bad version, wrong hash)."""

    code = "PERSISTED_QUERY_INVALID"


class OperationNotAllowedError(ClientError):
    code = "OPERATION_NOT_ALLOWED"

    def __init__(self) -> None:
        super().__init__("Only registered (persisted) operations may run on this gateway")


def sha256(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


class QueryStore(Protocol):
    async def get(self, digest: str) -> str | None: ...
    async def put(self, digest: str, query: str) -> None: ...
    async def close(self) -> None: ...


class MemoryQueryStore:
    def __init__(self, size: int) -> None:
        self._queries: OrderedDict[str, str] = OrderedDict()
        self._size = size

    async def get(self, digest: str) -> str | None:
        query = self._queries.get(digest)
        if query is not None:
            self._queries.move_to_end(digest)
        return query

    async def put(self, digest: str, query: str) -> None:
        self._queries[digest] = query
        self._queries.move_to_end(digest)
        while len(self._queries) > self._size:
            self._queries.popitem(last=False)

    async def close(self) -> None:
        self._queries.clear()


class RedisQueryStore:
    """The queries in Redis, shared by every replica, and those this replica has seen in its
    own LRU. A hash names its query's text (`PersistedQueries.resolve` checks it before it
    stores), so a text once seen never changes: it is answered from memory, without a
    round trip to Redis, and while Redis fails."""

    def __init__(self, url: str, fallback_size: int) -> None:
        self._redis = redis_client(url)  # bounded: a paused Redis must not hold requests
        self._seen = MemoryQueryStore(fallback_size)
        self.breaker = Breaker("persisted queries")

    async def get(self, digest: str) -> str | None:
        seen = await self._seen.get(digest)
        if seen is not None:
            return seen
        query = await self.breaker.call(lambda: self._get(digest), _without_redis)
        if query is not None:
            await self._seen.put(digest, query)
        return query

    async def put(self, digest: str, query: str) -> None:
        await self._seen.put(digest, query)
        await self.breaker.call(lambda: self._put(digest, query), _without_redis)

    async def _get(self, digest: str) -> str | None:
        value = await self._redis.get(f"flowgate:apq:{digest}")
        return value.decode() if isinstance(value, bytes) else value

    async def _put(self, digest: str, query: str) -> None:
        await self._redis.set(f"flowgate:apq:{digest}", query, ex=REDIS_TTL_SECONDS)

    async def close(self) -> None:
        await self._redis.aclose()
        await self._seen.close()


async def _without_redis() -> None:
    """While Redis is out of reach: a hash this replica has not seen is not found (the
    client is asked for the query), and a registered one is kept in its memory only."""


class PersistedQueries:
    """What the extension asks: the APQ store, or the allow-list when only it may run."""

    def __init__(self, store: QueryStore, allow_list: Mapping[str, str] | None) -> None:
        self.store = store
        self.allow_list = allow_list

    @classmethod
    def from_settings(cls, settings: Settings) -> PersistedQueries:
        allow_list = None
        if settings.persisted_queries_only:
            if settings.persisted_queries_file is None:
                raise ValueError("persisted_queries_only needs persisted_queries_file")
            allow_list = load_allow_list(settings.persisted_queries_file)
        store: QueryStore = (
            RedisQueryStore(settings.redis_url, settings.persisted_queries_cache_size)
            if settings.redis_url
            else MemoryQueryStore(settings.persisted_queries_cache_size)
        )
        return cls(store, allow_list)

    async def resolve(self, query: str | None, extension: Any) -> str | None:
        """The query to run; raises a `ClientError` the client can act on."""
        digest = _requested_hash(extension)
        if self.allow_list is not None:
            known = self.allow_list.get(digest or sha256(query or ""))
            if known is None:
                raise PersistedQueryNotFoundError if query is None else OperationNotAllowedError
            return known
        if digest is None:
            return query
        if query is None:
            stored = await self.store.get(digest)
            if stored is None:
                raise PersistedQueryNotFoundError
            return stored
        if sha256(query) != digest:
            raise PersistedQueryError("persistedQuery.sha256Hash is not the query's SHA-256")
        await self.store.put(digest, query)
        return query


def load_allow_list(path: Path) -> dict[str, str]:
    """{sha256: query} from a JSON file; each hash must be its query's."""
    entries = orjson.loads(path.read_bytes())
    if not isinstance(entries, dict):
        raise ValueError(f"{path}: expected a JSON object of {{sha256: query}}")
    for digest, query in entries.items():
        if not isinstance(query, str) or sha256(query) != digest:
            raise ValueError(f"{path}: {digest} is not the SHA-256 of its query")
    return entries


def _requested_hash(extension: Any) -> str | None:
    if extension is None:
        return None
    if not isinstance(extension, dict) or extension.get("version") != 1:
        raise PersistedQueryError("Unsupported persistedQuery: expected version 1")
    digest = extension.get("sha256Hash")
    if not isinstance(digest, str) or len(digest) != 64:
        raise PersistedQueryError("persistedQuery.sha256Hash must be a hex SHA-256")
    return digest.lower()


class PersistedQueriesExtension(SchemaExtension):
    """Puts the persisted query in place before Strawberry parses the operation."""

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context
        request = getattr(context.context, "request", None)
        persisted = getattr(request.app.state, "persisted_queries", None) if request else None
        if isinstance(persisted, PersistedQueries):
            extension = (context.operation_extensions or {}).get("persistedQuery")
            context.query = await persisted.resolve(context.query, extension)
        yield

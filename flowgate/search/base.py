"""The search contract: what a backend stores, what it is asked and what it answers.

Two backends implement `SearchIndex`: PostgreSQL full-text search (the embedded default,
`flowgate.search.postgres`) and Elasticsearch (`flowgate.search.elastic`). One contract test
suite (`tests/test_search_contract.py`) runs the same documents and queries against both."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from flowgate.search.query import ParsedQuery


class DocumentType(StrEnum):
    """What a search document stands for; the values are the GraphQL type names."""

    AGENT = "Agent"
    WORKFLOW = "Workflow"
    EXECUTION = "Execution"
    EXECUTION_EVENT = "ExecutionEvent"
    CONVERSATION = "Conversation"
    MESSAGE = "Message"


class SearchUnavailableError(Exception):
    """The index cannot be reached or refused the request; names the backend."""

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(f"{backend}: {reason}")
        self.backend = backend
        self.reason = reason


@dataclass(frozen=True)
class SearchDocument:
    """An object flattened to text. `readers` restricts who may see it (user ids; admins
    always may); `None` means the whole organization."""

    organization_id: uuid.UUID
    type: DocumentType
    object_id: uuid.UUID
    title: str
    body: str
    updated_at: datetime
    status: str | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    parent_id: uuid.UUID | None = None  # an event's execution, a message's conversation
    readers: tuple[uuid.UUID, ...] | None = None

    @property
    def key(self) -> str:
        return document_key(self.type, self.object_id)


def document_key(type_: DocumentType, object_id: uuid.UUID) -> str:
    return f"{type_.value}:{object_id}"


@dataclass(frozen=True)
class Reader:
    """Whose search this is: results come from this organization only, and restricted
    documents only when the user is among their readers (or `everything` is readable)."""

    organization_id: uuid.UUID
    user_id: uuid.UUID | None
    everything: bool


@dataclass(frozen=True)
class SearchFilter:
    """Exact values; within a field any value matches, across fields all must."""

    statuses: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchRequest:
    query: ParsedQuery
    reader: Reader
    types: frozenset[DocumentType] = frozenset()  # empty: every type
    filter: SearchFilter = field(default_factory=SearchFilter)
    limit: int = 20
    after: tuple[float, str] | None = None  # (score, key) of the last hit seen


@dataclass(frozen=True)
class Highlight:
    field: str  # "title" or "body"
    fragments: tuple[str, ...]  # matched words wrapped in <em>...</em>


@dataclass(frozen=True)
class SearchHit:
    type: DocumentType
    object_id: uuid.UUID
    parent_id: uuid.UUID | None
    score: float
    highlights: tuple[Highlight, ...]
    sort: tuple[float, str]  # what `SearchRequest.after` takes to continue after this hit


@dataclass(frozen=True)
class FacetCount:
    value: str
    count: int


@dataclass(frozen=True)
class Facets:
    """Counts over every match of the request (all pages), most frequent first."""

    types: tuple[FacetCount, ...] = ()
    statuses: tuple[FacetCount, ...] = ()
    tags: tuple[FacetCount, ...] = ()
    categories: tuple[FacetCount, ...] = ()


@dataclass(frozen=True)
class SearchResults:
    hits: tuple[SearchHit, ...]
    total: int
    facets: Facets
    has_next_page: bool


FACET_SIZE = 20


class SearchIndex(Protocol):
    """A search backend. Every method raises `SearchUnavailableError` when the index cannot
    be reached, never a driver's exception."""

    backend: str  # "postgresql", "elasticsearch": named in errors and metrics

    async def ensure(self) -> None:
        """Create what the index needs (index, alias) if it is missing."""

    async def upsert(self, documents: Sequence[SearchDocument]) -> None:
        """Store the documents, replacing those with the same keys."""

    async def delete(self, keys: Collection[str], *, parents: Collection[uuid.UUID] = ()) -> None:
        """Remove documents by key, and every document whose `parent_id` is in `parents`."""

    async def search(self, request: SearchRequest) -> SearchResults: ...

    async def rebuild(
        self, types: frozenset[DocumentType], batches: AsyncIterator[Sequence[SearchDocument]]
    ) -> int:
        """Replace every document of `types` with `batches`, building aside and swapping
        when complete: searches see the old documents until then. Returns the count."""
        ...

    async def expire(self, type_: DocumentType, before: datetime) -> int:
        """Retention: remove documents of `type_` last updated before `before`."""
        ...

    async def count(self) -> int:
        """Documents in the index, every organization."""
        ...

    async def close(self) -> None: ...

"""The `search` field: validate the arguments, ask the index, then check every hit against
the source of truth. Each object is loaded through the request's loaders (one batch per
type), scoped to the principal's organization; a hit whose object does not load, is deleted,
or is a workflow the principal may not read (or an execution or event of one), or a
conversation (or message of one) the principal may not read or that is deleted, is dropped. A
page can therefore hold fewer than `first` results; its cursor still continues after the
last hit the index returned."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, assert_never

from flowgate.search import metrics
from flowgate.search.base import (
    DocumentType,
    Facets,
    SearchFilter,
    SearchHit,
    SearchRequest,
    SearchUnavailableError,
)
from flowgate.search.query import QuerySyntaxError, parse
from resolvers import access, cursors
from resolvers.errors import BadInputError, ClientError
from resolvers.filters import check_text
from resolvers.pagination import DEFAULT_PAGE_SIZE

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context

MAX_FILTER_VALUES: Final = 20
MAX_FILTER_VALUE_LENGTH: Final = 100


class SearchDownError(ClientError):
    """The search index cannot answer; every other field still works."""

    code = "SEARCH_UNAVAILABLE"

    def __init__(self, backend: str) -> None:
        super().__init__(
            f"Search is unavailable: the {backend} search index cannot be reached; retry later",
            backend=backend,
        )


@dataclass(frozen=True)
class Found:
    hit: SearchHit
    model: Any  # the Agent, Execution, Conversation or Message row, or a MongoDB document


@dataclass(frozen=True)
class SearchPage:
    found: list[Found]
    cursors: list[str]
    total: int
    facets: Facets
    has_next_page: bool
    end_cursor: str | None


async def search(
    info: Info[Context],
    *,
    query: str,
    types: list[DocumentType] | None,
    filter_: SearchFilter,
    first: int | None,
    after: str | None,
) -> SearchPage:
    request = SearchRequest(
        query=_parse(query),
        reader=access.search_reader(info.context.principal),
        types=frozenset(types or ()),
        filter=_checked_filter(filter_),
        limit=_page_size(first, info.context.services.settings.max_page_size),
        after=decode_cursor(after) if after is not None else None,
    )
    index = info.context.services.search
    started = time.perf_counter()
    try:
        results = await index.search(request)
    except SearchUnavailableError as error:
        raise SearchDownError(error.backend) from error
    finally:
        metrics.SEARCH_SECONDS.labels(backend=index.backend).observe(time.perf_counter() - started)
    models = await asyncio.gather(*(_load(info, hit) for hit in results.hits))
    found = [
        Found(hit, model)
        for hit, model in zip(results.hits, models, strict=True)
        if _readable(info, hit, model)
    ]
    return SearchPage(
        found=found,
        cursors=[encode_cursor(item.hit.sort) for item in found],
        total=results.total,
        facets=results.facets,
        has_next_page=results.has_next_page,
        end_cursor=encode_cursor(results.hits[-1].sort) if results.hits else None,
    )


# The codec (`resolvers.cursors`) under the names the callers know.
encode_cursor = cursors.encode_search
decode_cursor = cursors.decode_search


def _parse(query: str) -> Any:
    if not query.strip():
        raise BadInputError("query", "must not be empty")
    try:
        return parse(query)
    except QuerySyntaxError as error:
        raise BadInputError("query", str(error)) from None


def _page_size(first: int | None, max_size: int) -> int:
    size = DEFAULT_PAGE_SIZE if first is None else first
    if not 0 < size <= max_size:
        raise BadInputError("first", f"must be 1..{max_size}, got {size}")
    return size


def _checked_filter(filter_: SearchFilter) -> SearchFilter:
    for name, values in (
        ("status", filter_.statuses),
        ("tag", filter_.tags),
        ("category", filter_.categories),
    ):
        if len(values) > MAX_FILTER_VALUES:
            raise BadInputError(f"filter.{name}", f"at most {MAX_FILTER_VALUES} values")
        if any(not value or len(value) > MAX_FILTER_VALUE_LENGTH for value in values):
            raise BadInputError(
                f"filter.{name}", f"each value must be 1..{MAX_FILTER_VALUE_LENGTH} characters"
            )
        for value in values:  # NUL, which PostgreSQL text cannot hold: refused as elsewhere
            check_text(value, f"filter.{name}")
    return filter_


async def _load(info: Info[Context], hit: SearchHit) -> Any:
    loaders = info.context.loaders
    match hit.type:
        case DocumentType.AGENT:
            return await loaders.agent_by_id.load(hit.object_id)
        case DocumentType.WORKFLOW:
            return await loaders.workflow_by_id.load(hit.object_id)
        case DocumentType.EXECUTION:
            return await loaders.execution_by_id.load(hit.object_id)
        case DocumentType.EXECUTION_EVENT:
            return await _event(info, hit)
        case DocumentType.CONVERSATION:
            return await loaders.conversation_by_id.load(hit.object_id)
        case DocumentType.MESSAGE:
            return await _message(info, hit)
        case _:  # the type checker proves every kind of result is loaded
            assert_never(hit.type)


async def _event(info: Info[Context], hit: SearchHit) -> Any:
    loaders = info.context.loaders
    event = await loaders.execution_event_by_id.load(hit.object_id)
    # An event is the principal's to see only if its execution is (that loader hides
    # executions of unreadable workflows).
    if event is None or await loaders.execution_by_id.load(event.execution_id) is None:
        return None
    return event


async def _message(info: Info[Context], hit: SearchHit) -> Any:
    loaders = info.context.loaders
    # Its loader loads only messages of conversations the principal may see; a message of
    # a deleted conversation is not found either.
    message = await loaders.message_by_id.load(hit.object_id)
    if message is None:
        return None
    conversation = await loaders.conversation_by_id.load(message.conversation_id)
    return message if conversation is not None and conversation.deleted_at is None else None


def _readable(info: Info[Context], hit: SearchHit, model: Any) -> bool:
    if model is None:
        return False
    if hit.type in (DocumentType.AGENT, DocumentType.CONVERSATION, DocumentType.MESSAGE):
        return model.deleted_at is None
    if hit.type is DocumentType.WORKFLOW:
        return access.may_read_workflow(info.context.principal, model)
    # Executions, events, conversations and messages: their loaders load only readable ones.
    return True

"""`Execution.events`: an execution's event log as a connection, oldest first, with the same
cursors as `executionProgress` (an event's cursor resumes either after it)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from models import documents
from models.enums import ExecutionEventType
from resolvers.errors import BadInputError
from resolvers.loaders.event_pages import EventCountKey, EventPageKey
from resolvers.pagination import Page, PageRequest
from resolvers.subscriptions import decode_cursor, encode_cursor

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context


async def event_page(
    info: Info[Context],
    execution_id: uuid.UUID,
    *,
    types: list[ExecutionEventType] | None,
    first: int | None,
    after: str | None,
) -> tuple[Page[documents.ExecutionEvent], Callable[[], Awaitable[int]]]:
    """One page of the log, and a counter of all its events of `types` (asked only if the
    client wants `totalCount`). The execution is one the principal may read already."""
    if types is not None and not types:
        raise BadInputError("types", "give at least one type, or leave it out for all")
    limit = PageRequest.from_arguments(
        first, None, max_size=info.context.services.settings.max_page_size
    ).limit
    after_seq = decode_cursor(after) if after is not None else 0
    kinds = tuple(sorted({kind.value for kind in types})) if types is not None else None
    loaders = info.context.loaders
    events = await loaders.event_page_by_execution.load(
        EventPageKey(execution_id, kinds, after_seq, limit)
    )
    shown = events[:limit]
    page = Page(
        items=shown,
        cursors=[encode_cursor(event.seq) for event in shown],
        has_next_page=len(events) > limit,
        has_previous_page=after_seq > 0,
    )

    async def count() -> int:
        return await loaders.event_count_by_execution.load(EventCountKey(execution_id, kinds))

    return page, count

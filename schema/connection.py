"""Relay connections, generic over the node type (`Connection[Agent]` is `AgentConnection`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Generic, TypeVar

import strawberry

from resolvers.context import Context
from resolvers.pagination import DEFAULT_PAGE_SIZE, Page, PageRequest

# How page-size arguments state their bounds. The maximum is a setting of the gateway
# (`FLOWGATE_MAX_PAGE_SIZE`), so no description names a number for it: a page too large is
# refused with an error that names the limit in force.
PAGE_SIZE_LIMIT = "at most the gateway's page-size limit"
PAGE_SIZE_BOUNDS = f"default {DEFAULT_PAGE_SIZE}, {PAGE_SIZE_LIMIT}"

# The arguments of every root connection (one wording, one home).
First = Annotated[
    int | None,
    strawberry.argument(description=f"Page size going forward ({PAGE_SIZE_BOUNDS})."),
]
After = Annotated[str | None, strawberry.argument(description="Cursor to continue after.")]
Last = Annotated[
    int | None, strawberry.argument(description=f"Page size going backward ({PAGE_SIZE_LIMIT}).")
]
Before = Annotated[str | None, strawberry.argument(description="Cursor to continue before.")]
Id = Annotated[strawberry.ID, strawberry.argument(description="The object's global id.")]


NodeT = TypeVar("NodeT")
ItemT = TypeVar("ItemT")
QueryT = TypeVar("QueryT")


@strawberry.type(description="Where a page sits in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow `endCursor`.")
    has_previous_page: bool = strawberry.field(description="Items precede `startCursor`.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last edge.")


@strawberry.type(description="An item of a page and the cursor that points at it.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Opaque; pass as `after`/`before` to page on.")
    node: NodeT = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list, with keyset (cursor) pagination.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The items of this page, in order.")
    page_info: PageInfo = strawberry.field(description="How to reach the neighbouring pages.")
    counter: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items match the filter, across all pages.")
    async def total_count(self) -> int:
        # Counted only when asked for: a COUNT over a large filter is not free.
        return await self.counter()

    @classmethod
    def from_page(
        cls,
        page: Page[ItemT],
        to_node: Callable[[ItemT], NodeT],
        counter: Callable[[], Awaitable[int]],
    ) -> Connection[NodeT]:
        edges = [
            Edge(cursor=cursor, node=to_node(item))
            for item, cursor in zip(page.items, page.cursors, strict=True)
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
            counter=counter,
        )


def page_request(
    info: strawberry.Info[Context],
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
) -> PageRequest:
    """The Relay arguments of a connection, checked against the gateway's page-size limit."""
    return PageRequest.from_arguments(
        first, after, last, before, max_size=info.context.services.settings.max_page_size
    )


async def paginate(
    listed: Awaitable[tuple[Page[ItemT], QueryT]],
    to_node: Callable[[ItemT], NodeT],
    count: Callable[[QueryT], Awaitable[int]],
) -> Connection[NodeT]:
    """The body of every root connection: a resolver's page and the query that selected it
    become a `Connection` whose `totalCount` runs `count(query)` only when asked for."""
    page, query = await listed
    return Connection.from_page(page, to_node, partial(count, query))

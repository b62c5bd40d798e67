"""Relay connections, generic over the node type (`Connection[Agent]` is `AgentConnection`),
and the one body of the root connections that take a filter and an order
(`root_connection`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any, Generic, Protocol, TypeVar

import strawberry

from resolvers.context import Context
from resolvers.pagination import DEFAULT_PAGE_SIZE, Page, PageRequest
from schema.filters import Filters, Orders, filter_of, ordering_of
from schema.permissions import READERS

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
FilterT = TypeVar("FilterT")
OrderingT = TypeVar("OrderingT")
FilterT_contra = TypeVar("FilterT_contra", contravariant=True)
OrderingT_contra = TypeVar("OrderingT_contra", contravariant=True)
ListedT_co = TypeVar("ListedT_co", covariant=True)


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


class Lister(Protocol[FilterT_contra, OrderingT_contra, ListedT_co]):
    """A resolver that lists a root connection's page (`resolvers.agents.list_agents`): it
    returns the page and the query its `totalCount` counts."""

    def __call__(
        self,
        info: strawberry.Info[Context],
        *,
        page: PageRequest,
        filter_: FilterT_contra | None = None,
        order: OrderingT_contra | None = None,
    ) -> Awaitable[ListedT_co]: ...


def root_connection(
    *,
    description: str,
    node: type[NodeT],
    from_model: Callable[[ItemT], NodeT],
    filter_type: type[Filters[FilterT]],
    filter_description: str,
    order_type: type[Orders[OrderingT]],
    order_description: str,
    listed: Lister[FilterT, OrderingT, tuple[Page[ItemT], QueryT]],
    count: Callable[[strawberry.Info[Context], QueryT], Awaitable[int]],
) -> Connection[NodeT]:
    """A root connection field for readers: `first`/`after`/`last`/`before`, a `filter` and
    an `orderBy` argument, and the body every such list shares (`paginate`)."""

    async def resolve(
        info: strawberry.Info[Context],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Filters[FilterT] | None = None,
        order_by: Orders[OrderingT] | None = None,
    ) -> Connection[NodeT]:
        return await paginate(
            listed(
                info,
                page=page_request(info, first, after, last, before),
                filter_=filter_of(filter),
                order=ordering_of(order_by),
            ),
            from_model,
            partial(count, info),
        )

    # Strawberry builds the arguments and the type from the annotations, which must name
    # the domain's own input and node types where the code above can only say "a filter".
    annotations: dict[str, Any] = {
        "filter": Annotated[
            filter_type | None, strawberry.argument(description=filter_description)
        ],
        "order_by": Annotated[
            order_type | None, strawberry.argument(description=order_description)
        ],
        "return": Connection[node],  # type: ignore[valid-type]
    }
    resolve.__annotations__.update(annotations)
    field: Connection[NodeT] = strawberry.field(
        resolver=resolve, permission_classes=READERS, description=description
    )
    return field

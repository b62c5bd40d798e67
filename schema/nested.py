"""Arguments and plumbing shared by nested execution connections (`Agent.executions`,
`Workflow.executions`)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.filters import DEFAULT_EXECUTION_ORDER
from resolvers.filters import ExecutionFilter as ExecutionFilterData
from resolvers.loaders.pages import CountedPage, NestedPageArgs
from resolvers.pagination import DEFAULT_PAGE_SIZE, PageRequest
from resolvers.sorting import EXECUTION_SORT_KEYS
from resolvers.sql_pages import parse_cursor
from schema.connection import PAGE_SIZE_BOUNDS, Connection
from schema.filters import ExecutionFilter, ExecutionOrder

NestedFirst = Annotated[
    int, strawberry.argument(description=f"How many per parent ({PAGE_SIZE_BOUNDS}).")
]
NestedFilter = Annotated[
    ExecutionFilter | None, strawberry.argument(description="Which executions to include.")
]
NestedAfter = Annotated[
    str | None,
    strawberry.argument(description="Cursor: the executions after this one (an `endCursor`)."),
]
NestedOrder = Annotated[
    ExecutionOrder | None, strawberry.argument(description="Default: newest first.")
]


def nested_args(
    first: int,
    filter_: ExecutionFilter | None,
    order: ExecutionOrder | None,
    *,
    max_size: int,
    after: str | None = None,
) -> NestedPageArgs:
    # The same page-size and cursor rules as the root connections (`first` 0..`max_page_size`;
    # a cursor that cannot be read is a BAD_USER_INPUT naming `after`), checked before any load.
    request = PageRequest.from_arguments(first, after, max_size=max_size)
    ordering = order.to_ordering() if order is not None else DEFAULT_EXECUTION_ORDER
    cursor = request.cursor
    return NestedPageArgs(
        first=request.limit,
        filter=filter_.to_filter() if filter_ is not None else ExecutionFilterData(),
        order=ordering,
        after=(
            parse_cursor(EXECUTION_SORT_KEYS[ordering.field], cursor, "after")
            if cursor is not None
            else None
        ),
    )


def to_connection(counted: CountedPage) -> Connection[object]:
    from schema.execution import Execution

    async def total() -> int:
        return counted.total

    return Connection.from_page(counted.page, Execution.from_model, total)


__all__ = ["DEFAULT_PAGE_SIZE", "NestedAfter", "NestedFilter", "NestedFirst", "NestedOrder"]

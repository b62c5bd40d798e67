"""Arguments and plumbing shared by nested execution connections (`Agent.executions`,
`Workflow.executions`)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.filters import ExecutionFilter as ExecutionFilterData
from resolvers.loaders.pages import CountedPage, NestedPageArgs
from resolvers.pagination import DEFAULT_PAGE_SIZE, PageRequest
from schema.connection import PAGE_SIZE_BOUNDS, Connection
from schema.filters import DEFAULT_EXECUTION_ORDER, ExecutionFilter, ExecutionOrder

NestedFirst = Annotated[
    int, strawberry.argument(description=f"How many per parent ({PAGE_SIZE_BOUNDS}).")
]
NestedFilter = Annotated[
    ExecutionFilter | None, strawberry.argument(description="Which executions to include.")
]
NestedOrder = Annotated[
    ExecutionOrder | None, strawberry.argument(description="Default: newest first.")
]


def nested_args(
    first: int, filter_: ExecutionFilter | None, order: ExecutionOrder | None, *, max_size: int
) -> NestedPageArgs:
    # The same page-size rules as the root connections (`first` 0..`max_page_size`).
    return NestedPageArgs(
        first=PageRequest.from_arguments(first, None, max_size=max_size).limit,
        filter=filter_.to_filter() if filter_ is not None else ExecutionFilterData(),
        order=order.to_ordering() if order is not None else DEFAULT_EXECUTION_ORDER,
    )


def to_connection(counted: CountedPage) -> Connection[object]:
    from schema.execution import Execution

    async def total() -> int:
        return counted.total

    return Connection.from_page(counted.page, Execution.from_model, total)


__all__ = ["DEFAULT_PAGE_SIZE", "NestedFilter", "NestedFirst", "NestedOrder"]

"""`toolUsage`: tool (MCP) call figures for analysts, grouped one way."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.context import Context
from resolvers.conversations import usage
from resolvers.filters import DateRange
from schema.filters import DateRangeInput

strawberry.enum(usage.ToolUsageGroup, description="How tool calls are grouped.")


@strawberry.type(description="The tool calls of one group.")
class ToolUsage:
    key: str = strawberry.field(
        description="The tool's name, the server, the user's global id, or the day (UTC)."
    )
    calls: int = strawberry.field(description="How many calls.")
    failures: int = strawberry.field(description="How many of them failed.")
    duration_p50_ms: float | None = strawberry.field(description="Median duration.")
    duration_p95_ms: float | None = strawberry.field(description="95th percentile duration.")
    cost: float = strawberry.field(description="Their cost, in US dollars.")


async def resolve_tool_usage(
    info: strawberry.Info[Context],
    group_by: Annotated[
        usage.ToolUsageGroup, strawberry.argument(description="TOOL, SERVER, USER or DAY.")
    ],
    window: Annotated[
        DateRangeInput | None,
        strawberry.argument(description="When the calls started; default: all time."),
    ] = None,
) -> list[ToolUsage]:
    rows = await usage.tool_usage(
        info,
        window=window.to_range("window") if window is not None else DateRange(),
        group=group_by,
    )
    return [
        ToolUsage(
            key=row.key,
            calls=row.calls,
            failures=row.failures,
            duration_p50_ms=row.duration_p50_ms,
            duration_p95_ms=row.duration_p95_ms,
            cost=float(row.cost),
        )
        for row in rows
    ]

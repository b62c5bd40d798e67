"""`dashboardStatsChanged`: `dashboardStats` kept live for dashboards."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from resolvers import live_stats
from resolvers.context import Context
from schema.stats import DashboardStats


@strawberry.input(description="Whose figures `dashboardStatsChanged` streams.")
class DashboardStatsFilter:
    agent_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this agent's executions (and conversations)."
    )
    workflow_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Only this workflow's executions (one you may read); no conversations.",
    )


async def dashboard_stats_changed(
    info: strawberry.Info[Context],
    window: Annotated[
        int,
        strawberry.argument(
            description="The window's length in seconds, ending now at each emission: from "
            f"{live_stats.MIN_WINDOW_SECONDS} to {live_stats.MAX_WINDOW_SECONDS}."
        ),
    ] = live_stats.DEFAULT_WINDOW_SECONDS,
    filter: Annotated[
        DashboardStatsFilter | None, strawberry.argument(description="Whose figures.")
    ] = None,
) -> AsyncGenerator[DashboardStats, None]:
    chosen = filter or DashboardStatsFilter()
    figures = live_stats.dashboard_stats_changed(
        info, window=window, agent_id=chosen.agent_id, workflow_id=chosen.workflow_id
    )
    async for data in figures:
        info.context.refresh_loaders()
        yield DashboardStats.from_data(data)

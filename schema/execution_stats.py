"""Per-agent and per-workflow execution statistics.

Each field is the figure of the same name (`resolvers.loaders.stats.figures`): the resolvers
copy it from the loaded figures, a compiled statement computes it in SQL by that name."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers.loaders.stats import ExecutionStats as StatsData


@strawberry.type(description="Aggregates over all executions of an agent or workflow.")
class ExecutionStats:
    executions: int = strawberry.field(description="How many executions in all.")
    succeeded: int = strawberry.field(description="How many succeeded.")
    failed: int = strawberry.field(description="How many failed.")
    success_rate: float | None = strawberry.field(
        description="Succeeded over finished (0-1); null when none has finished."
    )
    average_duration_ms: float | None = strawberry.field(
        description="Mean duration of finished executions."
    )
    total_cost: float = strawberry.field(description="Summed cost (USD).")
    total_tokens: float = strawberry.field(description="Summed tokens (a Float: exceeds Int).")
    last_started_at: datetime | None = strawberry.field(description="The latest start.")
    executions_last_24_hours: int = strawberry.field(description="Started in the last 24 h.")

    @classmethod
    def from_data(cls, data: StatsData) -> ExecutionStats:
        return cls(
            executions=data.executions,
            succeeded=data.succeeded,
            failed=data.failed,
            success_rate=data.success_rate,
            average_duration_ms=data.average_duration_ms,
            total_cost=data.total_cost,
            total_tokens=data.total_tokens,
            last_started_at=data.last_started_at,
            executions_last_24_hours=data.executions_last_24_hours,
        )

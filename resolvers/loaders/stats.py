"""Per-parent execution statistics: one grouped SQL query for all parents of a page.

The figures are defined once, as SQL aggregates over the executions (`figures`): this loader
groups them by parent, and a compiled statement computes an agent's in a correlated
subquery (`resolvers.compiled.figures`), so both answer the same numbers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, case, cast, func, null, select
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION

from flowgate.principal import Principal
from flowgate.services import Services
from models.enums import TERMINAL_EXECUTION_STATUSES, ExecutionStatus
from models.sql import Execution
from models.sql.base import utcnow
from resolvers import access
from resolvers.loaders.base import ScopedLoader
from resolvers.loaders.keys import in_keys
from resolvers.loaders.readable import ReadableWorkflowIds


@dataclass(frozen=True)
class ExecutionStats:
    """The figures of one parent (an empty group's when it has no execution), named as the
    fields of `figures` and of the GraphQL type `ExecutionStats`."""

    executions: int = 0
    succeeded: int = 0
    failed: int = 0
    success_rate: float | None = None
    average_duration_ms: float | None = None
    total_cost: float = 0.0
    total_tokens: int = 0
    last_started_at: datetime | None = None
    executions_last_24_hours: int = 0


# Read in Python as the GraphQL type serializes them: the numeric aggregates as floats.
_READ: dict[str, Any] = {
    "average_duration_ms": lambda value: float(value) if value is not None else None,
    "total_cost": float,
    "total_tokens": int,  # sum(bigint) is numeric in PostgreSQL
}


def recent_since() -> datetime:
    """Where `executions_last_24_hours` starts, for a request run now."""
    return utcnow() - timedelta(hours=24)


def figures(since: datetime | BindParameter[Any]) -> dict[str, ColumnElement[Any]]:
    """The figures of a group of executions as aggregates over `Execution`, by the names of
    `ExecutionStats`' fields; `since` is `recent_since()` (or a parameter bound to it)."""
    finished = func.count().filter(Execution.status.in_(TERMINAL_EXECUTION_STATUSES))
    succeeded = func.count().filter(Execution.status == ExecutionStatus.SUCCEEDED)
    # Succeeded over finished, null when nothing has finished yet. Both counts are exact in
    # a double, so double division rounds as Python's `succeeded / finished` does.
    rate = cast(succeeded, DOUBLE_PRECISION) / cast(finished, DOUBLE_PRECISION)
    return {
        "executions": func.count(),
        "succeeded": succeeded,
        "failed": func.count().filter(Execution.status == ExecutionStatus.FAILED),
        "success_rate": case((finished > 0, rate), else_=null()),
        "average_duration_ms": func.avg(Execution.duration_ms),
        "total_cost": func.coalesce(func.sum(Execution.cost), 0),
        "total_tokens": func.coalesce(func.sum(Execution.tokens), 0),
        "last_started_at": func.max(Execution.started_at),
        "executions_last_24_hours": func.count().filter(Execution.started_at >= since),
    }


class _StatsByParentLoader(ScopedLoader[uuid.UUID, ExecutionStats]):
    parent_column: Any

    def __init__(
        self, services: Services, principal: Principal, readable: ReadableWorkflowIds | None
    ) -> None:
        super().__init__(services, principal)
        # An agent's figures count only the executions the principal may read. (A
        # workflow's need no filter: the workflow loaded only if it is readable, and so
        # are all its executions.)
        self.readable = readable

    async def visible(self) -> ColumnElement[bool]:
        readable = await self.readable.get() if self.readable is not None else None
        return access.execution_visible(self.principal, readable)

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[ExecutionStats]:
        # Read off the class: a mapped attribute read off an instance is a descriptor that
        # looks for ORM state on the loader and raises.
        parent = type(self).parent_column
        aggregates = figures(recent_since())
        query = (
            select(parent.label("parent"), *(e.label(name) for name, e in aggregates.items()))
            .where(
                await self.visible(),
                in_keys(parent, keys),
            )
            .group_by(parent)
        )
        async with self.services.postgres.read_session() as session:
            rows = (await session.execute(query)).all()
        stats = {
            row.parent: ExecutionStats(
                **{name: _READ.get(name, _same)(getattr(row, name)) for name in aggregates}
            )
            for row in rows
        }
        return [stats.get(key, ExecutionStats()) for key in keys]


def _same(value: Any) -> Any:
    return value


class AgentStatsByAgentIdLoader(_StatsByParentLoader):
    parent_column = Execution.agent_id


class WorkflowStatsByWorkflowIdLoader(_StatsByParentLoader):
    parent_column = Execution.workflow_id

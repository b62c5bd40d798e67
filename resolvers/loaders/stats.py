"""Per-parent execution statistics: one grouped SQL query for all parents of a page."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select

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
    executions: int = 0
    finished: int = 0
    succeeded: int = 0
    failed: int = 0
    average_duration_ms: float | None = None
    total_cost: float = 0.0
    total_tokens: int = 0
    last_started_at: datetime | None = None
    last_24_hours: int = 0

    @property
    def success_rate(self) -> float | None:
        """Succeeded over finished; `None` when nothing has finished yet."""
        return self.succeeded / self.finished if self.finished else None


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
        since = utcnow() - timedelta(hours=24)
        query = (
            select(
                parent,
                func.count(),
                func.count().filter(Execution.status.in_(TERMINAL_EXECUTION_STATUSES)),
                func.count().filter(Execution.status == ExecutionStatus.SUCCEEDED),
                func.count().filter(Execution.status == ExecutionStatus.FAILED),
                func.avg(Execution.duration_ms),
                func.coalesce(func.sum(Execution.cost), 0),
                func.coalesce(func.sum(Execution.tokens), 0),
                func.max(Execution.started_at),
                func.count().filter(Execution.started_at >= since),
            )
            .where(
                await self.visible(),
                in_keys(parent, keys),
            )
            .group_by(parent)
        )
        async with self.services.postgres.read_session() as session:
            rows = (await session.execute(query)).all()
        stats = {
            row[0]: ExecutionStats(
                executions=row[1],
                finished=row[2],
                succeeded=row[3],
                failed=row[4],
                average_duration_ms=float(row[5]) if row[5] is not None else None,
                total_cost=float(row[6]),
                total_tokens=int(row[7]),
                last_started_at=row[8],
                last_24_hours=row[9],
            )
            for row in rows
        }
        return [stats.get(key, ExecutionStats()) for key in keys]


class AgentStatsByAgentIdLoader(_StatsByParentLoader):
    parent_column = Execution.agent_id


class WorkflowStatsByWorkflowIdLoader(_StatsByParentLoader):
    parent_column = Execution.workflow_id

"""Approvals of many executions at once (`Execution.approvals`), and by id (commands)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from models.sql import Approval
from resolvers.loaders.base import ScopedLoader, SqlRowByIdLoader
from resolvers.loaders.keys import in_keys

# How an execution's approvals are listed, oldest request first: by this loader and by the
# compiled statement (`schema.compiled.bind`), so that both answer them in one order.
APPROVALS_ORDER = (Approval.requested_at, Approval.id)


class ApprovalsByExecutionLoader(ScopedLoader[uuid.UUID, list[Approval]]):
    """Every approval of each execution, oldest request first. The caller has already
    shown the execution, so its visibility is settled; the organization still scopes."""

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[Approval]]:
        query = (
            select(Approval)
            .where(
                Approval.organization_id == self.principal.organization_id,
                in_keys(Approval.execution_id, keys),
            )
            .order_by(*APPROVALS_ORDER)
        )
        async with self.services.postgres.read_session() as session:
            rows = (await session.scalars(query)).all()
        by_execution: dict[uuid.UUID, list[Approval]] = {}
        for row in rows:
            by_execution.setdefault(row.execution_id, []).append(row)
        return [by_execution.get(key, []) for key in keys]


class ApprovalByIdLoader(SqlRowByIdLoader[Approval]):
    model = Approval

"""Reading executions: only those the principal may read (`resolvers.access`)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, select

from models.enums import ExecutionStatus
from models.sql import Execution
from resolvers import access
from resolvers.filters import (
    DEFAULT_EXECUTION_ORDER,
    ExecutionFilter,
    ExecutionOrderField,
    Ordering,
)
from resolvers.pagination import Page, PageRequest
from resolvers.sorting import EXECUTION_SORT_KEYS
from resolvers.sql_pages import count_rows, fetch_page

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context


def execution_conditions(organization_id: uuid.UUID, filter_: ExecutionFilter) -> list[Any]:
    """The WHERE terms of a filter, all bound parameters; shared by the root list and the
    nested `Agent.executions` / `Workflow.executions` loaders."""
    conditions: list[ColumnElement[bool]] = [Execution.organization_id == organization_id]
    if filter_.statuses is not None:
        conditions.append(Execution.status.in_(filter_.statuses))
    if filter_.agent_id is not None:
        conditions.append(Execution.agent_id == filter_.agent_id)
    if filter_.workflow_id is not None:
        conditions.append(Execution.workflow_id == filter_.workflow_id)
    if filter_.started.start is not None:
        conditions.append(Execution.started_at >= filter_.started.start)
    if filter_.started.end is not None:
        conditions.append(Execution.started_at < filter_.started.end)
    if filter_.duration_ms.minimum is not None:
        conditions.append(Execution.duration_ms >= filter_.duration_ms.minimum)
    if filter_.duration_ms.maximum is not None:
        conditions.append(Execution.duration_ms <= filter_.duration_ms.maximum)
    if filter_.started_by is not None:
        conditions.append(Execution.started_by_id == filter_.started_by)
    if filter_.error_contains is not None:
        conditions.append(Execution.status == ExecutionStatus.FAILED)
        # ILIKE with the user's text escaped: `%` and `_` match themselves.
        conditions.append(Execution.error.icontains(filter_.error_contains, autoescape=True))
    return conditions


async def list_executions(
    info: Info[Context],
    *,
    page: PageRequest,
    filter_: ExecutionFilter | None = None,
    order: Ordering[ExecutionOrderField] | None = None,
) -> tuple[Page[Execution], Select[Execution]]:
    """A page of executions and the query its `totalCount` counts."""
    filter_ = filter_ or ExecutionFilter()
    order = order or DEFAULT_EXECUTION_ORDER
    principal = info.context.principal
    # Executions of workflows the principal may not read are left out, so that filtering
    # by such a workflow finds nothing, as for a workflow that does not exist.
    readable = await info.context.loaders.readable_workflow_ids.get()
    query = select(Execution).where(
        *execution_conditions(principal.organization_id, filter_),
        access.execution_visible(principal, readable),
    )
    # A read on the request's read connection: no transaction, so no BEGIN or ROLLBACK.
    async with info.context.services.postgres.read_session() as session:
        result = await fetch_page(
            session,
            query,
            page,
            sort=EXECUTION_SORT_KEYS[order.field],
            id_column=Execution.id,
            descending=order.descending,
        )
    return result, query


async def count(info: Info[Context], query: Select[Execution]) -> int:
    async with info.context.services.postgres.read_session() as session:
        return await count_rows(session, query)


async def execution_by_id(info: Info[Context], execution_id: uuid.UUID) -> Execution | None:
    return await info.context.loaders.execution_by_id.load(execution_id)

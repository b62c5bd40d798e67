"""`pendingApprovals`: the approvals waiting on the principal ("my inbox")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Select, select

from models.enums import ExecutionStatus
from models.sql import Approval, Execution
from models.sql.base import utcnow
from resolvers import access
from resolvers.pagination import Page, PageRequest
from resolvers.sorting import APPROVAL_SORT_KEY
from resolvers.sql_pages import count_rows, fetch_page

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context


async def pending_approvals(
    info: Info[Context], *, page: PageRequest
) -> tuple[Page[Approval], Select[Approval]]:
    """Open approvals naming the principal, of paused runs it may still read (a workflow
    unshared since the request drops out), oldest first."""
    principal = info.context.principal
    readable = await info.context.loaders.readable_workflow_ids.get()
    query = (
        select(Approval)
        .join(Execution, Execution.id == Approval.execution_id)
        .where(
            Approval.organization_id == principal.organization_id,
            Approval.approvers.contains([principal.user_id]),
            Approval.is_open_sql(utcnow()),
            Execution.status == ExecutionStatus.PAUSED,
            access.execution_visible(principal, readable),
        )
    )
    async with info.context.services.postgres.session() as session:
        result = await fetch_page(
            session,
            query,
            page,
            sort=APPROVAL_SORT_KEY,
            id_column=Approval.id,
            descending=False,
        )
    return result, query


async def count(info: Info[Context], query: Select[Approval]) -> int:
    async with info.context.services.postgres.session() as session:
        return await count_rows(session, query)

"""`pendingApprovals`: the approvals waiting on the principal ("my inbox")."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Select, select

from flowgate.principal import Principal
from models.enums import ExecutionStatus
from models.sql import Approval, Execution, base
from resolvers import access
from resolvers.pagination import Page, PageRequest
from resolvers.sorting import APPROVAL_SORT_KEY
from resolvers.sql_pages import count_rows, fetch_page

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context


# The inbox's terms, the compiled statement's too (`schema.compiled.approvals`): on the
# approval at a time `now` (of the principal's organization, naming it, open), and on its run
# (waiting for it; and one the principal may read, `access.execution_visible`).
def inbox_terms(
    principal: Principal, now: datetime | ColumnElement[datetime]
) -> list[ColumnElement[bool]]:
    return [
        Approval.organization_id == principal.organization_id,
        Approval.approvers.contains([principal.user_id]),
        Approval.is_open_sql(now),
    ]


RUN_WAITS = Execution.status == ExecutionStatus.PAUSED


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
            # `base.utcnow`: the clock the compiled statement reads its time from too.
            *inbox_terms(principal, base.utcnow()),
            RUN_WAITS,
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

"""What approvals compile to besides the binder's plain relations (`_TO_ONE`, `_TO_MANY` in
`schema.compiled.bind`) and their state at the request's time (`schema.compiled.computed`):
their approvers, named by an array of ids, and the `pendingApprovals` root (the inbox)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, FromClause, exists
from sqlalchemy.sql.util import ClauseAdapter

from models import sql
from resolvers.approvals.inbox import RUN_WAITS, inbox_terms
from resolvers.compiled import statements
from resolvers.compiled.clock import NOW
from resolvers.compiled.sql import Expression
from resolvers.compiled.statements import Listing
from resolvers.compiled.visibility import execution_visible
from resolvers.sorting import APPROVAL_SORT_KEY
from schema.compiled.plan import ListPlan

if TYPE_CHECKING:
    from schema.compiled.bind import Binder


def named_users(binder: Binder, column: str, target: ListPlan, parent: FromClause) -> Expression:
    """The users the parent's array `column` names, in its order, those not found left out
    (`Approval.approvers`: the loader's `load_many`)."""
    organization = binder.principal.organization_id
    return statements.named_rows(
        sql.User,
        binder.object_json(target.item),
        parent.c[column],
        lambda t: [t.c.organization_id == organization],
    )


async def pending(binder: Binder, args: dict[str, Any]) -> Listing:
    """The `pendingApprovals` root's rows, as `inbox.pending_approvals` lists them (oldest
    request first), under its terms at the request's time; its run's terms hold of the
    approval's one run, which the resolver joins and the statement asks in an EXISTS."""
    principal = binder.principal
    # The terms name the principal's user id, an admin's too: the statement is theirs alone.
    binder.per_user = True

    def of_a_waiting_run(table: FromClause) -> ColumnElement[bool]:
        run = statements.alias_of(sql.Execution)
        return exists().where(
            run.c.id == table.c.execution_id,
            ClauseAdapter(run).traverse(RUN_WAITS),
            execution_visible(principal, run),
        )

    return Listing(
        sql.Approval, inbox_terms(principal, NOW), APPROVAL_SORT_KEY, False, [of_a_waiting_run]
    )

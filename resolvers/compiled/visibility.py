"""Which executions a principal may see, as a SQL predicate on a compiled statement's table:
the rule of `resolvers.access` (one definition), re-pointed at the statement's alias.

The readable workflows' ids come from the request's loaders (`ReadableWorkflowIds`), so the
compiled path and the resolvers share one MongoDB round trip per request, and none for an
admin (`None`: unrestricted)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, FromClause
from sqlalchemy.sql.util import ClauseAdapter

from flowgate.principal import Principal
from resolvers import access

if TYPE_CHECKING:
    from resolvers.loaders import Loaders


async def readable_workflow_ids(loaders: Loaders) -> frozenset[str] | None:
    """The workflows whose executions the request's principal may see; `None`: all."""
    return await loaders.readable_workflow_ids.get()


def execution_visible(
    principal: Principal, table: FromClause, readable_ids: frozenset[str] | None
) -> ColumnElement[bool]:
    """`access.execution_visible` over `table` (an alias of the executions table)."""
    predicate = access.execution_visible(principal, readable_ids)
    return ClauseAdapter(table).traverse(predicate)

"""Which executions a principal may see, as a SQL predicate on a compiled statement's table:
the rule of `resolvers.access` (one definition), re-pointed at the statement's alias.

The readable workflows' ids are a bind parameter, so that one cached statement serves every
request of a role, and so that they are asked for (from the request's loaders: one MongoDB
round trip shared with the resolvers, none for an admin) only when the statement runs, after
its arguments were checked, as the resolvers check theirs before any I/O."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, FromClause
from sqlalchemy.sql.util import ClauseAdapter

from flowgate.principal import Principal
from resolvers import access

if TYPE_CHECKING:
    from resolvers.loaders import Loaders


def execution_visible(principal: Principal, table: FromClause) -> ColumnElement[bool]:
    """`access.execution_visible` over `table` (an alias of the executions table)."""
    readable = None if access.is_admin(principal) else access.READABLE_IDS
    predicate = access.execution_visible(principal, readable)
    return ClauseAdapter(table).traverse(predicate)


async def parameters(loaders: Loaders, principal: Principal) -> dict[str, Any]:
    """The value of `access.READABLE_IDS` for this request's principal (none for an
    admin)."""
    readable = await loaders.readable_workflow_ids.get()
    if readable is None or access.is_admin(principal):
        return {}
    return {access.READABLE_IDS.key: access.readable_ids_parameter(readable)}

"""The SQL of compiled figures (`Agent.stats`): the figures' one definition
(`resolvers.loaders.stats.figures`) re-pointed at a fresh alias of the executions, with the
start of the last 24 hours a parameter bound when the statement runs (so that one cached
statement serves every request, as the loader takes `recent_since()` at each batch)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    DateTime,
    FromClause,
    bindparam,
    select,
    true,
)
from sqlalchemy.sql.util import ClauseAdapter

from models import sql
from resolvers.compiled.sql import Expression
from resolvers.compiled.statements import alias_of
from resolvers.loaders.stats import figures, recent_since

RECENT_SINCE: BindParameter[Any] = bindparam("recent_since", type_=DateTime(timezone=True))


def aggregate(
    render: Callable[[dict[str, Expression]], Expression],
    matches: Callable[[FromClause], Sequence[ColumnElement[bool]]],
) -> Expression:
    """The JSON that `render` builds of the figures of the executions that `matches`, as a
    scalar subquery (an aggregate without GROUP BY: one row, an empty group's figures when
    none matches, as the loader answers for a parent without executions)."""
    table = alias_of(sql.Execution)
    adapter = ClauseAdapter(table)
    adapted = {name: adapter.traverse(value) for name, value in figures(RECENT_SINCE).items()}
    # HAVING makes it one group even when the JSON holds no aggregate (`{ __typename }`).
    return select(render(adapted)).where(*matches(table)).having(true()).scalar_subquery()


def parameters() -> dict[str, Any]:
    """The value of `RECENT_SINCE` for a request run now."""
    return {RECENT_SINCE.key: recent_since()}

"""A root field's statement as the binder leaves it, with what running it takes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from resolvers.sql_pages import SortKey
from schema.compiled.plan import (
    ConnectionPlan,
    ObjectPlan,
    has_documents,
    has_figures,
    reaches_executions,
    reads_clock,
)


@dataclass(frozen=True)
class Bound:
    """A root field's statement and what running it takes: the readable workflows' ids
    (when it reads executions), the start of the last 24 hours (when it computes figures),
    the request's time (when it computes a field at that time) and the plan of what it
    answers (to stitch MongoDB fields into; for `node(id)`, the plan of the id's type)."""

    statement: Select[Any]
    target: ObjectPlan | ConnectionPlan
    reads_executions: bool
    documents: bool
    figures: bool
    clock: bool
    row: bool  # it takes the row id of a root field by id (`bind.ROW_ID`)
    # The sort key of a root connection's cursor, which it takes when it runs (None: none).
    cursor: SortKey | None


def bound(
    statement: Select[Any],
    target: ObjectPlan | ConnectionPlan,
    *,
    executions: bool = False,
    clock: bool = False,
    row: bool = False,
    cursor: SortKey | None = None,
) -> Bound:
    """`statement` of `target`, which reads executions or the request's time at its root
    when `executions` or `clock` says so, and wherever its plan does below."""
    return Bound(
        statement,
        target,
        executions or reaches_executions(target),
        has_documents(target),
        has_figures(target),
        clock or reads_clock(target),
        row,
        cursor,
    )

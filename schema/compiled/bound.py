"""A root field's statement as the binder leaves it, with what running it takes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from resolvers.sql_pages import SortKey
from schema.compiled.documents import DocumentField
from schema.compiled.plan import (
    ConnectionPlan,
    ObjectPlan,
    has_figures,
    reaches_executions,
    reads_clock,
)


@dataclass(frozen=True)
class Bound:
    """A root field's statement and what running it takes: the readable workflows' ids
    (when it reads executions), the start of the last 24 hours (when it computes figures),
    the request's time (when it computes a field at that time), the plan of what it answers
    (for `node(id)`, the plan of the id's type) and the MongoDB fields stitched into it."""

    statement: Select[Any]
    target: ObjectPlan | ConnectionPlan
    reads_executions: bool
    # The MongoDB fields its answer leaves a place for, by the number the place names
    # (`schema.compiled.sites`); empty: its answer is PostgreSQL's as it is.
    documents: tuple[DocumentField, ...]
    figures: bool
    clock: bool
    row: bool  # it takes the row id of a root field by id (`bind.ROW_ID`)
    # The sort key of a root connection's cursor, which it takes when it runs (None: none).
    cursor: SortKey | None


def bound(
    statement: Select[Any],
    target: ObjectPlan | ConnectionPlan,
    documents: Sequence[DocumentField] = (),
    *,
    executions: bool = False,
    clock: bool = False,
    row: bool = False,
    cursor: SortKey | None = None,
) -> Bound:
    """`statement` of `target`, with a place for each of `documents`, which reads executions
    or the request's time at its root when `executions` or `clock` says so, and wherever its
    plan does below."""
    return Bound(
        statement,
        target,
        executions or reaches_executions(target),
        tuple(documents),
        has_figures(target),
        clock or reads_clock(target),
        row,
        cursor,
    )

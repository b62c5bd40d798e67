"""Keyset pages of SQLAlchemy rows: the SQL side of `resolvers.pagination`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.cursors import MalformedCursorError
from resolvers.errors import BadInputError
from resolvers.pagination import Page, PageRequest, encode_cursor

RowT = TypeVar("RowT")


@dataclass(frozen=True)
class SortKey:
    """What a list is ordered by: a non-null SQL expression, how to read the same value off
    a loaded row (for its cursor), and how to turn a cursor's JSON value back into a bind
    parameter of the expression's type."""

    expression: SQLColumnExpression[Any]
    value_of: Callable[[Any], Any]
    parse: Callable[[Any], Any] = lambda value: value


def parse_cursor(
    sort: SortKey, cursor: tuple[Any, uuid.UUID], argument: str
) -> tuple[Any, uuid.UUID]:
    """A decoded cursor with its sort value as a bind parameter of the sort's type."""
    value, row_id = cursor
    try:
        return sort.parse(value), row_id
    except BadInputError:
        # The sort keys' parsers cannot know which argument the cursor came in.
        raise MalformedCursorError(argument) from None


def past_cursor(
    key: SQLColumnExpression[Any] | Any,
    row_id: SQLColumnExpression[Any] | Any,
    parsed: tuple[Any, uuid.UUID],
    *,
    backward_scan: bool,
) -> ColumnElement[bool]:
    """The rows after a parsed cursor in scan order (keyset on the sort key, then the id)."""
    pair, bound = tuple_(key, row_id), tuple_(*parsed)
    return pair < bound if backward_scan else pair > bound


async def fetch_page(
    session: AsyncSession,
    query: Select[RowT],
    request: PageRequest,
    *,
    sort: SortKey,
    id_column: SQLColumnExpression[Any],
    descending: bool,
) -> Page[RowT]:
    """Run `query` (already filtered and scoped) as one keyset page; one round trip."""
    backward_scan = descending != request.backward  # scan direction, in index order
    if request.cursor is not None:
        parsed = parse_cursor(sort, request.cursor, request.cursor_argument)
        query = query.where(
            past_cursor(sort.expression, id_column, parsed, backward_scan=backward_scan)
        )
    order = (
        (sort.expression.desc(), id_column.desc())
        if backward_scan
        else (sort.expression.asc(), id_column.asc())
    )
    rows = list((await session.scalars(query.order_by(*order).limit(request.limit + 1))).all())
    has_more = len(rows) > request.limit
    rows = rows[: request.limit]
    if request.backward:
        rows.reverse()
    cursors = [encode_cursor(sort.value_of(row), row.id) for row in rows]  # type: ignore[attr-defined]
    return Page(
        items=rows,
        cursors=cursors,
        # Relay lets a server answer `false` for the direction it did not page in when
        # checking would cost another query; a cursor means there was something before it.
        has_next_page=has_more if not request.backward else request.cursor is not None,
        has_previous_page=has_more if request.backward else request.cursor is not None,
    )


async def count_rows(session: AsyncSession, query: Select[Any]) -> int:
    """`totalCount` for the same filter as the page, ignoring the cursor."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return int(total or 0)

"""The SQL of a parent's window of rows paged both ways (`Conversation.messages`) and of its
newest row (`Conversation.lastMessage`), as the window loaders page them
(`resolvers.loaders.conversations._WindowPageLoader`): the rows past the cursor by the
loader's own `past` term, `limit` of them in the scan's order (backwards for `last`/`before`,
shown oldest first), one row more to know whether more follow, and `totalCount` of all."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, FromClause, false, func, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.util import ClauseAdapter

from resolvers.compiled.sql import Expression, empty_array, number
from resolvers.compiled.statements import (
    ConnectionShape,
    Listing,
    NodeJson,
    alias_of,
    connection_json,
    page_parts,
    sql_clause,
)

Parent = Callable[[FromClause], ColumnElement[bool]]


def window_connection(
    shape: ConnectionShape,
    listing: Listing,
    limit: int,
    parent: Parent,
    past: ColumnElement[bool],
    *,
    backward: bool,
    had_cursor: bool,
) -> Expression:
    """A connection per parent row. `listing.descending` is the scan's direction (the
    loader's `sort`), `past` the loader's cursor term on the model's columns; a backward
    page shows its rows in the reverse of the scan, and says more precede it when more than
    `limit` lie past the cursor (a forward page: more follow)."""
    scanned = alias_of(listing.model)
    order = listing.scan(scanned, descending=listing.descending)
    rows = (
        select(
            scanned.c.id.label("id"),
            listing.key(scanned).label("sk"),
            func.row_number().over(order_by=order).label("rn"),
        )
        .where(*listing.terms(scanned), parent(scanned), ClauseAdapter(scanned).traverse(past))
        .order_by(*order)
        .limit(number(limit + 1))
        .correlate_except(scanned)
        # LATERAL: correlated to the parent row (a plain derived table would not be).
        .lateral()
    )
    in_page = rows.c.rn <= number(limit)
    # Display order: the scan's, reversed for a backward page.
    first, last = (
        (rows.c.rn.desc(), rows.c.rn.asc()) if backward else (rows.c.rn.asc(), rows.c.rn.desc())
    )

    def total() -> Expression:
        counted = alias_of(listing.model)
        query = select(func.count()).select_from(counted)
        return query.where(*listing.terms(counted), parent(counted)).scalar_subquery()

    edges, edge_cursor = page_parts(listing.model, rows, in_page, first, last)

    more = select(func.count()).select_from(rows).scalar_subquery() > number(limit)
    cursor_given = true() if had_cursor else false()
    page_info = {
        "hasNextPage": cursor_given if backward else more,
        "hasPreviousPage": more if backward else cursor_given,
    }
    return connection_json(shape, total, edges, page_info, edge_cursor)


def newest(
    model: Any,
    node: NodeJson,
    terms: Sequence[ColumnElement[bool]],
    parent: Parent,
    order: Any,
) -> Expression:
    """The JSON of the parent's row that comes last in `order` (a column of `model`), or
    NULL: `terms` (on the model's columns) re-pointed at the row's alias."""
    table = alias_of(model)
    adapter = ClauseAdapter(table)
    query = (
        select(node(table))
        .where(*(adapter.traverse(term) for term in terms), parent(table))
        .order_by(adapter.traverse(sql_clause(order)).desc())
        .limit(number(1))
    )
    return query.scalar_subquery()


def joined_rows(
    link: Any,
    model: Any,
    node: NodeJson,
    on: Callable[[FromClause, FromClause], ColumnElement[bool]],
    terms: Sequence[ColumnElement[bool]],
    parent: Parent,
    order: Sequence[Any],
) -> Expression:
    """The JSON array (`[]` when none) of the rows of `model` reached through the parent's
    rows of `link` (a many-to-many table), in `order`: `terms` and `order` (on both classes'
    columns) re-pointed at the two aliases."""
    through, table = alias_of(link), alias_of(model)
    adapter = ClauseAdapter(table).chain(ClauseAdapter(through))
    aggregated = func.json_agg(
        aggregate_order_by(node(table), *(adapter.traverse(sql_clause(o)) for o in order))
    )
    return (
        select(func.coalesce(aggregated, empty_array()))
        .select_from(through.join(table, on(through, table)))
        .where(parent(through), *(adapter.traverse(term) for term in terms))
        .scalar_subquery()
    )

"""The SQL of compiled fields: one statement per root field that builds its JSON.

Connections and relations are correlated subqueries (`json_agg` over a keyset-limited
derived table per parent), so a nested selection stays one statement however many rows it
answers. Every table reached is a fresh alias, and the WHERE terms are the resolver path's
own (`agent_conditions`, `execution_conditions`, the sort keys of `resolvers.sorting`),
re-pointed at the alias: one definition of each rule, two uses."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    FromClause,
    Select,
    bindparam,
    false,
    func,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.util import ClauseAdapter
from sqlalchemy.sql.visitors import ExternallyTraversible, replacement_traverse

from resolvers.compiled.sql import Expression, cursor, empty_array, json_object, lit, number
from resolvers.pagination import PageRequest
from resolvers.sql_pages import SortKey, parse_cursor, past_cursor

NodeJson = Callable[[FromClause], Expression]
# A root connection's cursor, bound when its statement runs (`cursor_parameters`).
CURSOR_VALUE = "cursor_value"
CURSOR_ID = "cursor_id"
# The sort key's column in a derived table of a model's rows (not a column name of ours).
SORT_KEY = "sort_key_"


@dataclass(frozen=True)
class Edges:
    """An `edges` selection: (response key, "cursor" | "node" | a type name) in order."""

    parts: tuple[tuple[str, str], ...]
    node: NodeJson | None = None


@dataclass(frozen=True)
class ConnectionShape:
    """What a connection's selection asks for, in response order: "totalCount", "pageInfo",
    "edges" or a type name (for `__typename`)."""

    parts: tuple[tuple[str, str | Edges | tuple[tuple[str, str], ...]], ...]


@dataclass(frozen=True)
class Listing:
    """The rows a connection pages over: a mapped class, its terms (on the class's own
    columns) and how it is ordered."""

    model: Any
    conditions: Sequence[ColumnElement[bool]]
    sort: SortKey
    descending: bool
    extra: list[Callable[[FromClause], ColumnElement[bool]]] = field(default_factory=list)

    def terms(self, table: FromClause) -> list[ColumnElement[bool]]:
        adapter = ClauseAdapter(table)
        return [adapter.traverse(sql_clause(term)) for term in self.conditions] + [
            term(table) for term in self.extra
        ]

    def key(self, table: FromClause) -> Expression:
        return ClauseAdapter(table).traverse(sql_clause(self.sort.expression))  # type: ignore[no-any-return]

    def scan(
        self, table: FromClause, *, descending: bool, key: Expression | None = None
    ) -> tuple[Expression, Expression]:
        """The order of the listing's scan over `table`, by its sort key (or `key`, the
        key's column in a derived table) then its id."""
        key, row_id = (self.key(table) if key is None else key), table.c.id
        return (key.desc(), row_id.desc()) if descending else (key.asc(), row_id.asc())


def sql_clause(expression: Any) -> Any:
    # A mapped attribute (`Agent.name`) is not itself a SQL element: the adapter would leave
    # it pointing at the table rather than at the alias.
    clause = getattr(expression, "__clause_element__", None)
    return clause() if clause is not None else expression


# Aliases are made once per process and reused: building an alias's column collection cost
# more than the rest of a statement (3-4 ms per alias of `executions` on a busy machine).
# Within one statement each is used once: `new_statement` restarts the numbering. Statements
# are built synchronously (no await while building), so requests never interleave here.
_aliases: dict[tuple[Any, int], FromClause] = {}
_used: dict[Any, int] = {}


def new_statement() -> None:
    """Start numbering aliases afresh for the next statement."""
    _used.clear()


def alias_of(model: Any) -> FromClause:
    number = _used.get(model, 0)
    _used[model] = number + 1
    alias = _aliases.get((model, number))
    if alias is None:
        alias = _aliases[model, number] = model.__table__.alias(f"{model.__tablename__}_{number}")
    return alias


def page_parts(
    model: Any, rows: Any, in_page: ColumnElement[bool], first: Any, last: Any
) -> tuple[Callable[[Edges], Expression], Callable[[bool], Expression]]:
    """The `edges` and the first or last cursor of a page of `rows` (ids `id`, sort keys
    `sk`; those in the page by `in_page`), nodes of `model`, shown in the order `first`
    (`last`: its reverse)."""

    def edges(selection: Edges) -> Expression:
        node = alias_of(model)
        edge = json_object(edge_parts(selection, rows.c.sk, rows.c.id, node))
        aggregated = func.json_agg(aggregate_order_by(edge, first))
        return (
            select(func.coalesce(aggregated, empty_array()))
            .select_from(rows.join(node, node.c.id == rows.c.id))
            .where(in_page)
            .scalar_subquery()
        )

    def edge_cursor(at_first: bool) -> Expression:
        ordered = first if at_first else last
        query = (
            select(cursor(rows.c.sk, rows.c.id)).where(in_page).order_by(ordered).limit(number(1))
        )
        return query.scalar_subquery()

    return edges, edge_cursor


def root_connection(shape: ConnectionShape, listing: Listing, page: PageRequest) -> Select[Any]:
    """A root connection as the resolver path pages it (`resolvers.sql_pages.fetch_page`):
    keyset after/before the cursor, one row more than the page to know whether more follow,
    and `totalCount` over the same terms without the cursor."""
    new_statement()
    scanned = alias_of(listing.model)
    terms = listing.terms(scanned)
    backward_scan = listing.descending != page.backward
    if page.cursor is not None:
        parsed = parse_cursor(listing.sort, page.cursor, page.cursor_argument)
        past = past_cursor(listing.key(scanned), scanned.c.id, parsed, backward_scan=backward_scan)
        terms.append(cursor_parameters(past, parsed))
    order = listing.scan(scanned, descending=backward_scan)
    rows = (
        select(
            scanned.c.id.label("id"),
            listing.key(scanned).label("sk"),
            func.row_number().over(order_by=order).label("rn"),
        )
        .where(*terms)
        .order_by(*order)
        .limit(number(page.limit + 1))
        .cte()
    )
    in_page = rows.c.rn <= number(page.limit)
    # Display order: the scan's, reversed for a backward page.
    first, last = (
        (rows.c.rn.desc(), rows.c.rn.asc())
        if page.backward
        else (rows.c.rn.asc(), rows.c.rn.desc())
    )
    has_more = select(func.count()).select_from(rows).scalar_subquery() > number(page.limit)
    had_cursor = true() if page.cursor is not None else false()

    edges, edge_cursor = page_parts(listing.model, rows, in_page, first, last)

    def total() -> Expression:
        counted = alias_of(listing.model)
        return (
            select(func.count())
            .select_from(counted)
            .where(*listing.terms(counted))
            .scalar_subquery()
        )

    page_info = {
        "hasNextPage": has_more if not page.backward else had_cursor,
        "hasPreviousPage": has_more if page.backward else had_cursor,
    }
    return select(connection_json(shape, total, edges, page_info, edge_cursor).label("data"))


def cursor_parameters(term: ColumnElement[bool], parsed: tuple[Any, uuid.UUID]) -> Any:
    """`term` (`past_cursor` of the parsed cursor) with the cursor's sort value and id as
    parameters bound when the statement runs (`CURSOR_VALUE`, `CURSOR_ID`, of the types the
    comparison gave them): the next page's request, with another cursor, runs the same
    statement (`schema.compiled.executor` keys it by the cursor's presence only)."""
    value, row_id = parsed
    named: set[str] = set()

    def rename(element: ExternallyTraversible, **_: Any) -> ExternallyTraversible | None:
        if isinstance(element, BindParameter) and not element.required:
            for key, cursor_part in ((CURSOR_VALUE, value), (CURSOR_ID, row_id)):
                if element.value is cursor_part:
                    named.add(key)
                    return bindparam(key, type_=element.type)
        return None

    no_options: dict[str, Any] = {}
    renamed = replacement_traverse(term, no_options, rename)
    # A statement that kept this cursor's values would answer every later page with this
    # one's rows: never kept so (the executor then lets the resolvers answer).
    if named != {CURSOR_VALUE, CURSOR_ID}:
        raise TypeError(f"the cursor's values are not both parameters: {sorted(named)}")
    return renamed


def cursor_values(sort: SortKey, page: PageRequest) -> dict[str, Any]:
    """The values of `CURSOR_VALUE` and `CURSOR_ID` for a request's page (checked as the
    resolvers check them: a `MalformedCursorError`)."""
    if page.cursor is None:
        return {}
    value, row_id = parse_cursor(sort, page.cursor, page.cursor_argument)
    return {CURSOR_VALUE: value, CURSOR_ID: row_id}


def nested_connection(
    shape: ConnectionShape,
    listing: Listing,
    first: int,
    parent: Callable[[FromClause], ColumnElement[bool]],
    after: tuple[Any, uuid.UUID] | None = None,
) -> Expression:
    """A connection per parent row (`Agent.executions`), as its loader pages it
    (`resolvers.loaders.pages`): the first `first` rows past the cursor `after` (parsed),
    `totalCount` of all, more follow when more than the page lie past the cursor."""
    scanned = alias_of(listing.model)
    order = listing.scan(scanned, descending=listing.descending)

    def past(table: FromClause) -> list[ColumnElement[bool]]:
        if after is None:
            return []
        key = listing.key(table)
        return [past_cursor(key, table.c.id, after, backward_scan=listing.descending)]

    # The page's rows whole (a column the JSON does not use costs nothing: the scan's row is
    # passed on as it is): the JSON is built from them directly, not from the table joined
    # again by id, an index lookup per row (a fifth of PostgreSQL's time on 100 agents x 10
    # executions; issue 16).
    rows = (
        select(*scanned.c, listing.key(scanned).label(SORT_KEY))
        .where(*listing.terms(scanned), parent(scanned), *past(scanned))
        .order_by(*order)
        .limit(number(first))
        .correlate_except(scanned)
        # LATERAL: correlated to the parent row (a plain derived table would not be).
        .lateral()
    )
    sort_key = rows.c[SORT_KEY]
    shown = listing.scan(rows, descending=listing.descending, key=sort_key)

    def total() -> Expression:
        counted = alias_of(listing.model)
        query = select(func.count()).select_from(counted)
        return query.where(*listing.terms(counted), parent(counted)).scalar_subquery()

    def edge_cursor(at_first: bool) -> Expression:
        ordered = (
            shown
            if at_first
            else listing.scan(rows, descending=not listing.descending, key=sort_key)
        )
        query = select(cursor(sort_key, rows.c.id)).order_by(*ordered).limit(number(1))
        return query.scalar_subquery()

    def edges(selection: Edges) -> Expression:
        edge = json_object(edge_parts(selection, sort_key, rows.c.id, rows))
        aggregated = func.json_agg(aggregate_order_by(edge, *shown))
        return select(func.coalesce(aggregated, empty_array())).select_from(rows).scalar_subquery()

    def remaining() -> Expression:
        counted = alias_of(listing.model)
        query = select(func.count()).select_from(counted)
        terms = [*listing.terms(counted), parent(counted), *past(counted)]
        return query.where(*terms).scalar_subquery()

    page_info = {
        "hasNextPage": (remaining() if after is not None else total()) > number(first),
        "hasPreviousPage": true() if after is not None else false(),
    }
    return connection_json(shape, total, edges, page_info, edge_cursor)


def to_one(
    model: Any,
    node: NodeJson,
    matches: Callable[[FromClause], Sequence[ColumnElement[bool]]],
) -> Expression:
    """One row's JSON (or NULL) as a scalar subquery."""
    table = alias_of(model)
    return select(node(table)).where(*matches(table)).limit(number(1)).scalar_subquery()


def to_many(
    model: Any,
    node: NodeJson,
    matches: Callable[[FromClause], Sequence[ColumnElement[bool]]],
    order: Callable[[FromClause], Sequence[Expression]],
) -> Expression:
    """The JSON array of the rows that match, in `order` (`[]` when none), as a scalar
    subquery."""
    table = alias_of(model)
    aggregated = func.json_agg(aggregate_order_by(node(table), *order(table)))
    query = select(func.coalesce(aggregated, empty_array())).where(*matches(table))
    return query.scalar_subquery()


def named_rows(
    model: Any,
    node: NodeJson,
    ids: Expression,
    matches: Callable[[FromClause], Sequence[ColumnElement[bool]]],
) -> Expression:
    """The JSON array of the rows whose ids the array `ids` holds, in its order (an id as
    often as it is named), those not found (or not matching) left out: a loader's
    `load_many` of the ids."""
    table = alias_of(model)
    # `AS anon(id, position)`: the columns named, as PostgreSQL needs them for a function.
    named = func.unnest(ids).table_valued("id", with_ordinality="position").render_derived()
    aggregated = func.json_agg(aggregate_order_by(node(table), named.c.position))
    query = (
        select(func.coalesce(aggregated, empty_array()))
        .select_from(named.join(table, table.c.id == named.c.id))
        .where(*matches(table))
    )
    return query.scalar_subquery()


def edge_parts(
    selection: Edges, sort_value: Expression, row_id: Expression, node: FromClause
) -> list[tuple[str, Expression]]:
    parts: list[tuple[str, Expression]] = []
    for key, part in selection.parts:
        if part == "cursor":
            parts.append((key, cursor(sort_value, row_id)))
        elif part == "node" and selection.node is not None:
            parts.append((key, selection.node(node)))
        else:
            parts.append((key, lit(part)))
    return parts


def connection_json(
    shape: ConnectionShape,
    total: Callable[[], Expression],
    edges: Callable[[Edges], Expression],
    page_info: dict[str, Expression],
    edge_cursor: Callable[[bool], Expression],
) -> Expression:
    parts: list[tuple[str, Expression]] = []
    for key, part in shape.parts:
        if isinstance(part, Edges):
            parts.append((key, edges(part)))
        elif isinstance(part, tuple):
            parts.append((key, json_object(_page_info(part, page_info, edge_cursor))))
        elif part == "totalCount":
            parts.append((key, total()))
        else:
            parts.append((key, lit(part)))
    return json_object(parts)


def _page_info(
    selection: tuple[tuple[str, str], ...],
    flags: dict[str, Expression],
    edge_cursor: Callable[[bool], Expression],
) -> list[tuple[str, Expression]]:
    parts: list[tuple[str, Expression]] = []
    for key, part in selection:
        if part in flags:
            parts.append((key, flags[part]))
        elif part in ("startCursor", "endCursor"):
            parts.append((key, edge_cursor(part == "startCursor")))
        else:
            parts.append((key, lit(part)))
    return parts

"""How a planned scalar becomes SQL that renders it as the resolver path serializes it (the
planner's `Scalar.render`), and the place a MongoDB field leaves in the statement's answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import FromClause, Text, case, cast, null

from resolvers.compiled.sql import Expression, enum_name, float_json, iso_datetime
from schema.compiled.documents import DocumentField
from schema.compiled.reading import Scalar
from schema.compiled.sites import site

# How a value is rendered, by the planner's `Scalar.render` ("id" is the binder's: it needs
# the parent's type name).
_RENDER: dict[str, Callable[[Any, Scalar], Expression]] = {
    "plain": lambda column, _: column,
    "datetime": lambda column, _: iso_datetime(column),
    "float": lambda column, field: float_json(column, nullable=field.nullable),
    "enum": lambda column, field: enum_name(column, dict(field.enum_names)),
}


def render(values: Any, field: Scalar) -> Expression:
    """`field` rendered from its value among `values` (a table's columns, or figures)."""
    return _RENDER[field.render](values[field.column], field)


def document_site(field: DocumentField, number: int, table: FromClause) -> Expression:
    """The place of the statement's MongoDB field `number`, with its document's key and the
    columns its value takes besides (`schema.compiled.sites`); `schema.compiled.stitch` puts
    the value in it."""
    source = field.source
    key: Expression = cast(table.c[source.parent_column], Text)
    if source.needed is not None:
        key = case((source.needed(table), key), else_=null())
    return site(number, key, [table.c[c] for c in source.carried])

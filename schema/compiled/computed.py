"""Fields computed from their row at the request's time (`Approval.status`,
`Approval.waitMs`): the statement computes them with the SQL form of the model's rule, whose
Python form the field's resolver calls (`Approval.status_at` and `status_at_sql`, ...), at
the time bound as a parameter (`resolvers.compiled.clock`), and renders them by the field's
GraphQL type as the resolver path serializes them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLField
from sqlalchemy import ColumnElement, FromClause
from sqlalchemy.sql.util import ClauseAdapter

from models import sql
from resolvers.compiled.clock import NOW
from resolvers.compiled.sql import Expression
from schema.compiled.reading import Scalar, rendered
from schema.compiled.render import render

# The fields computed at the request's time: the SQL form of their rule, given the time.
COMPUTED: dict[str, Callable[[Any], ColumnElement[Any]]] = {
    "Approval.status": sql.Approval.status_at_sql,
    "Approval.waitMs": sql.Approval.wait_ms_at_sql,
}


@dataclass(frozen=True)
class Computed:
    """A computed field: its path, and how its value is rendered (`Scalar.column` is the
    path, a name the value takes in no table)."""

    path: str
    value: Scalar


def plan_computed(path: str, field_def: GraphQLField) -> Computed:
    return Computed(path, rendered(path, path, field_def.type))


def computed_value(field: Computed, table: FromClause) -> Expression:
    """The field's value for the row of `table` (an alias of the model's table)."""
    value = ClauseAdapter(table).traverse(COMPUTED[field.path](NOW))
    return render({field.value.column: value}, field.value)

"""Per-object execution figures in a compiled selection (`Agent.stats`): an aggregate over
the parent's executions that the principal may see, computed in the statement from the
figures' one definition (`resolvers.loaders.stats.figures`, what the resolvers' loader
groups by parent), and rendered by the fields' GraphQL types as the resolver path
serializes them.

The type's fields are the figures of the same name (as `ExecutionStats.from_data` copies
them); a field that is no figure makes the root field fall back."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from graphql import GraphQLField
from graphql.execution.collect_fields import FieldDetails

from resolvers.loaders.stats import ExecutionStats
from schema.compiled.documents import Grouped
from schema.compiled.reading import (
    NotCompilableError,
    Scalar,
    named_object,
    rendered,
    strawberry_fields,
)

# The fields answered by figures: the executions' column that names the parent row.
FIGURES: dict[str, str] = {"Agent.stats": "agent_id"}
_NAMES = frozenset(field.name for field in dataclasses.fields(ExecutionStats))


@dataclass(frozen=True)
class FiguresPlan:
    """The figures asked for, in response order: a `Scalar` whose `column` is the figure's
    name, or a type name (for `__typename`)."""

    path: str
    parent_column: str
    fields: tuple[tuple[str, Scalar | str], ...]


def plan_figures(
    path: str, field_def: GraphQLField, details: list[FieldDetails], grouped: Grouped
) -> FiguresPlan:
    type_ = named_object(field_def.type)
    fields: list[tuple[str, Scalar | str]] = []
    for key, field_details in grouped(type_, details):
        name = field_details[0].node.name.value
        if name == "__typename":
            fields.append((key, type_.name))
            continue
        strawberry_field = strawberry_fields(type_)[name]
        figure = strawberry_field.python_name
        if strawberry_field.base_resolver is not None or strawberry_field.permission_classes:
            raise NotCompilableError(f"{type_.name}.{name} has a resolver")
        if figure not in _NAMES:
            raise NotCompilableError(f"{type_.name}.{name} is no figure")
        fields.append((key, rendered(type_.name, figure, type_.fields[name].type)))
    return FiguresPlan(path, FIGURES[path], tuple(fields))

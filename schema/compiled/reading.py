"""What the schema says that the planner reads: which row a Strawberry type keeps, its fields
by GraphQL name, and how a column is rendered by its GraphQL type."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from functools import cache
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
)
from sqlalchemy.orm import DeclarativeBase
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

PLAIN_SCALARS = frozenset({"String", "Int", "Boolean", "JSON", "ID"})


class NotCompilableError(Exception):
    """The selection needs something the planner cannot express in SQL."""


@dataclass(frozen=True)
class Scalar:
    column: str
    render: str  # plain | id | datetime | float | enum
    nullable: bool
    enum_names: tuple[tuple[str, str], ...] = ()


def scalar(model: Any, column: str, output: GraphQLOutputType) -> Scalar:
    if column == "id":
        return Scalar("id", "id", not isinstance(output, GraphQLNonNull))
    if column not in model.__table__.c:
        raise NotCompilableError(f"{model.__name__}.{column} is not a column")
    return rendered(model.__name__, column, output)


def column_of(model: Any, field: StrawberryField, graphql_name: str) -> str:
    """The column a plain field copies: that of its Python name, or else that of its GraphQL
    name (a field named after the row's `model` column cannot take that Python name, the
    type's `model` holding the row: `Message.model`)."""
    columns = model.__table__.c
    python_name = field.python_name
    if python_name == "id" or python_name in columns or graphql_name not in columns:
        return python_name
    return graphql_name


def rendered(owner: str, column: str, output: GraphQLOutputType) -> Scalar:
    """How a SQL value named `column` is rendered as `output` (`owner` names it in errors)."""
    nullable = not isinstance(output, GraphQLNonNull)
    inner = output.of_type if isinstance(output, GraphQLNonNull) else output
    if isinstance(inner, GraphQLEnumType):
        names = tuple(
            (str(getattr(v.value, "value", v.value)), name) for name, v in inner.values.items()
        )
        return Scalar(column, "enum", nullable, names)
    if isinstance(inner, GraphQLList):
        element = unwrap(inner.of_type)
        if isinstance(element, GraphQLScalarType) and element.name == "String":
            return Scalar(column, "plain", nullable)
        raise NotCompilableError(f"a list of {element}")
    if isinstance(inner, GraphQLScalarType):
        if inner.name in PLAIN_SCALARS:
            return Scalar(column, "plain", nullable)
        if inner.name == "Float":
            return Scalar(column, "float", nullable)
        if inner.name == "DateTime":
            return Scalar(column, "datetime", nullable)
    raise NotCompilableError(f"{owner}.{column}: {inner}")


def unwrap(output: Any) -> Any:
    while isinstance(output, GraphQLNonNull | GraphQLList):
        output = output.of_type
    return output


def named_object(output: Any) -> GraphQLObjectType:
    named = unwrap(output)
    if not isinstance(named, GraphQLObjectType):
        raise NotCompilableError(f"{named} is not an object type")
    return named


def is_connection(type_: GraphQLObjectType) -> bool:
    return type_.name.endswith("Connection") and {"edges", "pageInfo"} <= type_.fields.keys()


@cache
def model_of(type_: GraphQLObjectType) -> Any:
    """The SQLAlchemy class a Strawberry type keeps as `model`, or NotCompilableError."""
    definition = type_.extensions.get("strawberry-definition")
    if not isinstance(definition, StrawberryObjectDefinition):
        raise NotCompilableError(f"{type_.name} is not a Strawberry type")
    for field in definition.fields:
        if field.python_name == "model":
            annotation = field.type_annotation.annotation if field.type_annotation else None
            model = typing.get_args(annotation)[0] if typing.get_args(annotation) else None
            if isinstance(model, type) and issubclass(model, DeclarativeBase):
                return model
    raise NotCompilableError(f"{type_.name} is not a PostgreSQL row")


@cache
def strawberry_fields(type_: GraphQLObjectType) -> dict[str, StrawberryField]:
    definition = type_.extensions["strawberry-definition"]
    return {field.graphql_name or _camel(field.python_name): field for field in definition.fields}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)

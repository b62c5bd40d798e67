"""What a root field's selection asks for, read off the schema: the plan, built once per
operation and kept (`schema.compiled.cache`).

Driven by the schema, not by known queries: an object type is compilable when its Strawberry
type keeps a SQLAlchemy row (`model: Private[...]`); its plain fields are the row's columns of
the same name (as each type's `from_model` copies them), rendered by their GraphQL type; a
field with a resolver is compilable only if `schema.compiled.bind` knows it (a relation to
another row) or `schema.compiled.documents` does (a MongoDB field, answered after the
statement). Anything else (`stats`, a union) makes the root field fall back to the
resolvers."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
)
from graphql.execution.collect_fields import FieldDetails
from sqlalchemy.orm import DeclarativeBase
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from schema.compiled.documents import SOURCES, DocumentField, plan_document

PLAIN_SCALARS = frozenset({"String", "Int", "Boolean", "JSON", "ID"})


class NotCompilableError(Exception):
    """The selection needs something the planner cannot express in SQL."""


@dataclass(frozen=True)
class Scalar:
    column: str
    render: str  # plain | id | datetime | float | enum
    nullable: bool
    enum_names: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Typename:
    name: str


@dataclass(frozen=True)
class Relation:
    path: str  # "Agent.owner": the key of `schema.compiled.relations`
    field_def: GraphQLField
    details: FieldDetails
    target: ObjectPlan | ConnectionPlan


@dataclass(frozen=True)
class ObjectPlan:
    type_name: str
    model: Any
    fields: tuple[tuple[str, Scalar | Typename | Relation | DocumentField], ...]


@dataclass(frozen=True)
class EdgesPlan:
    parts: tuple[tuple[str, str], ...]  # "cursor" | "node" | a type name
    node: ObjectPlan | None


@dataclass(frozen=True)
class ConnectionPlan:
    # "totalCount" | a type name | EdgesPlan | pageInfo's (key, field or type name) pairs
    parts: tuple[tuple[str, str | EdgesPlan | tuple[tuple[str, str], ...]], ...]


@dataclass(frozen=True)
class RootPlan:
    field_name: str
    field_def: GraphQLField
    details: FieldDetails
    target: ObjectPlan | ConnectionPlan

    @cached_property
    def reaches_executions(self) -> bool:
        """Whether the statement reads executions, and so needs the readable workflows (a
        MongoDB round trip for a non-admin that a plan without executions must not pay)."""
        return self.field_name in EXECUTION_ROOTS or _reaches(self.target)

    @cached_property
    def reaches_documents(self) -> bool:
        """Whether MongoDB fields are stitched into the statement's answer."""
        return _has_documents(self.target)


# Where a plan reads the executions table: these root fields and relations.
EXECUTION_ROOTS = frozenset({"execution", "executions"})
EXECUTION_RELATIONS = frozenset({"Agent.executions"})


def _reaches(plan: ObjectPlan | ConnectionPlan | None) -> bool:
    if isinstance(plan, ConnectionPlan):
        return any(isinstance(part, EdgesPlan) and _reaches(part.node) for _, part in plan.parts)
    if plan is None:
        return False
    return any(
        isinstance(field, Relation)
        and (field.path in EXECUTION_RELATIONS or _reaches(field.target))
        for _, field in plan.fields
    )


def _has_documents(plan: ObjectPlan | ConnectionPlan | None) -> bool:
    if isinstance(plan, ConnectionPlan):
        return any(
            isinstance(part, EdgesPlan) and _has_documents(part.node) for _, part in plan.parts
        )
    if plan is None:
        return False
    return any(
        isinstance(field, DocumentField)
        or (isinstance(field, Relation) and _has_documents(field.target))
        for _, field in plan.fields
    )


class Planner:
    """Plans selections with the executor's field collection (fragments, `@skip`/`@include`
    and aliases as graphql-core resolves them)."""

    def __init__(self, executor: Any, relations: frozenset[str]) -> None:
        self.executor = executor
        self.relations = relations

    def root(self, field_def: GraphQLField, details: list[FieldDetails]) -> RootPlan:
        return RootPlan(
            details[0].node.name.value, field_def, details[0], self.target(field_def.type, details)
        )

    def target(
        self, output: GraphQLOutputType, details: list[FieldDetails]
    ) -> ObjectPlan | ConnectionPlan:
        named = output.of_type if isinstance(output, GraphQLNonNull) else output
        if not isinstance(named, GraphQLObjectType):
            raise NotCompilableError(f"{named} is not an object type")
        if _is_connection(named):
            return self.connection(named, details)
        return self.object(named, details)

    def _grouped(self, type_: GraphQLObjectType, details: list[FieldDetails]) -> Any:
        grouped = self.executor.collect_subfields(type_, details)
        return grouped.grouped_field_set.items()

    def object(self, type_: GraphQLObjectType, details: list[FieldDetails]) -> ObjectPlan:
        model = model_of(type_)
        fields: list[tuple[str, Scalar | Typename | Relation | DocumentField]] = []
        for key, field_details in self._grouped(type_, details):
            name = field_details[0].node.name.value
            if name == "__typename":
                fields.append((key, Typename(type_.name)))
                continue
            field_def = type_.fields[name]
            strawberry_field = strawberry_fields(type_)[name]
            if strawberry_field.base_resolver is not None:
                path = f"{type_.name}.{name}"
                if path in SOURCES and path in self.relations:
                    document = plan_document(path, field_def, field_details, self._grouped)
                    fields.append((key, document))
                    continue
                if path not in self.relations:
                    raise NotCompilableError(f"{path} has a resolver the planner does not know")
                target = self.target(field_def.type, field_details)
                fields.append((key, Relation(path, field_def, field_details[0], target)))
            else:
                fields.append((key, scalar(model, strawberry_field.python_name, field_def.type)))
        return ObjectPlan(type_.name, model, tuple(fields))

    def connection(self, type_: GraphQLObjectType, details: list[FieldDetails]) -> ConnectionPlan:
        parts: list[tuple[str, str | EdgesPlan | tuple[tuple[str, str], ...]]] = []
        for key, field_details in self._grouped(type_, details):
            name = field_details[0].node.name.value
            if name == "__typename":
                parts.append((key, type_.name))
            elif name == "totalCount":
                parts.append((key, name))
            elif name == "pageInfo":
                info_type = _named(type_.fields[name].type)
                parts.append((key, self._leaves(info_type, field_details)))
            elif name == "edges":
                parts.append((key, self.edges(_named(type_.fields[name].type), field_details)))
            else:
                raise NotCompilableError(f"{type_.name}.{name}")
        return ConnectionPlan(tuple(parts))

    def edges(self, type_: GraphQLObjectType, details: list[FieldDetails]) -> EdgesPlan:
        parts: list[tuple[str, str]] = []
        node: ObjectPlan | None = None
        for key, field_details in self._grouped(type_, details):
            name = field_details[0].node.name.value
            if name == "node":
                plan = self.object(_named(type_.fields[name].type), field_details)
                if node is not None and node != plan:
                    raise NotCompilableError("two different `node` selections under one edges")
                node = plan
            parts.append((key, type_.name if name == "__typename" else name))
        return EdgesPlan(tuple(parts), node)

    def _leaves(
        self, type_: GraphQLObjectType, details: list[FieldDetails]
    ) -> tuple[tuple[str, str], ...]:
        return tuple(
            (key, type_.name if d[0].node.name.value == "__typename" else d[0].node.name.value)
            for key, d in self._grouped(type_, details)
        )


def scalar(model: Any, column: str, output: GraphQLOutputType) -> Scalar:
    nullable = not isinstance(output, GraphQLNonNull)
    inner = output.of_type if isinstance(output, GraphQLNonNull) else output
    if column == "id":
        return Scalar("id", "id", nullable)
    if column not in model.__table__.c:
        raise NotCompilableError(f"{model.__name__}.{column} is not a column")
    if isinstance(inner, GraphQLEnumType):
        names = tuple(
            (str(getattr(v.value, "value", v.value)), name) for name, v in inner.values.items()
        )
        return Scalar(column, "enum", nullable, names)
    if isinstance(inner, GraphQLList):
        element = _unwrap(inner.of_type)
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
    raise NotCompilableError(f"{model.__name__}.{column}: {inner}")


def _unwrap(output: Any) -> Any:
    while isinstance(output, GraphQLNonNull | GraphQLList):
        output = output.of_type
    return output


def _named(output: Any) -> GraphQLObjectType:
    named = _unwrap(output)
    if not isinstance(named, GraphQLObjectType):
        raise NotCompilableError(f"{named} is not an object type")
    return named


def _is_connection(type_: GraphQLObjectType) -> bool:
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

"""What a root field's selection asks for, read off the schema: the plan, built once per
operation and kept (`resolvers.compiled.cache`).

Driven by the schema, not by known queries: an object type is compilable when its Strawberry
type keeps a SQLAlchemy row (`model: Private[...]`); its plain fields are the row's columns of
the same name (as each type's `from_model` copies them), rendered by their GraphQL type; a
field with a resolver is compilable only if `schema.compiled.bind` knows it (a relation to
another row) or `schema.compiled.documents` does (a MongoDB field, answered after the
statement) or `schema.compiled.figures` does (per-object execution figures, `Agent.stats`)
or `schema.compiled.computed` does (a value computed from the row at the request's time,
`Approval.status`).
Anything else (`Execution.events`, a union) makes the root field fall back to the
resolvers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
)
from graphql.execution.collect_fields import FieldDetails

from schema.compiled.computed import COMPUTED, Computed, plan_computed
from schema.compiled.documents import SOURCES, DocumentField, plan_document
from schema.compiled.figures import FIGURES, FiguresPlan, plan_figures
from schema.compiled.reading import (
    NotCompilableError,
    Scalar,
    column_of,
    is_connection,
    model_of,
    named_object,
    scalar,
    strawberry_fields,
)


@dataclass(frozen=True)
class Typename:
    name: str


@dataclass(frozen=True)
class Relation:
    path: str  # "Agent.owner": its key in the registries of `schema.compiled.bind`
    field_def: GraphQLField
    details: FieldDetails
    target: ObjectPlan | ConnectionPlan | ListPlan


@dataclass(frozen=True)
class ListPlan:
    """A list of rows (`Execution.approvals`): each item's plan."""

    item: ObjectPlan


@dataclass(frozen=True)
class ObjectPlan:
    type_name: str
    model: Any
    fields: tuple[tuple[str, Field], ...]


Field = Scalar | Typename | Relation | DocumentField | FiguresPlan | Computed


@dataclass(frozen=True)
class EdgesPlan:
    parts: tuple[tuple[str, str], ...]  # "cursor" | "node" | a type name
    node: ObjectPlan | None


@dataclass(frozen=True)
class ConnectionPlan:
    # "totalCount" | a type name | EdgesPlan | pageInfo's (key, field or type name) pairs
    parts: tuple[tuple[str, str | EdgesPlan | tuple[tuple[str, str], ...]], ...]


@dataclass(frozen=True)
class NodePlan:
    """`node(id)`: a plan per type it may compile, chosen by the id's type when bound."""

    by_type: tuple[tuple[str, ObjectPlan], ...]


@dataclass(frozen=True)
class RootPlan:
    field_name: str
    field_def: GraphQLField
    details: FieldDetails
    target: ObjectPlan | ConnectionPlan | NodePlan


# Where a plan reads the executions table: these root fields and types, and these relations.
EXECUTION_ROOTS = frozenset({"execution", "executions", "pendingApprovals"})
EXECUTION_TYPES = frozenset({"Execution"})
EXECUTION_RELATIONS = frozenset({"Agent.executions", "Approval.execution"})
# Root fields whose terms take the request's time (an open approval is one not expired).
CLOCK_ROOTS = frozenset({"pendingApprovals"})
# The types `node(id)` answers compiled (`schema.compiled.bind`); others fall back.
NODE_TYPES = ("Agent", "Execution", "Conversation", "Project", "User")


def reaches_executions(plan: ObjectPlan | ConnectionPlan | ListPlan | None) -> bool:
    """Whether the statement reads executions below its root, and so needs the readable
    workflows (a MongoDB round trip for a non-admin that a plan without executions must not
    pay)."""
    return _reaches(
        plan,
        lambda field: (
            isinstance(field, FiguresPlan)
            or (isinstance(field, Relation) and field.path in EXECUTION_RELATIONS)
        ),
    )


def has_figures(plan: ObjectPlan | ConnectionPlan | ListPlan | None) -> bool:
    """Whether the statement computes figures (and so takes their parameter)."""
    return _reaches(plan, lambda field: isinstance(field, FiguresPlan))


def reads_clock(plan: ObjectPlan | ConnectionPlan | ListPlan | None) -> bool:
    """Whether the statement computes a field at the request's time (and so takes it)."""
    return _reaches(plan, lambda field: isinstance(field, Computed))


def _reaches(
    plan: ObjectPlan | ConnectionPlan | ListPlan | None, found: Callable[[Field], bool]
) -> bool:
    """Whether a field of `plan`, or of a plan below it, is `found`."""
    if isinstance(plan, ListPlan):
        return _reaches(plan.item, found)
    if isinstance(plan, ConnectionPlan):
        return any(
            isinstance(part, EdgesPlan) and _reaches(part.node, found) for _, part in plan.parts
        )
    if plan is None:
        return False
    return any(
        found(field) or (isinstance(field, Relation) and _reaches(field.target, found))
        for _, field in plan.fields
    )


class Planner:
    """Plans selections with the executor's field collection (fragments, `@skip`/`@include`
    and aliases as graphql-core resolves them)."""

    def __init__(self, executor: Any, relations: frozenset[str]) -> None:
        self.executor = executor
        self.relations = relations

    def root(self, field_def: GraphQLField, details: list[FieldDetails]) -> RootPlan:
        name = details[0].node.name.value
        if name == "node":
            # Fragments on each type select its fields, as graphql-core collects them for the
            # object the id names.
            # A type whose selection does not compile is left out: its ids fall back.
            type_map = self.executor.schema.type_map
            by_type = []
            for type_name in NODE_TYPES:
                try:
                    by_type.append((type_name, self.object(type_map[type_name], details)))
                except NotCompilableError:
                    continue
            if not by_type:
                raise NotCompilableError("node: no type's selection compiles")
            return RootPlan(name, field_def, details[0], NodePlan(tuple(by_type)))
        target = self.target(field_def.type, details)
        if isinstance(target, ListPlan):
            raise NotCompilableError(f"{name}: a list at the root")
        return RootPlan(name, field_def, details[0], target)

    def target(
        self, output: GraphQLOutputType, details: list[FieldDetails]
    ) -> ObjectPlan | ConnectionPlan | ListPlan:
        named = output.of_type if isinstance(output, GraphQLNonNull) else output
        if isinstance(named, GraphQLList):
            # A list of rows: its items are never null (`[Approval!]!`), as the resolvers
            # leave out what they do not find; a list that may hold nulls is not compiled.
            item = named.of_type
            if not isinstance(item, GraphQLNonNull) or not isinstance(
                item.of_type, GraphQLObjectType
            ):
                raise NotCompilableError(f"{named} is not a list of objects")
            return ListPlan(self.object(item.of_type, details))
        if not isinstance(named, GraphQLObjectType):
            raise NotCompilableError(f"{named} is not an object type")
        if is_connection(named):
            return self.connection(named, details)
        return self.object(named, details)

    def _grouped(self, type_: GraphQLObjectType, details: list[FieldDetails]) -> Any:
        grouped = self.executor.collect_subfields(type_, details)
        return grouped.grouped_field_set.items()

    def object(self, type_: GraphQLObjectType, details: list[FieldDetails]) -> ObjectPlan:
        model = model_of(type_)
        fields: list[tuple[str, Field]] = []
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
                if path in FIGURES and path in self.relations:
                    figures = plan_figures(path, field_def, field_details, self._grouped)
                    fields.append((key, figures))
                    continue
                if path in COMPUTED and path in self.relations:
                    fields.append((key, plan_computed(path, field_def)))
                    continue
                if path not in self.relations:
                    raise NotCompilableError(f"{path} has a resolver the planner does not know")
                target = self.target(field_def.type, field_details)
                fields.append((key, Relation(path, field_def, field_details[0], target)))
            else:
                column = column_of(model, strawberry_field, name)
                fields.append((key, scalar(model, column, field_def.type)))
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
                info_type = named_object(type_.fields[name].type)
                parts.append((key, self._leaves(info_type, field_details)))
            elif name == "edges":
                edges_type = named_object(type_.fields[name].type)
                parts.append((key, self.edges(edges_type, field_details)))
            else:
                raise NotCompilableError(f"{type_.name}.{name}")
        return ConnectionPlan(tuple(parts))

    def edges(self, type_: GraphQLObjectType, details: list[FieldDetails]) -> EdgesPlan:
        parts: list[tuple[str, str]] = []
        node: ObjectPlan | None = None
        for key, field_details in self._grouped(type_, details):
            name = field_details[0].node.name.value
            if name == "node":
                plan = self.object(named_object(type_.fields[name].type), field_details)
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

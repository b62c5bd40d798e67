"""MongoDB fields in a compiled selection (`Agent.flowchart`, `Execution.workflow`,
`Execution.steps`, `Execution.progress`): planned here, answered after the statement by one
query per collection with a projection of the fields asked for (`schema.compiled.stitch`).

The statement returns each such field's key (the parent row's id or workflow id); the key's
document is turned into the field's value as its resolver turns it (`Source.value`: the
types' own `from_model`), then rendered by the selection as graphql-core completes it: the
fields' own types serialize each leaf (`coerce_output_value`), so ids, enums, DateTime and
floats are the resolver path's. Anything that would be an error there (a null for a
non-null field, a value a type cannot serialize) fails the rendering, and the root field is
answered by the resolvers, who report it as always.

A document type's selection compiles when every field it asks for is a plain field (no
resolver, no permission) stored in the document under its Python name, as each type's
`from_model` copies it; anything else falls back."""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
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
from pydantic import BaseModel
from sqlalchemy import ColumnElement, FromClause

from resolvers.compiled.canonical import NotCanonicalError
from resolvers.compiled.documents import live_execution, stored_name
from resolvers.loaders.base import DocumentByFieldLoader
from resolvers.loaders.by_id import (
    FlowchartByAgentIdLoader,
    TraceByExecutionIdLoader,
    WorkflowByIdLoader,
)
from schema.compiled.direct import direct_renderer
from schema.compiled.reading import NotCompilableError, strawberry_fields

log = structlog.get_logger("flowgate.compiled")

Render = Callable[[Any], Any]
# The Python names of the fields a selection asks for, each with those it asks of its value.
Wanted = dict[str, "Wanted"]
Grouped = Callable[[GraphQLObjectType, list[FieldDetails]], Any]


class NotRenderableError(ValueError):
    """A value the resolver path would report as an error: the resolvers answer instead."""


@dataclass(frozen=True)
class Source:
    """Where a MongoDB field's value comes from, as its resolver reads it."""

    loader: type[DocumentByFieldLoader[Any]]
    loader_name: str  # the request's loader of that class (`resolvers.loaders.Loaders`)
    parent_column: str  # the parent row's column holding the document's key
    # The document's field whose items the GraphQL value lists (a trace's `steps`), or None:
    # the GraphQL object is the document itself.
    under: str | None
    # The resolver's conversion of its load (None: not found, or not asked for), with the
    # values of the parent row's `carried` columns after it.
    value: Callable[..., Any]
    carried: tuple[str, ...] = ()
    # When the parent row needs the document at all (the key is null otherwise, and nothing
    # is asked of MongoDB for it): None, always.
    needed: Callable[[FromClause], ColumnElement[bool]] | None = None
    # What the value reads of the document, when it is not what the selection names.
    reads: frozenset[str] | None = None
    # Lists of sub-documents projected to the sub-fields asked for: their items' types copy
    # each stored field of the same name (a flowchart's nodes; not its connections, whose
    # ids are derived from the whole list when not stored).
    items: frozenset[str] = frozenset()
    # The value is its type's `from_model` of the document (of each item `under`), copying
    # each stored field by name: a canonical document renders without it
    # (`schema.compiled.direct`).
    direct: bool = False


def _flowchart(document: Any) -> Any:
    from schema.flowchart import Flowchart

    return Flowchart.from_model(document) if document is not None else None


def _workflow(document: Any) -> Any:
    from schema.workflow import Workflow

    return Workflow.from_model(document) if document is not None else None


def _steps(trace: Any) -> Any:
    from schema.execution import ExecutionStep

    return [ExecutionStep.from_model(step) for step in trace.steps] if trace is not None else []


def _progress(trace: Any, done: int, total: int) -> Any:
    from schema.execution import ExecutionProgress

    return ExecutionProgress.of(done, total, trace.current_node if trace is not None else None)


SOURCES: dict[str, Source] = {
    "Agent.flowchart": Source(
        FlowchartByAgentIdLoader,
        "flowchart_by_agent_id",
        "id",
        None,
        _flowchart,
        items=frozenset({"nodes"}),
        direct=True,
    ),
    # A workflow the principal may not read does not load (the loader's scope): null.
    "Execution.workflow": Source(
        WorkflowByIdLoader, "workflow_by_id", "workflow_id", None, _workflow, direct=True
    ),
    "Execution.steps": Source(
        TraceByExecutionIdLoader, "trace_by_execution_id", "id", "steps", _steps, direct=True
    ),
    # Counts from the row; the current node from the trace, of a live execution only (as
    # `progress_of` asks MongoDB).
    "Execution.progress": Source(
        TraceByExecutionIdLoader,
        "trace_by_execution_id",
        "id",
        None,
        _progress,
        carried=("nodes_done", "nodes_total"),
        needed=live_execution,
        reads=frozenset({"current_node"}),
    ),
}


@dataclass(frozen=True)
class DocumentField:
    """A MongoDB field of a compiled object: its key column, source, projection, rendering."""

    path: str
    details: FieldDetails
    source: Source
    projection: frozenset[str]
    render: Render = field(compare=False)
    # A canonical document straight to its JSON (None: always through `render`).
    direct: Render | None = field(compare=False, default=None)


def plan_document(
    path: str, field_def: GraphQLField, details: list[FieldDetails], grouped: Grouped
) -> DocumentField:
    """`path`'s plan; `{ __typename }` alone projects only the key (the document exists)."""
    source = SOURCES[path]
    document = source.loader.document
    wanted: Wanted = {}
    render = _renderer(field_def.type, details, grouped, wanted)
    if source.reads is not None:
        projection = set(source.reads)
    elif source.under is None:
        projection = set().union(*(_paths(source, document, n, w) for n, w in wanted.items()))
    else:
        # Sub-fields of the listed items, and those an item cannot be validated without.
        item = _item_model(document, source.under)
        required = {name for name, info in item.model_fields.items() if info.is_required()}
        projection = {f"{source.under}.{_stored(item, name)}" for name in {*wanted, *required}}
    direct = None
    if source.direct:
        try:
            direct = direct_renderer(field_def.type, document, source.under, details, grouped)
        except (NotCanonicalError, NotCompilableError) as reason:
            log.debug("rendered through from_model", field=path, reason=str(reason))
    return DocumentField(path, details[0], source, frozenset(projection), render, direct)


def _paths(source: Source, document: type[BaseModel], name: str, inner: Wanted) -> set[str]:
    """What to project of the document's field `name`: the field, or for a list in
    `source.items` the sub-fields asked for of each item (and those an item cannot be
    validated without), when the item stores each under its Python name."""
    stored = _stored(document, name)
    if name not in source.items:
        return {stored}
    item = _item_model(document, name)
    required = {n for n, info in item.model_fields.items() if info.is_required()}
    names = {*inner, *required}
    if any(stored_name(item, n) is None for n in names):
        return {stored}  # a value derived from other fields (a node's `agentId`): all of it
    return {f"{stored}.{_stored(item, n)}" for n in names}


def _stored(model: type[BaseModel], name: str) -> str:
    stored = stored_name(model, name)
    if stored is None:
        raise NotCompilableError(f"{model.__name__}.{name} is not stored under its name")
    return stored


def _item_model(document: type[BaseModel], name: str) -> type[BaseModel]:
    (item,) = typing.get_args(document.model_fields[name].annotation)
    if not (isinstance(item, type) and issubclass(item, BaseModel)):
        raise TypeError(f"{document.__name__}.{name} is not a list of sub-documents")
    return item


def _renderer(
    output: GraphQLOutputType,
    details: list[FieldDetails],
    grouped: Grouped,
    wanted: Wanted | None = None,
) -> Render:
    """How graphql-core completes a value of `output` for this selection. `wanted` collects
    the Python names of the first object level's fields (what the document must hold)."""
    if isinstance(output, GraphQLNonNull):
        inner = _renderer(output.of_type, details, grouped, wanted)

        def non_null(value: Any) -> Any:
            if value is None:
                raise NotRenderableError("null for a non-null field")
            return inner(value)

        return non_null
    if isinstance(output, GraphQLList):
        item = _renderer(output.of_type, details, grouped, wanted)
        return lambda value: None if value is None else [item(each) for each in value]
    if isinstance(output, GraphQLScalarType | GraphQLEnumType):
        return _leaf(output)
    if isinstance(output, GraphQLObjectType):
        return _object(output, details, grouped, wanted)
    raise NotCompilableError(f"{output} in a MongoDB field")


def _leaf(output: GraphQLScalarType | GraphQLEnumType) -> Render:
    coerce = output.coerce_output_value

    def leaf(value: Any) -> Any:
        if value is None:
            return None
        coerced = coerce(value)
        if coerced is None:
            raise NotRenderableError(f"{output} cannot serialize {value!r}")
        return coerced

    return leaf


def _constant(value: str) -> Render:
    return lambda _: value


def _object(
    type_: GraphQLObjectType,
    details: list[FieldDetails],
    grouped: Grouped,
    wanted: Wanted | None,
) -> Render:
    parts: list[tuple[str, str | None, Render]] = []
    for key, field_details in grouped(type_, details):
        name = field_details[0].node.name.value
        if name == "__typename":
            parts.append((key, None, _constant(type_.name)))
            continue
        strawberry_field = strawberry_fields(type_)[name]
        if strawberry_field.base_resolver is not None or strawberry_field.permission_classes:
            raise NotCompilableError(f"{type_.name}.{name} has a resolver")
        inner = None if wanted is None else wanted.setdefault(strawberry_field.python_name, {})
        render = _renderer(type_.fields[name].type, field_details, grouped, inner)
        parts.append((key, strawberry_field.python_name, render))

    def rendered(value: Any) -> Any:
        if value is None:
            return None
        return {
            key: render(getattr(value, attribute) if attribute is not None else value)
            for key, attribute, render in parts
        }

    return rendered

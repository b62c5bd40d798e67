"""Rendering a canonical projected document (`resolvers.compiled.canonical`) straight from
the decoded BSON to the JSON its selection answers: no pydantic validation, no document
built, no `from_model`, no Strawberry objects (together most of the CPU of a compiled
answer with MongoDB fields).

It renders the document fields whose value is their type's `from_model` copying each stored
field under its Python name, sub-documents by their types' own `from_model` alike, and a
Node's `id` made global from its type's name (`Source.direct` says which). Leaves are
serialized by their GraphQL types, as graphql-core serializes them on the resolver path;
enums by the same serializer, once per member. What such a `from_model` does beyond copying
is met as a `DeviationError`: a null where the type wants a value (an edge stored without an
id, which `edge_ids` derives), a value the type cannot serialize. That document is then
rendered through validation and `from_model` (`schema.compiled.documents`), the one
definition of the rendering: tests/test_compiled_direct.py checks that both give the same
JSON for every stored document, and the differential tests that both equal the resolvers."""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import partial
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
)
from graphql.execution.collect_fields import FieldDetails
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from resolvers.compiled.canonical import NotCanonicalError, model_fields, unwrap_optional
from resolvers.ids import to_global_id
from schema.compiled.reading import strawberry_fields

Render = Callable[[Any], Any]
Grouped = Callable[[GraphQLObjectType, list[FieldDetails]], Any]
_MISSING = object()


class DeviationError(ValueError):
    """The document holds something `from_model` would not just copy: rendered by it."""


def direct_renderer(
    output: GraphQLOutputType,
    model: type[BaseModel],
    under: str | None,
    details: list[FieldDetails],
    grouped: Grouped,
) -> Render:
    """How a canonical document of `model` (its list `under`, if given) renders as `output`
    for this selection; NotCanonicalError if some field asked for is not a copy by name."""
    if under is None:
        return _render(output, model, details, grouped, top=True)
    fill, render = _field(model, under, output, details, grouped, top=True)

    def listed(document: Any) -> Any:
        value = document.get(under, _MISSING)
        return render(fill() if value is _MISSING else value)

    return listed


def _render(
    output: GraphQLOutputType,
    annotation: Any,
    details: list[FieldDetails],
    grouped: Grouped,
    *,
    top: bool = False,
) -> Render:
    inner, _ = unwrap_optional(annotation)
    # A null is handled by each renderer itself (one call per value, not two).
    if isinstance(output, GraphQLNonNull):
        return _plain(output.of_type, inner, details, grouped, top=top, non_null=True)
    return _plain(output, inner, details, grouped, top=top, non_null=False)


def _null(non_null: bool) -> None:
    if non_null:
        raise DeviationError("null for a non-null field")


def _plain(
    output: GraphQLOutputType,
    annotation: Any,
    details: list[FieldDetails],
    grouped: Grouped,
    *,
    top: bool = False,
    non_null: bool,
) -> Render:
    if isinstance(output, GraphQLList):
        (item_annotation,) = _list_item(annotation)
        item = _render(output.of_type, item_annotation, details, grouped)

        def listed(value: Any) -> Any:
            if value is None:
                return _null(non_null)
            return [item(each) for each in value]

        return listed
    if isinstance(output, GraphQLObjectType):
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            raise NotCanonicalError(f"{output.name} from {annotation}")
        return _object(output, annotation, details, grouped, top=top, non_null=non_null)
    if isinstance(output, GraphQLEnumType):
        return _enum(output, annotation, non_null)
    if isinstance(output, GraphQLScalarType):
        return _scalar(output, annotation, non_null)
    raise NotCanonicalError(f"{output}")


def _list_item(annotation: Any) -> tuple[Any]:
    if getattr(annotation, "__origin__", None) is not list:
        raise NotCanonicalError(f"a list from {annotation}")
    return annotation.__args__  # type: ignore[no-any-return]


def _scalar(output: GraphQLScalarType, annotation: Any, non_null: bool) -> Render:
    coerce = output.coerce_output_value
    # Validation makes a float of an int stored in a float field.
    convert = float if annotation is float else None

    def leaf(value: Any) -> Any:
        if value is None:
            return _null(non_null)
        coerced = coerce(convert(value) if convert is not None else value)
        if coerced is None:
            raise DeviationError(f"{output} cannot serialize {value!r}")
        return coerced

    return leaf


def _enum(output: GraphQLEnumType, annotation: Any, non_null: bool) -> Render:
    members: list[enum.Enum] = list(annotation) if isinstance(annotation, enum.EnumMeta) else []
    if not members:
        raise NotCanonicalError(f"{output.name} from {annotation}")
    # Validated, a stored value is its member; the type serializes each member once here.
    names: dict[Any, Any] = {}
    for member in members:
        names[member] = names[member.value] = output.coerce_output_value(member)
    if any(name is None for name in names.values()):
        raise NotCanonicalError(f"{output.name} cannot serialize every {annotation}")

    def named(value: Any) -> Any:
        return _null(non_null) if value is None else names[value]

    return named


def _object(
    type_: GraphQLObjectType,
    model: type[BaseModel],
    details: list[FieldDetails],
    grouped: Grouped,
    *,
    top: bool = False,
    non_null: bool,
) -> Render:
    node = any(interface.name == "Node" for interface in type_.interfaces)
    parts: list[tuple[str, str | None, Callable[[], Any], Render]] = []
    for key, field_details in grouped(type_, details):
        name = field_details[0].node.name.value
        if name == "__typename":
            parts.append((key, None, _nothing, _constant(type_.name)))
            continue
        strawberry_field = strawberry_fields(type_)[name]
        if strawberry_field.base_resolver is not None or strawberry_field.permission_classes:
            raise NotCanonicalError(f"{type_.name}.{name} has a resolver")
        python_name = strawberry_field.python_name
        output = type_.fields[name].type
        if node and python_name == "id":
            # A Node's global id, as every `from_model` of a Node type makes it.
            stored, fill, render = _stored(model, "id"), _nothing, _global_id(type_, output)
        else:
            fill, render = _field(model, python_name, output, field_details, grouped, top=top)
            stored = _stored(model, python_name)
        parts.append((key, stored, fill, render))

    def rendered(value: Any) -> Any:
        if value is None:
            return _null(non_null)
        answer = {}
        for key, stored, fill, render in parts:
            if stored is None:
                answer[key] = render(None)
                continue
            held = value.get(stored, _MISSING)
            answer[key] = render(fill() if held is _MISSING else held)
        return answer

    return rendered


def _stored(model: type[BaseModel], python_name: str) -> str:
    info = model.model_fields.get(python_name)
    if info is None:
        raise NotCanonicalError(f"{model.__name__} has no {python_name}")
    return info.alias or python_name


def _field(
    model: type[BaseModel],
    python_name: str,
    output: GraphQLOutputType,
    details: list[FieldDetails],
    grouped: Grouped,
    *,
    top: bool = False,
) -> tuple[Callable[[], Any], Render]:
    """How the field is filled when the document leaves it out (as validation fills it),
    and rendered. `top`: a field of the document itself (validated by its projected model)."""
    model_fields(model, projected=top)  # a model that transforms values: no direct rendering
    info = model.model_fields.get(python_name)
    if info is None:
        raise NotCanonicalError(f"{model.__name__} has no {python_name}")
    return _filler(info), _render(output, info.annotation, details, grouped)


def _filler(info: FieldInfo) -> Callable[[], Any]:
    if info.is_required():
        return _missing
    if info.default_factory is not None and info.default_factory_takes_validated_data:
        raise NotCanonicalError("a default made from the other fields")
    fill = partial(info.get_default, call_default_factory=True)  # a copy if mutable

    def filled() -> Any:
        value = fill()
        # A sub-document's default (a node's position): rendered as it would be stored.
        return value.model_dump(by_alias=True) if isinstance(value, BaseModel) else value

    return filled


def _missing() -> Any:
    raise DeviationError("a required field is missing")


def _nothing() -> None:
    return None


def _constant(value: str) -> Render:
    return lambda _: value


def _global_id(type_: GraphQLObjectType, output: GraphQLOutputType) -> Render:
    inner = output.of_type if isinstance(output, GraphQLNonNull) else output
    if not isinstance(inner, GraphQLScalarType):
        raise NotCanonicalError(f"{type_.name}.id")
    coerce, name = inner.coerce_output_value, type_.name
    return lambda value: coerce(to_global_id(name, value))

"""Projected documents stored canonically: as their model would validate them unchanged (a
`str` field holds a str, an enum field one of its values, a sub-document a document of such
fields, ...), so that the compiled path can render them from the decoded BSON without
validating them first (`schema.compiled.direct`). A document that is not canonical (an
int stored as a string, a step's unknown status, a required field missing) is validated as
the resolvers' loads validate it (`resolvers.compiled.documents.validated`), and what
validation makes of it, or the error it raises, is the answer as before.

What a check accepts is derived from the model's own field annotations, for the fields
projected; a model that transforms values (validators, constraints, a configuration that
coerces) has no check: its documents are always validated."""

from __future__ import annotations

import enum
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache
from typing import Any

from pydantic import BaseModel

Check = Callable[[Any], bool]
# A projection as a tree: a field's stored name, with the sub-fields projected of it (None:
# all of it).
Tree = Mapping[str, "Tree | None"]

# Configuration that makes validation change or refuse values a plain model keeps.
_COERCING_CONFIG = (
    "strict",
    "use_enum_values",
    "str_strip_whitespace",
    "str_to_lower",
    "str_to_upper",
    "str_max_length",
    "str_min_length",
    "coerce_numbers_to_str",
    "extra",
)


class NotCanonicalError(Exception):
    """A model (or annotation) whose documents this module cannot check: always validated."""


def tree(paths: typing.Iterable[str]) -> dict[str, Tree | None]:
    """`{"nodes.id", "nodes.type", "version"}` as `{"nodes": {"id": None, "type": None},
    "version": None}`; a path named whole covers its sub-paths."""
    top: dict[str, Any] = {}
    for path in sorted(paths, key=len):
        head, _, rest = path.partition(".")
        if head in top and top[head] is None:
            continue
        if not rest:
            top[head] = None
        else:
            top.setdefault(head, {})[rest] = None
    return {name: None if sub is None else tree(sub) for name, sub in top.items()}


@cache
def checker(model: type[BaseModel], projection: frozenset[str]) -> Check | None:
    """Whether a document of `model` projected to `projection` is canonical; None if the
    model cannot be checked (its documents are always validated)."""
    try:
        return _model_check(model, tree(projection), top=True)
    except NotCanonicalError:
        return None


def unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """`X | None` as (X, True); anything else as (it, False)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        arguments = typing.get_args(annotation)
        others = [a for a in arguments if a is not type(None)]
        if len(others) == 1 and len(arguments) == 2:
            return others[0], True
        raise NotCanonicalError(f"a union {annotation}")
    return annotation, False


def model_fields(model: type[BaseModel], *, projected: bool = False) -> dict[str, Any]:
    """The model's fields by stored name (alias or name), for a model that validates
    values without transforming them. `projected`: a document class, of which a projection
    is validated by a plain model of these fields (`projected_model`), not by the class with
    its validators and configuration."""
    decorators = model.__pydantic_decorators__
    if not projected and any(
        (
            decorators.validators,
            decorators.field_validators,
            decorators.root_validators,
            decorators.model_validators,
        )
    ):
        raise NotCanonicalError(f"{model.__name__} has validators")
    if not projected and any(model.model_config.get(key) for key in _COERCING_CONFIG):
        raise NotCanonicalError(f"{model.__name__} coerces values")
    fields = {}
    for name, info in model.model_fields.items():
        if info.metadata:
            raise NotCanonicalError(f"{model.__name__}.{name} has constraints")
        fields[info.alias or name] = info
    return fields


def _model_check(model: type[BaseModel], projected: Tree | None, *, top: bool = False) -> Check:
    fields = model_fields(model, projected=top)
    # Validated: the projected fields (at the top, the projected model's only; below, every
    # field of a sub-document, those left out at their defaults).
    names = fields if projected is None else projected
    parts: list[tuple[str, bool, Check]] = []
    for stored in names:
        info = fields.get(stored)
        if info is None:
            if top:
                continue  # not a field of the model: the projected model ignores it
            raise NotCanonicalError(f"{model.__name__} has no {stored}")
        sub = None if projected is None else projected[stored]
        # At the top a required field may be missing only if it was not projected; below,
        # a required field missing fails validation.
        parts.append((stored, info.is_required(), _check(info.annotation, sub)))
    if not top and projected is not None:
        required = {s for s, info in fields.items() if info.is_required()} - set(projected)
        if required:
            raise NotCanonicalError(f"{model.__name__}: {sorted(required)} not projected")

    def check(value: Any) -> bool:
        if type(value) is not dict:
            return False
        for stored, required, inner in parts:
            if stored in value:
                if not inner(value[stored]):
                    return False
            elif required:
                return False
        return True

    return check


def _check(annotation: Any, projected: Tree | None) -> Check:
    inner, optional = unwrap_optional(annotation)
    check = _plain_check(inner, projected)
    if optional:
        return lambda value: value is None or check(value)
    return check


def _is_type(kind: type) -> Check:
    return lambda value: type(value) is kind


_SIMPLE: dict[Any, Check] = {
    Any: lambda _: True,
    **{kind: _is_type(kind) for kind in (str, int, bool, datetime, uuid.UUID)},
    # An int is validated to the same number as a float, and rendered as one.
    float: lambda value: type(value) is float or type(value) is int,
}


def _plain_check(annotation: Any, projected: Tree | None) -> Check:
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    simple = _SIMPLE.get(annotation)
    if simple is not None:
        return simple
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        values = frozenset(member.value for member in annotation)
        kinds = frozenset(type(value) for value in values)  # str, for a StrEnum
        return lambda value: type(value) in kinds and value in values
    if origin is list and len(arguments) == 1:
        item = _check(arguments[0], projected)

        def items(value: Any) -> bool:
            if type(value) is not list:
                return False
            for each in value:  # noqa: SIM110 - a loop: no generator per list
                if not item(each):
                    return False
            return True

        return items
    if origin is dict and arguments == (str, Any):
        return _is_type(dict)  # BSON keys are strings; the values are kept as they are
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model_check(annotation, projected)
    raise NotCanonicalError(f"{annotation}")

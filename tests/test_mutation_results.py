"""Each mutation's result union lists exactly the failures its code can raise: a member it
cannot return misleads clients into handling it, and a raised error without its member would
escape `capture_errors` as an unexpected error.

What a mutation can raise is read from the code, not kept in a list: the calls from the
mutation's field are followed through the project's functions (by name, as Python would find
them), collecting every `MutationError` they construct. Calls on objects found only at run
time (`info.context...`) are not followed; the domain code raises from plain functions."""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from collections.abc import Callable
from typing import Any

import pytest
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.union import StrawberryUnion

from resolvers.mutations import errors
from schema import schema
from schema.mutations.capture import _RESULT_OF

PROJECT_PACKAGES = ("resolvers.", "schema.", "flowgate.")


def _mutation_fields() -> dict[str, tuple[Callable[..., Any], StrawberryUnion]]:
    definition = schema.schema_converter.type_map["Mutation"].definition
    assert isinstance(definition, StrawberryObjectDefinition)
    fields = {}
    for field in definition.fields:
        assert field.base_resolver is not None, field.name
        assert isinstance(field.type, StrawberryUnion), f"{field.name} returns no union"
        fields[field.name] = (field.base_resolver.wrapped_func, field.type)
    return fields


MUTATIONS = _mutation_fields()


def _resolve(expression: ast.expr, scope: dict[str, Any]) -> object | None:
    """What a name or dotted name refers to in a module's globals, or `None`."""
    if isinstance(expression, ast.Name):
        return scope.get(expression.id, getattr(__builtins__, expression.id, None))
    if isinstance(expression, ast.Attribute):
        owner = _resolve(expression.value, scope)
        return getattr(owner, expression.attr, None) if owner is not None else None
    return None


def raised_errors(function: Callable[..., Any], seen: set[object] | None = None) -> set[type]:
    """The `MutationError` classes that `function` or the project functions it refers to
    construct (a superset of what it raises: over-reporting shows up as a test failure to
    look at, never as a silently missing member)."""
    seen = set() if seen is None else seen
    function = inspect.unwrap(function)
    if function in seen:
        return set()
    seen.add(function)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError):
        return set()
    for definition in tree.body:  # its decorators (`capture_errors`) are not its code
        if isinstance(definition, ast.FunctionDef | ast.AsyncFunctionDef):
            definition.decorator_list = []
    scope = function.__globals__
    found: set[type] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Name | ast.Attribute):
            continue
        target = _resolve(node, scope)
        if (
            isinstance(target, type)
            and issubclass(target, errors.MutationError)
            and target is not errors.MutationError
        ):
            found.add(target)
        elif isinstance(target, types.FunctionType | types.MethodType) and (
            target.__module__ or ""
        ).startswith(PROJECT_PACKAGES):
            found |= raised_errors(target, seen)
    return found


def _error_members(union: StrawberryUnion) -> set[type]:
    error_types = {mapper.__self__ for mapper in _RESULT_OF.values()}  # type: ignore[attr-defined]
    return {member for member in union.types if member in error_types}  # type: ignore[misc]


def test_every_mutation_error_has_a_result_type() -> None:
    # given
    raised = set(errors.MutationError.__subclasses__())

    # then: capture_errors can turn each into a union member
    assert raised - set(_RESULT_OF) == set()


def _expected(mutation: str) -> set[type]:
    resolver, _ = MUTATIONS[mutation]
    return {_RESULT_OF[error].__self__ for error in raised_errors(resolver)}  # type: ignore[attr-defined]


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_the_result_union_lists_what_the_mutation_can_raise_and_nothing_else(
    mutation: str,
) -> None:
    # given: a union may serve several mutations of one object (`MessageResult`): it lists
    # what any of them can raise
    _, union = MUTATIONS[mutation]
    sharing = [n for n, (_, other) in MUTATIONS.items() if other.graphql_name == union.graphql_name]

    # when
    expected = _expected(mutation)
    expected_by_any = set().union(*(_expected(name) for name in sharing))

    # then
    listed = _error_members(union)
    missing = sorted(member.__name__ for member in expected - listed)
    never = sorted(member.__name__ for member in listed - expected_by_any)
    assert (missing, never) == ([], []), (
        f"{union.graphql_name}: raised but not listed {missing}, listed but never raised {never}"
    )


def test_the_analysis_finds_errors_raised_in_called_functions() -> None:
    # given: updateWorkflow checks access in resolvers.mutations.access, two calls down
    resolver, _ = MUTATIONS["update_workflow"]

    # then
    assert {errors.ForbiddenError, errors.NotFoundError} <= raised_errors(resolver)

"""Limits checked before an operation runs: tokens, expanded size, depth, aliases, cost,
introspection.

One schema extension applies them all, reading the app's settings from the request context
(the schema is built once per process; each app has its own settings). Each refusal carries a
stable `extensions.code`. It also runs validation itself, so that in production graphql-core
omits its "Did you mean ...?" hints, which would spell out the schema field by field.

Nothing here is exponential in the document: its shape (expanded size, depth, aliases) is
measured in one pass that measures each fragment once (`schema.extensions.shape`), and a
document over a limit is refused before graphql-core's rules or the cost estimate walk it."""

from __future__ import annotations

import contextlib
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    parse,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from flowgate.settings import Settings
from resolvers.context import Context
from schema.extensions.cost import cost_and_dependence, variables_key
from schema.extensions.shape import measure_document
from schema.extensions.single_login import OneLoginPerOperation

# graphql-core's own wording for the token limit, which it raises while parsing.
_TOO_MANY_TOKENS = re.compile(r"Document contains more than \d+ tokens")
# Hints in errors raised while coercing variables, which `validate` does not see.
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_fields: int
    max_tokens: int
    max_cost: int
    list_size: int
    max_page_size: int
    introspection: bool
    suggestions: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        # Asked for by every request; the app's settings are the same object throughout.
        if _last_limits and _last_limits[0][0] is settings:
            return _last_limits[0][1]
        limits = cls._of(settings)
        _last_limits[:] = [(settings, limits)]  # replaced whole: nothing to lock
        return limits

    @classmethod
    def _of(cls, settings: Settings) -> Limits:
        return cls(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_fields=settings.max_expanded_fields,
            max_tokens=settings.max_tokens,
            max_cost=settings.max_query_cost,
            list_size=settings.cost_list_size,
            max_page_size=settings.max_page_size,
            introspection=settings.introspection_enabled,
            suggestions=settings.field_suggestions_enabled,
        )


# The last settings asked about and their limits (the settings held, not their id, which
# could be reused by others).
_last_limits: list[tuple[Settings, Limits]] = []


def _code(error: GraphQLError, code: str) -> None:
    """Give `error` the code `code` unless it has one: every error a client sees has a code,
    over HTTP and websockets alike."""
    extensions = error.extensions or {}
    if "code" not in extensions:
        error.extensions = {**extensions, "code": code}


class OperationLimits(SchemaExtension):
    def _limits(self) -> Limits:
        context = self.execution_context.context
        if isinstance(context, Context):
            return Limits.from_settings(context.services.settings)
        # A caller of `schema.execute` without the app's context gets the defaults.
        settings = Settings.model_construct()
        return Limits.from_settings(settings)

    def on_operation(self) -> Iterator[None]:
        self.limits = limits = self._limits()
        self.execution_context.parse_options["max_tokens"] = limits.max_tokens
        self.execution_context.validation_rules += _rules(limits)
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors and not limits.suggestions:
            for error in errors:
                error.message = _SUGGESTION.sub("", error.message)

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            # Parsed documents by text, shared by every request. A text that does not parse
            # is left to Strawberry, which parses it again and reports the error as usual.
            with contextlib.suppress(GraphQLError):
                context.graphql_document = parse_cached(context.query, self.limits.max_tokens)
        yield
        for error in self.execution_context.pre_execution_errors or ():
            too_long = _TOO_MANY_TOKENS.search(error.message)
            _code(error, "TOO_MANY_TOKENS" if too_long else "GRAPHQL_PARSE_FAILED")

    async def on_validate(self) -> AsyncIterator[None]:
        # Strawberry validates only when no extension has (`pre_execution_errors` is None):
        # validating here lets graphql-core leave out suggestions, and the cost is estimated
        # only for a document that is valid.
        context = self.execution_context
        if context.pre_execution_errors is None and context.graphql_document is not None:
            schema = context.schema._schema
            # Validation depends on the text and the limits only; a text that passed once
            # passes again (graphql-core's `validate` was half the CPU of a small query).
            valid_key = (id(schema), context.query, self.limits)
            errors = (
                []
                if valid_key in _VALID
                else _shape_errors(context.graphql_document, self.limits)
                or validate(
                    schema,
                    context.graphql_document,
                    (*context.validation_rules, MaybeNullValidationRule, OneOfInputValidationRule),
                    hide_suggestions=not self.limits.suggestions,
                )
            )
            if not errors:
                _remember(_VALID, valid_key, None)
            if not errors:
                cost = _cost(
                    schema,
                    valid_key,
                    context.graphql_document,
                    context.operation_name,
                    context.variables,
                )
                if cost > self.limits.max_cost:
                    errors = [_too_costly(cost, self.limits.max_cost)]
            for error in errors:  # the limits' own errors have theirs (QUERY_TOO_DEEP, ...)
                _code(error, "GRAPHQL_VALIDATION_FAILED")
            context.pre_execution_errors = errors
        yield


def within_limits(
    schema: GraphQLSchema,
    query: str,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    limits: Limits,
) -> bool:
    """Whether this text, already validated under these limits, stays within them with these
    variables: for the prepared path (`schema.compiled.prepared`), which runs no extension. A
    False sends the request down the full path, which refuses it with the error."""
    valid_key = (id(schema), query, limits)
    if valid_key not in _VALID:
        return False
    return _cost(schema, valid_key, document, operation_name, variables) <= limits.max_cost


def _cost(
    schema: GraphQLSchema,
    valid_key: tuple[int, str | None, Limits],
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> int:
    """The operation's estimated cost (`schema.extensions.cost`), kept by text when it reads
    no variable, else by text and variables."""
    cost = _STATIC_COSTS.get((valid_key, operation_name))
    if cost is not None:
        return cost
    # A cost that read the variables is kept under them: the same page sizes sent again
    # (a client's usual case) cost the same.
    by_variables = (valid_key, operation_name, variables_key(variables))
    if by_variables[2] is not None:
        cost = _VARIABLE_COSTS.get(by_variables)
        if cost is not None:
            return cost
    _, query, limits = valid_key
    cost, dependent = cost_and_dependence(
        schema,
        document,
        operation_name=operation_name,
        variables=variables,
        list_size=limits.list_size,
        max_page_size=limits.max_page_size,
    )
    # A cost that read no variable is the operation's whatever it is sent.
    if not dependent and query is not None:
        _remember(_STATIC_COSTS, (valid_key, operation_name), cost)
    elif query is not None and by_variables[2] is not None:
        _remember(_VARIABLE_COSTS, by_variables, cost)
    return cost


@lru_cache(maxsize=16)
def _rules(limits: Limits) -> tuple[type[ASTValidationRule], ...]:
    """The rules for these limits, built once (each build makes new classes)."""
    rules: list[type[ASTValidationRule]] = [OneLoginPerOperation]
    if not limits.introspection:
        rules.append(_coded(NoSchemaIntrospectionCustomRule, "INTROSPECTION_DISABLED"))
    return tuple(rules)


def _shape_errors(document: DocumentNode, limits: Limits) -> list[GraphQLError]:
    """The limits on the document's shape it passes, as errors; checked first, since they
    bound what every later step walks."""
    shape = measure_document(document)
    if shape.fields > limits.max_fields:
        return [
            GraphQLError(
                f"Query too large: {shape.fields} field selections once its fragments are "
                f"expanded; the limit is {limits.max_fields}",
                extensions={"code": "QUERY_TOO_LARGE", "fields": shape.fields},
            )
        ]
    errors = [
        GraphQLError(
            f"'{name}' exceeds maximum operation depth of {limits.max_depth}",
            extensions={"code": "QUERY_TOO_DEEP"},
        )
        for name, depth in shape.depths.items()
        if depth > limits.max_depth
    ]
    if shape.aliases > limits.max_aliases:
        errors.append(
            GraphQLError(
                f"{shape.aliases} aliases found. Allowed: {limits.max_aliases}",
                extensions={"code": "TOO_MANY_ALIASES"},
            )
        )
    return errors


@lru_cache(maxsize=1000)
def parse_cached(query: str, max_tokens: int) -> DocumentNode:
    """Parsed documents by text, shared by every request."""
    return parse(query, max_tokens=max_tokens)


# Texts that passed validation, most recent last; bounded, since texts come from clients.
_VALID: OrderedDict[tuple[int, str | None, Limits], None] = OrderedDict()
# The costs of operations whose cost reads no variable, by text (as above) and operation name.
_STATIC_COSTS: OrderedDict[tuple[tuple[int, str | None, Limits], str | None], int] = OrderedDict()
# The others' costs, by text, operation name and variables (`cost.variables_key`).
_VARIABLE_COSTS: OrderedDict[tuple[tuple[int, str | None, Limits], str | None, bytes | None], int]
_VARIABLE_COSTS = OrderedDict()
_CACHED_MAX = 1000


def _remember(cache: OrderedDict[K, V], key: K, value: V) -> None:
    cache[key] = value
    cache.move_to_end(key)
    if len(cache) > _CACHED_MAX:
        cache.popitem(last=False)


def _too_costly(cost: int, limit: int) -> GraphQLError:
    return GraphQLError(
        f"Query too costly: estimated cost {cost} exceeds the limit of {limit}; "
        "ask for smaller pages (`first`) or fewer nested lists",
        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": limit},
    )


def _coded(rule: type[ASTValidationRule], code: str) -> type[ASTValidationRule]:
    """`rule`, with `code` added to the extensions of each error it reports."""

    class Coded(rule):  # type: ignore[valid-type,misc]  # a subclass of a class made at runtime
        def report_error(self, error: GraphQLError) -> None:
            # graphql-core's rules report while the document is visited, through the rule.
            super().report_error(_with_code(error, code))

    Coded.__name__ = f"Coded{rule.__name__}"
    return Coded


def _with_code(error: GraphQLError, code: str) -> GraphQLError:
    error.extensions = {**(error.extensions or {}), "code": code}
    return error

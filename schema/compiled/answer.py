"""The prepared path: a POSTed query that the full path has already answered fully compiled
(`schema.compiled.prepared`) is answered again without Strawberry's view, its extensions and
graphql-core's field-by-field execution, which were most of the CPU of a small query
(issue 16: the fixed cost per request).

Nothing the full path guarantees is skipped; each check is the full path's own code:
- authentication and the rate limits ran before (the context getter, for every request);
- persisted queries: `PersistedQueries.resolve`, as the extension calls it;
- parsing, validation and the limits: the text passed them under these limits (it is
  prepared), and its cost with these variables is checked again (`within_limits`);
- variables are coerced by graphql-core (`ExecutionContext.build`), the root fields planned,
  permitted, bound and run by the compiled executor, as on the full path;
- the operation is observed (span, metrics, request log fields, round trips) and its
  `extensions` are the extensions' own (`round_trip_results`, `request_id_results`).
Whatever does not fit (another content type, an error of any kind, a field that falls back
to its resolvers) returns None before anything is sent: the full path then answers, with
the errors and masking it always gives. Queries only: nothing is written twice."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLError, OperationType, get_operation_ast
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.base import BaseSchema
from strawberry.schema.schema import Schema

from flowgate import tracing
from flowgate.metrics import PREPARED_ANSWERS, observe_round_trips
from resolvers.context import Context
from resolvers.errors import ClientError
from schema.compiled.executor import CompiledExecutionContext
from schema.compiled.prepared import is_prepared
from schema.extensions.limits import Limits, parse_cached, within_limits
from schema.extensions.masking import request_id_results
from schema.extensions.observe import describe_span, report_operation
from schema.extensions.persisted import PersistedQueries
from schema.extensions.round_trips import round_trip_results

# The members of a request body the prepared path knows; any other goes the full path.
_MEMBERS = frozenset({"query", "operationName", "variables", "extensions"})
_QUERY = OperationType.QUERY.value
_ANSWERS = PREPARED_ANSWERS.labels(outcome="answered")
_FALLBACKS = PREPARED_ANSWERS.labels(outcome="fallback")


@dataclass(frozen=True)
class _Request:
    """A request body that names a prepared operation, within the limits."""

    document: DocumentNode
    name: str | None  # as sent (graphql-core picks the operation by it)
    operation_name: str | None  # the operation's own
    variables: dict[str, Any] | None
    limits: Limits


async def answer_prepared(
    schema: BaseSchema, body: object, context: Context, persisted: PersistedQueries | None
) -> GraphQLHTTPResponse | None:
    """The response to `body` (a decoded JSON request body) if it is a prepared operation,
    else None."""
    if not (isinstance(schema, Schema) and isinstance(body, dict) and context.authenticated):
        return None
    request = await _prepared_request(schema, body, context, persisted)
    if request is None:
        return None
    started = time.perf_counter()
    with tracing.operation_span() as span:
        describe_span(span, context, request.operation_name, _QUERY)
        executor = CompiledExecutionContext.build(
            schema._schema,
            request.document,
            None,
            context,
            request.variables,
            request.name,
            hide_suggestions=not request.limits.suggestions,
        )
        # Variables that do not fit their types: the full path says which.
        if not isinstance(executor, CompiledExecutionContext):
            return None
        data = await executor.answer_prepared()
    if data is None:
        _FALLBACKS.inc()
        return None
    _ANSWERS.inc()
    report_operation(context, request.operation_name, _QUERY, [], time.perf_counter() - started)
    observe_round_trips(context.round_trips)
    results = round_trip_results(context) | request_id_results()
    return {"data": data, "extensions": results} if results else {"data": data}


async def _prepared_request(
    schema: Schema, body: dict[str, Any], context: Context, persisted: PersistedQueries | None
) -> _Request | None:
    query, name = body.get("query"), body.get("operationName")
    variables, extensions = body.get("variables"), body.get("extensions")
    if not (
        body.keys() <= _MEMBERS
        and isinstance(name, str | None)
        and isinstance(variables, dict | None)
        and isinstance(extensions, dict | None)
    ):
        return None
    limits = Limits.from_settings(context.services.settings)
    by_hash = (extensions or {}).get("persistedQuery")
    try:
        # By hash alone: the text is the store's (one read, made again by the full path if
        # the text turns out not to be prepared). With its text, the text is checked first,
        # so that a request the full path answers is not resolved (or registered) twice.
        resolved = query is None and persisted is not None
        if resolved and persisted is not None:
            query = await persisted.resolve(None, by_hash)
        if not isinstance(query, str):
            return None
        document = parse_cached(query, limits.max_tokens)
        operation = get_operation_ast(document, name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return None
        operation_name = operation.name.value if operation.name else None
        if not (
            is_prepared(query, operation_name, context.principal.role)
            and within_limits(schema._schema, query, document, operation_name, variables, limits)
        ):
            return None
        if persisted is not None and not resolved:
            # As the extension: the allow-list, a hash that must be the text's (registered).
            await persisted.resolve(query, by_hash)
    except (ClientError, GraphQLError):
        return None
    return _Request(document, name, operation_name, variables, limits)

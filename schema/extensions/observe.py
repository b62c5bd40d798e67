"""What every operation reports about itself: metrics, a trace span, and its log fields.

Listed before the masking extension in `schema`, so that its exit runs after masking and it
counts the codes the client actually sees (INTERNAL_SERVER_ERROR for a masked error)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import structlog
from graphql import GraphQLError
from opentelemetry.trace import Span
from strawberry.extensions import SchemaExtension

from flowgate import tracing
from flowgate.metrics import (
    ERRORS,
    UNAUTHENTICATED,
    code_label,
    observe_operation,
    operation_label,
)
from flowgate.request_scope import current_record
from resolvers.context import Context

log = structlog.get_logger("flowgate.request")

UNKNOWN = "unknown"  # the document did not parse, so its type is unknown


class ObserveOperations(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        with tracing.operation_span() as span:
            self._span = span
            yield
            elapsed = time.perf_counter() - started
            codes = [error_code(error) for error in self._errors()]
            name, type_ = self._name(), self._type()
            describe_span(span, self.execution_context.context, name, type_, codes)
        report_operation(self.execution_context.context, name, type_, codes, elapsed)

    def on_execute(self) -> Iterator[None]:
        # Parsed and validated: the operation's name and type are known; label the spans of
        # the loaders and database calls that run from here.
        describe_span(self._span, self.execution_context.context, self._name(), self._type())
        yield

    def _name(self) -> str | None:
        try:
            return self.execution_context.operation_name
        except Exception:  # an unparsable document has no name to read
            return None

    def _type(self) -> str:
        try:
            return self.execution_context.operation_type.value
        except Exception:  # no document, or no operation of that name
            return UNKNOWN

    def _errors(self) -> list[GraphQLError]:
        result = self.execution_context.result
        return list(getattr(result, "errors", None) or [])


# What an operation reports, as functions of its context: the extension above and the
# prepared path (`schema.compiled.prepared`, which runs no extension) report through them.


def describe_span(
    span: Span | None,
    context: object,
    name: str | None,
    type_: str,
    codes: list[str] | None = None,
) -> None:
    """Name the operation's span and label it (and, once it ended, its error codes)."""
    if span is None:
        return
    tracing.describe_operation(span, _span_attributes(context, name, type_))
    if codes:
        span.set_attribute("graphql.error_codes", codes)


def report_operation(
    context: object, name: str | None, type_: str, codes: list[str], elapsed: float
) -> None:
    """Count the operation in the metrics and give its fields to the request's log line (a
    websocket operation, which has no request line, logs its own)."""
    label = operation_label(name) if _may_name(context) else UNAUTHENTICATED
    observe_operation(label, type_, elapsed)
    for code in codes:
        ERRORS.labels(code=code_label(code)).inc()
    round_trips = context.round_trips.as_dict() if isinstance(context, Context) else None
    organization_id, user_id = _principal_ids(context)
    record = current_record()
    if record is not None:  # an HTTP request: its line is logged by the middleware
        record.operation = name
        record.operation_type = type_
        record.organization_id, record.user_id = organization_id, user_id
        record.round_trips = round_trips
        record.error_codes.extend(codes)
        return
    log.info(
        "graphql_operation",
        operation=name,
        operation_type=type_,
        organization_id=organization_id,
        user_id=user_id,
        duration_ms=round(elapsed * 1000, 1),
        round_trips=round_trips,
        error_codes=codes,
    )


def _may_name(context: object) -> bool:
    """Whether the client's operation name may become a label: signed-in clients' names
    (capped by `operation_label`), or any on an allow-list gateway, where every operation
    that runs is registered."""
    if not isinstance(context, Context):
        return True  # `schema.execute` in-process: the caller is the code itself
    return context.authenticated or context.services.settings.persisted_queries_only


def _principal_ids(context: object) -> tuple[str | None, str | None]:
    if isinstance(context, Context) and context.authenticated:
        principal = context.principal
        return str(principal.organization_id), str(principal.user_id)
    return None, None


def _span_attributes(context: object, name: str | None, type_: str) -> dict[str, str]:
    organization_id, _ = _principal_ids(context)
    attributes = {
        "graphql.operation.name": name or "anonymous",
        "graphql.operation.type": type_,
    }
    if organization_id is not None:
        attributes["flowgate.organization_id"] = organization_id
    return attributes


def error_code(error: GraphQLError) -> str:
    """The error's `extensions.code`; errors GraphQL itself raises before execution get the
    codes the HTTP layer gives them (`flowgate.router`)."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    if error.original_error is None:
        if error.message.startswith("Syntax Error"):
            return "GRAPHQL_PARSE_FAILED"
        return "GRAPHQL_VALIDATION_FAILED"
    return "NONE"

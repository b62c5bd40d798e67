"""OpenTelemetry tracing, on only when `otlp_endpoint` is set.

One span per GraphQL operation (`schema.extensions.observe`), one per dataloader batch
(`resolvers.loaders.base`) and one per database call: every SQL statement (SQLAlchemy
cursor events) and every MongoDB command (a pymongo command listener). Each carries the
operation's name and type and the principal's organization.

Off, nothing is set up: no tracer provider, no exporter, and each hook returns after reading
one module-level variable (`_tracer`). The tracer is this module's own, not the global
provider's, so that tests can turn tracing on and off again in one process."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from pymongo import monitoring
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from flowgate.settings import Settings

_tracer: Tracer | None = None
_provider: TracerProvider | None = None
# The operation's attributes (name, type, organization), copied onto each span below it.
_attributes: ContextVar[Mapping[str, str] | None] = ContextVar(
    "flowgate_span_attributes", default=None
)

MAX_STATEMENT = 2000
T = TypeVar("T")
V = TypeVar("V")


def enabled() -> bool:
    return _tracer is not None


def enable(exporter: SpanExporter, *, batch: bool = True) -> None:
    """Trace from now on, to `exporter` (batched: off the request path)."""
    global _tracer, _provider  # the one switch every hook reads
    provider = TracerProvider(resource=Resource.create({"service.name": "flowgate"}))
    provider.add_span_processor(
        BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    )
    _provider, _tracer = provider, provider.get_tracer("flowgate")


def disable() -> None:
    """Stop tracing; spans still queued are exported first."""
    global _tracer, _provider
    provider, _provider, _tracer = _provider, None, None
    if provider is not None:
        provider.shutdown()


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[None]:
    """Trace to `settings.otlp_endpoint` (OTLP over HTTP) while the app runs, if it is set."""
    if settings.otlp_endpoint is None:
        yield
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    endpoint = settings.otlp_endpoint.rstrip("/")
    if not endpoint.endswith("/v1/traces"):
        endpoint += "/v1/traces"  # a collector's base URL, as OTEL_EXPORTER_OTLP_ENDPOINT is
    enable(OTLPSpanExporter(endpoint=endpoint))
    try:
        yield
    finally:
        disable()


@contextlib.contextmanager
def operation_span() -> Iterator[Span | None]:
    """The span of one GraphQL operation, current while it runs; `None` when off."""
    if _tracer is None:
        yield None
        return
    token = _attributes.set(None)
    try:
        with _tracer.start_as_current_span("graphql.operation", kind=SpanKind.SERVER) as span:
            yield span
    finally:
        _attributes.reset(token)


def describe_operation(span: Span | None, attributes: Mapping[str, str]) -> None:
    """Name the operation's span once the document is parsed, and label what runs below it."""
    if span is None:
        return
    span.update_name(
        f"{attributes['graphql.operation.type']} {attributes['graphql.operation.name']}"
    )
    span.set_attributes(dict(attributes))
    _attributes.set(attributes)


def traced_batch(
    name: str, batch_load: Callable[[T], Coroutine[Any, Any, V]]
) -> Callable[[T], Coroutine[Any, Any, V]]:
    """Wrap a loader's `batch_load_fn` in a span (called only when tracing is on)."""

    async def batch_load_fn(keys: T) -> V:
        if _tracer is None:
            return await batch_load(keys)
        attributes = {**(_attributes.get() or {}), "flowgate.loader": name}
        with _tracer.start_as_current_span(f"loader {name}", attributes=attributes) as span:
            span.set_attribute("flowgate.loader.keys", len(keys))  # type: ignore[arg-type]
            return await batch_load(keys)

    return batch_load_fn


def _start(name: str, attributes: dict[str, Any]) -> Span | None:
    if _tracer is None:
        return None
    return _tracer.start_span(
        name, kind=SpanKind.CLIENT, attributes={**(_attributes.get() or {}), **attributes}
    )


def _fail(span: Span, error: BaseException | str) -> None:
    if isinstance(error, BaseException):
        span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, str(error)[:300]))
    span.end()


# -- SQL ----------------------------------------------------------------------------------

_SQL_SPAN = "_flowgate_span"


@contextlib.contextmanager
def sql_statement(statement: str) -> Iterator[None]:
    """The span of one statement sent to the driver directly, not through the engine
    (`flowgate.stores.postgres.Postgres.fetch_value`): as the engine's events make it."""
    span = _statement_span(statement) if _tracer is not None else None
    if span is None:
        yield
        return
    try:
        yield
    except BaseException as error:
        _fail(span, error)
        raise
    span.end()


def _statement_span(statement: str) -> Span | None:
    verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
    return _start(
        f"postgresql {verb}",
        {"db.system": "postgresql", "db.statement": statement[:MAX_STATEMENT]},
    )


def instrument_engine(engine: AsyncEngine) -> None:
    """A span per statement the engine sends (an `executemany` is one)."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _before(_conn: Any, _cursor: Any, statement: str, _p: Any, context: Any, _m: Any) -> None:
        if _tracer is None or context is None:
            return
        setattr(context, _SQL_SPAN, _statement_span(statement))

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _after(_conn: Any, _cursor: Any, _s: Any, _p: Any, context: Any, _m: Any) -> None:
        span = getattr(context, _SQL_SPAN, None) if context is not None else None
        if span is not None:
            span.end()

    @event.listens_for(sync_engine, "handle_error")
    def _error(exception_context: Any) -> None:
        context = exception_context.execution_context
        span = getattr(context, _SQL_SPAN, None) if context is not None else None
        if span is not None:
            _fail(span, exception_context.original_exception)


# -- MongoDB ------------------------------------------------------------------------------


class MongoCommandSpans(monitoring.CommandListener):
    """A span per MongoDB command. pymongo's async client calls `started` in the task that
    sends the command, so the span's parent is that task's current span (a loader batch)."""

    def __init__(self) -> None:
        self._open: dict[tuple[Any, int], Span] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if _tracer is None:
            return
        collection = event.command.get(event.command_name)
        attributes = {
            "db.system": "mongodb",
            "db.name": event.database_name,
            "db.operation": event.command_name,
        }
        if isinstance(collection, str):
            attributes["db.mongodb.collection"] = collection
        span = _start(f"mongodb {event.command_name}", attributes)
        if span is not None:
            self._open[(event.connection_id, event.request_id)] = span

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        span = self._open.pop((event.connection_id, event.request_id), None)
        if span is not None:
            span.end()

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        span = self._open.pop((event.connection_id, event.request_id), None)
        if span is not None:
            _fail(span, str(event.failure.get("errmsg", "failed")))

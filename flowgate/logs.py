"""structlog for the whole process: JSON lines in production, readable lines in development.

The gateway's own lines (`structlog.get_logger`) and the standard library's (uvicorn, the
drivers) go through the same processors, so a log shipper sees one format. Every line logged
while a request runs carries its `request_id` (bound by `flowgate.protection.request_id`).

The gateway's own lines are rendered by structlog and written straight to the handler's
stream, under the handler's lock; only the standard library's lines go through a
`logging.LogRecord` and structlog's `ProcessorFormatter`. The round trip through the standard
library (a record, the caller's frame looked up, a second record in the formatter) was about
three quarters of the cost of the request line, logged for every request (issue 16), and
lines below INFO were rendered before the standard library dropped them; now they are
dropped first. The lines are the same either way."""

from __future__ import annotations

import contextlib
import logging
import operator
import sys
from typing import Any, TextIO

import orjson
import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import Processor


def _dumps(value: Any, **_: Any) -> str:
    return orjson.dumps(value, default=str).decode()


class HandlerSink:
    """structlog's logger: each rendered line written to the handler's stream, as the
    handler's `emit` writes a formatted record (its lock, its terminator, a flush; a write
    that fails is reported as a failed `emit` is, never raised into the request)."""

    def __init__(self, handler: logging.StreamHandler[TextIO]) -> None:
        self._handler = handler

    def msg(self, message: str) -> None:
        handler = self._handler
        with handler.lock or contextlib.nullcontext():
            try:
                handler.stream.write(message + handler.terminator)
                handler.flush()
            except Exception:  # as `logging.StreamHandler.emit`
                handler.handleError(logging.makeLogRecord({"msg": message}))

    # structlog calls the method named after the level.
    debug = info = warning = warn = error = err = critical = fatal = exception = log = msg


class BoundOnce:
    """A logger of `name`, bound once for each structlog configuration.

    `structlog.get_logger` returns a proxy that binds a new logger on every call (the
    configuration may have changed since): a third of the cost of the request line,
    logged for every request (issue 16). This binds again only when the configuration
    is no longer the one it bound under (`configure_logging` again, a test's
    `reset_defaults`); `capture_logs` changes the processors in place, so it captures
    these lines too."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._bound: tuple[tuple[object, ...], Any] | None = None

    def get(self) -> Any:
        config = structlog.get_config()
        key = (
            config["processors"],
            config["logger_factory"],
            config["wrapper_class"],
            config["context_class"],
        )
        bound = self._bound
        if bound is None or not all(map(operator.is_, bound[0], key)):
            bound = self._bound = (key, structlog.get_logger(self._name).bind())
        return bound[1]


def console_renderer() -> Processor:
    """Readable lines for a console, with plain tracebacks: rich's, with every frame's locals,
    ran to 490 KB for one malformed websocket frame and held the event loop for seconds."""
    return structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)


def configure_logging(*, production: bool, stream: TextIO | None = None) -> None:
    """Send every log line to `stream` (stdout): JSON when `production`, else for a console."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor
    if production:
        # Tracebacks as data, without each frame's locals: they can hold credentials.
        transformer = ExceptionDictTransformer(show_locals=False)
        shared.append(structlog.processors.ExceptionRenderer(transformer))
        renderer = structlog.processors.JSONRenderer(serializer=_dumps)
    else:
        renderer = console_renderer()
    handler = logging.StreamHandler(stream or sys.stdout)
    sink = HandlerSink(handler)
    structlog.configure(
        processors=[*shared, renderer],
        logger_factory=lambda *_: sink,
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        cache_logger_on_first_use=False,
    )
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # uvicorn's loggers would print their own lines too; ours is the request line.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # Strawberry logs every error of every answer, expected ones too, with a traceback. The
    # request line has their codes, and `schema.extensions.masking` logs each unexpected one with
    # its traceback under the request id.
    logging.getLogger("strawberry.execution").disabled = True

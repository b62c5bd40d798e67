"""structlog for the whole process: JSON lines in production, readable lines in development.

The gateway's own lines (`structlog.get_logger`) and the standard library's (uvicorn, the
drivers) go through the same processors, so a log shipper sees one format. Every line logged
while a request runs carries its `request_id` (bound by `flowgate.protection.request_id`)."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import orjson
import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import Processor


def _dumps(value: Any, **_: Any) -> str:
    return orjson.dumps(value, default=str).decode()


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
        # A plain traceback: rich's, with every frame's locals, ran to 490 KB for one
        # malformed websocket frame and held the event loop for seconds.
        renderer = structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream or sys.stdout)
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

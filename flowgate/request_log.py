"""One log line per HTTP request, and the count of open websockets.

The middleware gives each HTTP request a `RequestRecord` (`flowgate.request_scope`) that the
GraphQL extension (`schema.extensions.observe`) fills in: operation, principal, round trips,
error codes. When the answer has been sent, it logs one `request` line with those, the status
and the duration; the request id comes from structlog's context
(`flowgate.protection.request_id`). Probes and scrapes that succeed are not logged: they would
drown the lines that matter. A websocket gets no record: each of its operations logs its own
line (`graphql_operation`)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flowgate.logs import BoundOnce
from flowgate.metrics import WEBSOCKETS
from flowgate.request_scope import RequestRecord, request_record_var

log = BoundOnce("flowgate.request")

QUIET_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})
SERVER_ERROR = 500


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            WEBSOCKETS.inc()
            try:
                await self.app(scope, receive, send)
            finally:
                WEBSOCKETS.dec()
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = RequestRecord()
        token = request_record_var.set(record)
        started = time.perf_counter()
        status = SERVER_ERROR  # unless a response starts: an exception escaped

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            request_record_var.reset(token)
            path = scope.get("path", "")
            if path not in QUIET_PATHS or status >= SERVER_ERROR:
                logger = log.get()
                level = logger.error if status >= SERVER_ERROR else logger.info
                level(
                    "request",
                    method=scope.get("method"),
                    path=path,
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 1),
                    **record.fields(),
                )

"""One log line per HTTP request, and the count of open websockets.

The middleware gives each HTTP request a `RequestRecord` that the GraphQL extension
(`schema.observe`) fills in: operation, principal, round trips, error codes. When the answer
has been sent, it logs one `request` line with those, the status and the duration; the
request id comes from structlog's context (`flowgate.protection.request_id`). Probes and
scrapes that succeed are not logged: they would drown the lines that matter. A websocket gets
no record: each of its operations logs its own line (`graphql_operation`)."""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flowgate.metrics import WEBSOCKETS

log = structlog.get_logger("flowgate.request")

QUIET_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})
SERVER_ERROR = 500


@dataclass
class RequestRecord:
    """What the request did, as far as GraphQL knows; empty for a request refused before."""

    operation: str | None = None
    operation_type: str | None = None
    organization_id: str | None = None
    user_id: str | None = None
    round_trips: dict[str, int] | None = None
    error_codes: list[str] = field(default_factory=list)

    def fields(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "operation_type": self.operation_type,
            # The principal by its ids only: never the credential or anything that reveals it.
            "organization_id": self.organization_id,
            "user_id": self.user_id,
            "round_trips": self.round_trips,
            "error_codes": self.error_codes,
        }


_current: ContextVar[RequestRecord | None] = ContextVar("flowgate_request_record", default=None)


def current_record() -> RequestRecord | None:
    """The record of the HTTP request being served in this task; `None` on a websocket."""
    return _current.get()


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
        token = _current.set(record)
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
            _current.reset(token)
            path = scope.get("path", "")
            if path not in QUIET_PATHS or status >= SERVER_ERROR:
                level = log.error if status >= SERVER_ERROR else log.info
                level(
                    "request",
                    method=scope.get("method"),
                    path=path,
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 1),
                    **record.fields(),
                )

"""What the HTTP edge knows of the request being served, for the layers below it that report
it: its id (set by `flowgate.protection.request_id`) and its log record (created by
`flowgate.request_log`, filled in by the schema's extensions). The middlewares are the shell;
these values are read by the schema, so they live below both."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

# Set by `flowgate.protection.request_id` for each HTTP request and websocket.
request_id_var: ContextVar[str | None] = ContextVar("flowgate_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served in this task, if any."""
    return request_id_var.get()


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


# Set by `flowgate.request_log` for each HTTP request.
request_record_var: ContextVar[RequestRecord | None] = ContextVar(
    "flowgate_request_record", default=None
)


def current_record() -> RequestRecord | None:
    """The record of the HTTP request being served in this task; `None` on a websocket."""
    return request_record_var.get()

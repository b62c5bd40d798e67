"""Sort keys for the SQL lists. Nullable columns sort through COALESCE so that the keyset
comparison `(key, id) < (:key, :id)` never meets a NULL (which would drop rows)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, literal

from models.sql import Agent, Approval, Execution
from resolvers.cursors import MalformedCursorError
from resolvers.filters import AgentOrderField, ExecutionOrderField
from resolvers.sql_pages import SortKey

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _datetime(value: Any) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
        # In UTC here, so that a time beyond the calendar in UTC fails here, not in the driver.
        return parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed
    except (TypeError, ValueError, OverflowError):
        raise MalformedCursorError("after") from None


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MalformedCursorError("after")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise MalformedCursorError("after") from None
    # Our sort values are finite and far from 1e±30; NaN would page nowhere and a huge
    # exponent cannot be sent as a PostgreSQL numeric.
    if not number.is_finite() or abs(number.adjusted()) > 30:
        raise MalformedCursorError("after")
    return number


def _text(value: Any) -> str:
    if not isinstance(value, str) or "\x00" in value:
        raise MalformedCursorError("after")
    return value


AGENT_SORT_KEYS: dict[AgentOrderField, SortKey] = {
    AgentOrderField.CREATED_AT: SortKey(Agent.created_at, lambda a: a.created_at, _datetime),
    AgentOrderField.UPDATED_AT: SortKey(Agent.updated_at, lambda a: a.updated_at, _datetime),
    AgentOrderField.NAME: SortKey(Agent.name, lambda a: a.name, _text),
    AgentOrderField.LAST_EXECUTION_AT: SortKey(
        func.coalesce(Agent.last_execution_at, literal(EPOCH)),
        lambda a: a.last_execution_at or EPOCH,
        _datetime,
    ),
    AgentOrderField.EXECUTION_COUNT: SortKey(
        Agent.execution_count, lambda a: a.execution_count, _number
    ),
}

EXECUTION_SORT_KEYS: dict[ExecutionOrderField, SortKey] = {
    ExecutionOrderField.STARTED_AT: SortKey(
        Execution.started_at, lambda e: e.started_at, _datetime
    ),
    # Unfinished executions have no duration yet: they sort as -1 ms.
    ExecutionOrderField.DURATION: SortKey(
        func.coalesce(Execution.duration_ms, -1),
        lambda e: e.duration_ms if e.duration_ms is not None else -1,
        _number,
    ),
    ExecutionOrderField.COST: SortKey(Execution.cost, lambda e: float(e.cost), _number),
    ExecutionOrderField.TOKENS: SortKey(Execution.tokens, lambda e: e.tokens, _number),
}

# The approvals inbox (`pendingApprovals`): oldest request first, as a queue is worked.
APPROVAL_SORT_KEY = SortKey(Approval.requested_at, lambda a: a.requested_at, _datetime)

"""`executionAggregate`: execution figures per group of up to two keys, in one SQL statement.

PostgreSQL groups, counts and takes the percentiles; Python only reshapes the rows. The
number of groups is bounded by `first` (at most `MAX_GROUPS`), which the cost limit counts
like a page size, so a grouping that would explode (USER x HOUR over a year) is cut, not
streamed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import ColumnElement, Float, Select, cast, func, nulls_last, select

from models.enums import ExecutionStatus
from models.sql import Agent, Execution
from resolvers import access
from resolvers.errors import BadInputError
from resolvers.executions import execution_conditions
from resolvers.filters import ExecutionFilter, SortDirection
from resolvers.stats import check_workflow_readable

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context

MAX_GROUP_KEYS: Final = 2
MAX_GROUPS: Final = 1000
DEFAULT_GROUPS: Final = 100


class GroupKey(StrEnum):
    AGENT = "agent"
    WORKFLOW = "workflow"
    STATUS = "status"
    PROVIDER = "provider"
    MODEL = "model"
    USER = "user"
    CATEGORY = "category"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


TIME_KEYS: Final = frozenset({GroupKey.HOUR, GroupKey.DAY, GroupKey.WEEK, GroupKey.MONTH})
_NEEDS_AGENT: Final = frozenset({GroupKey.MODEL, GroupKey.CATEGORY})


class AggregateOrderField(StrEnum):
    KEY = "key"
    COUNT = "count"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SUCCESS_RATE = "success_rate"
    DURATION_P95 = "duration_p95"
    AI_CALLS = "ai_calls"
    TOKENS = "tokens"
    PROMPT_TOKENS = "prompt_tokens"
    COMPLETION_TOKENS = "completion_tokens"
    COST = "cost"


@dataclass(frozen=True)
class AggregateRow:
    keys: dict[GroupKey, Any]
    count: int
    succeeded: int
    failed: int
    finished: int
    duration_p50_ms: float | None
    duration_p95_ms: float | None
    duration_p99_ms: float | None
    ai_calls: int
    tokens: int
    prompt_tokens: int
    completion_tokens: int
    cost: Decimal

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.finished if self.finished else None


def _key_expression(key: GroupKey) -> ColumnElement[Any]:
    if key in TIME_KEYS:
        # Periods of UTC: truncated in UTC, then read back as an instant.
        local = func.timezone("UTC", Execution.started_at)
        return func.timezone("UTC", func.date_trunc(key.value, local))
    columns: dict[GroupKey, Any] = {
        GroupKey.AGENT: Execution.agent_id,
        GroupKey.WORKFLOW: Execution.workflow_id,
        GroupKey.STATUS: Execution.status,
        GroupKey.PROVIDER: Execution.ai_provider,
        GroupKey.MODEL: Agent.configuration["model"].astext,
        GroupKey.USER: Execution.started_by_id,
        GroupKey.CATEGORY: Agent.category,
    }
    found: ColumnElement[Any] = columns[key]
    return found


def check_arguments(group_by: list[GroupKey], first: int | None) -> int:
    """The number of groups to return; the arguments' problems as errors naming them."""
    if not group_by:
        raise BadInputError("groupBy", "name at least one key")
    if len(group_by) > MAX_GROUP_KEYS:
        raise BadInputError(
            "groupBy", f"at most {MAX_GROUP_KEYS} keys at once, got {len(group_by)}"
        )
    if len(set(group_by)) != len(group_by):
        raise BadInputError("groupBy", "names a key twice")
    size = DEFAULT_GROUPS if first is None else first
    if not 0 <= size <= MAX_GROUPS:
        raise BadInputError("first", f"must be from 0 to {MAX_GROUPS}, got {size}")
    return size


async def execution_aggregate(
    info: Info[Context],
    *,
    filter_: ExecutionFilter,
    group_by: list[GroupKey],
    order: AggregateOrderField | None,
    direction: SortDirection | None,
    first: int | None,
) -> list[AggregateRow]:
    limit = check_arguments(group_by, first)
    if filter_.workflow_id is not None:
        await check_workflow_readable(info, filter_.workflow_id, "filter.workflowId")
    principal = info.context.principal
    readable = await info.context.loaders.readable_workflow_ids.get()
    query = _statement(principal.organization_id, filter_, group_by).where(
        access.execution_visible(principal, readable)
    )
    query = query.order_by(*_ordering(query, group_by, order, direction)).limit(limit)
    async with info.context.services.postgres.session() as session:
        rows = (await session.execute(query)).all()
    return [
        AggregateRow(
            keys={key: row[index] for index, key in enumerate(group_by)},
            count=row.count,
            succeeded=row.succeeded,
            failed=row.failed,
            finished=row.finished,
            duration_p50_ms=row.p50,
            duration_p95_ms=row.p95,
            duration_p99_ms=row.p99,
            ai_calls=int(row.ai_calls or 0),
            tokens=int(row.tokens or 0),
            prompt_tokens=int(row.prompt_tokens or 0),
            completion_tokens=int(row.completion_tokens or 0),
            cost=row.cost if row.cost is not None else Decimal(0),
        )
        for row in rows
    ]


_FINISHED = (ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED)


def _statement(
    organization_id: uuid.UUID, filter_: ExecutionFilter, group_by: list[GroupKey]
) -> Select[Any]:
    keys = [_key_expression(key).label(f"key_{index}") for index, key in enumerate(group_by)]
    query = select(
        *keys,
        func.count().label("count"),
        func.count().filter(Execution.status == ExecutionStatus.SUCCEEDED).label("succeeded"),
        func.count().filter(Execution.status == ExecutionStatus.FAILED).label("failed"),
        func.count().filter(Execution.status.in_(_FINISHED)).label("finished"),
        func.percentile_cont(0.5).within_group(Execution.duration_ms).label("p50"),
        func.percentile_cont(0.95).within_group(Execution.duration_ms).label("p95"),
        func.percentile_cont(0.99).within_group(Execution.duration_ms).label("p99"),
        func.sum(Execution.ai_calls).label("ai_calls"),
        func.sum(Execution.tokens).label("tokens"),
        func.sum(Execution.prompt_tokens).label("prompt_tokens"),
        func.sum(Execution.completion_tokens).label("completion_tokens"),
        func.sum(Execution.cost).label("cost"),
    ).select_from(Execution)
    if _NEEDS_AGENT & set(group_by):
        query = query.join(Agent, Agent.id == Execution.agent_id)
    return query.where(*execution_conditions(organization_id, filter_)).group_by(*keys)


def _ordering(
    query: Select[Any],
    group_by: list[GroupKey],
    order: AggregateOrderField | None,
    direction: SortDirection | None,
) -> list[Any]:
    columns = query.selected_columns
    keys = [columns[f"key_{index}"] for index in range(len(group_by))]
    if order is None:  # a time series reads oldest first; anything else biggest first
        time_series = group_by[0] in TIME_KEYS
        order = AggregateOrderField.KEY if time_series else AggregateOrderField.COUNT
        direction = direction or (SortDirection.ASC if time_series else SortDirection.DESC)
    descending = (direction or SortDirection.DESC) is SortDirection.DESC
    if order is AggregateOrderField.KEY:
        primary = keys
    elif order is AggregateOrderField.SUCCESS_RATE:
        rate = cast(columns["succeeded"], Float) / func.nullif(columns["finished"], 0)
        primary = [rate]
    elif order is AggregateOrderField.DURATION_P95:
        primary = [columns["p95"]]
    else:
        primary = [columns[order.value]]
    sorted_ = [nulls_last(c.desc() if descending else c.asc()) for c in primary]
    # The keys break ties, so that equal figures come back in the same order every time.
    return sorted_ + [nulls_last(key.asc()) for key in keys]

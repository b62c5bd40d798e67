"""Tool (MCP) usage figures: calls, failures, duration percentiles and cost, grouped by tool,
server, user or day, over the tool calls of the conversations the principal can see. One
query, computed by PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, cast, func, select

from models.enums import ToolCallStatus
from models.sql import Conversation, Message, ToolCall
from resolvers.conversations.access import visible_conversations
from resolvers.filters import DateRange
from resolvers.ids import to_global_id

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context


class ToolUsageGroup(StrEnum):
    TOOL = "tool"
    SERVER = "server"
    USER = "user"
    DAY = "day"


@dataclass(frozen=True)
class UsageRow:
    key: str
    calls: int
    failures: int
    duration_p50_ms: float | None
    duration_p95_ms: float | None
    cost: Decimal


def _group_expression(group: ToolUsageGroup) -> Any:
    if group is ToolUsageGroup.TOOL:
        return ToolCall.tool_name
    if group is ToolUsageGroup.SERVER:
        return ToolCall.server
    if group is ToolUsageGroup.USER:
        return Conversation.user_id
    # Days in UTC, whatever the session's time zone.
    return cast(func.timezone("UTC", ToolCall.started_at), Date)


async def tool_usage(
    info: Info[Context], *, window: DateRange, group: ToolUsageGroup
) -> list[UsageRow]:
    key = _group_expression(group).label("key")
    duration = ToolCall.duration_ms
    query = (
        select(
            key,
            func.count().label("calls"),
            func.count().filter(ToolCall.status == ToolCallStatus.FAILED).label("failures"),
            func.percentile_cont(0.5).within_group(duration).label("p50"),
            func.percentile_cont(0.95).within_group(duration).label("p95"),
            func.coalesce(func.sum(ToolCall.cost), 0).label("cost"),
        )
        .join(Message, Message.id == ToolCall.message_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(*visible_conversations(info.context.principal))
        .group_by(key)
        .order_by(func.count().desc(), key)
    )
    if window.start is not None:
        query = query.where(ToolCall.started_at >= window.start)
    if window.end is not None:
        query = query.where(ToolCall.started_at < window.end)
    async with info.context.services.postgres.session() as session:
        rows = (await session.execute(query)).all()
    return [
        UsageRow(
            key=_key_text(group, row.key),
            calls=row.calls,
            failures=row.failures,
            duration_p50_ms=row.p50,
            duration_p95_ms=row.p95,
            cost=Decimal(row.cost),
        )
        for row in rows
    ]


def _key_text(group: ToolUsageGroup, value: Any) -> str:
    if group is ToolUsageGroup.USER:
        return to_global_id("User", value)
    if group is ToolUsageGroup.DAY:
        return str(value.isoformat())
    return str(value)

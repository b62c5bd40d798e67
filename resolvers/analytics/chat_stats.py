"""`DashboardStats.chats`: the window's chat figures, in one SQL statement.

GROUPING SETS give, in one scan of the window's messages, a row per (model, provider) of
the replies, a row per UTC day and the grand total; Python only reshapes them and lists the
days without messages as zeros. Which messages count, and when, is the rule of `usage`'s
chat side (`resolvers.analytics.chat_usage`): visible conversations, deleted conversations
included, deleted messages not, each message in the period it was created. Run only when a
client asks for `chats`, so `dashboardStats` without it costs what it did."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import func, select, tuple_

from models.sql import Conversation, Message
from resolvers.analytics.chat_usage import is_call, is_reply, message_conditions, utc_day

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context
    from resolvers.stats import StatsScope

# grouping(model, provider, day): a set bit is a column the row is not grouped by.
_BY_MODEL: Final = 0b001
_BY_DAY: Final = 0b110
_TOTAL: Final = 0b111


@dataclass(frozen=True)
class ChatSums:
    """What a set of messages adds up to: all of them, their agents' replies, the replies
    that were AI calls, and the replies' tokens and cost."""

    messages: int = 0
    replies: int = 0
    calls: int = 0
    tokens: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: Decimal = Decimal(0)


@dataclass(frozen=True)
class ModelUsage:
    model: str | None  # None: replies that named no model (still streaming, or failed early)
    provider: str | None
    sums: ChatSums


@dataclass(frozen=True)
class ChatDay:
    day: date  # a UTC calendar day
    sums: ChatSums


@dataclass(frozen=True)
class ChatFigures:
    total: ChatSums = field(default_factory=ChatSums)
    by_model: list[ModelUsage] = field(default_factory=list)
    by_day: list[ChatDay] = field(default_factory=list)


async def chat_figures(info: Info[Context], scope: StatsScope) -> ChatFigures:
    days = _days(scope)
    if scope.workflow_id is not None:
        # No conversation belongs to a workflow: a workflow's figures hold no chats.
        return ChatFigures(by_day=[ChatDay(day, ChatSums()) for day in days])
    day = utc_day()
    grouping = func.grouping(Message.model, Message.provider, day).label("grouping")
    reply = is_reply()
    query = (
        select(
            grouping,
            Message.model,
            Message.provider,
            day.label("day"),
            func.count().label("messages"),
            func.count().filter(reply).label("replies"),
            func.count().filter(reply & is_call()).label("calls"),
            *(
                func.coalesce(func.sum(column).filter(reply), 0).label(column.key)
                for column in (
                    Message.total_tokens,
                    Message.prompt_tokens,
                    Message.completion_tokens,
                    Message.cost,
                )
            ),
        )
        .select_from(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(*_in_scope(info, scope))
        .group_by(
            func.grouping_sets(tuple_(Message.model, Message.provider), tuple_(day), tuple_())
        )
    )
    async with info.context.services.postgres.session() as session:
        rows = (await session.execute(query)).all()
    per_day = {row.day: _sums(row) for row in rows if row.grouping == _BY_DAY}
    by_model = [
        ModelUsage(row.model, row.provider, _sums(row))
        for row in rows
        # user messages carry no model: a group of them alone is no model's usage
        if row.grouping == _BY_MODEL and row.replies
    ]
    by_model.sort(key=lambda u: (-u.sums.replies, u.model or "", u.provider or ""))
    # With no message in scope, GROUPING SETS still yield the grand total.
    (total,) = (_sums(row) for row in rows if row.grouping == _TOTAL)
    return ChatFigures(
        total=total,
        by_model=by_model,
        by_day=[ChatDay(day, per_day.get(day, ChatSums())) for day in days],
    )


def _in_scope(info: Info[Context], scope: StatsScope) -> list[Any]:
    conditions = [
        *message_conditions(info),
        Message.created_at >= scope.since,
        Message.created_at < scope.until,
    ]
    if scope.agent_id is not None:
        conditions.append(Conversation.agent_id == scope.agent_id)
    return conditions


def _sums(row: Any) -> ChatSums:
    return ChatSums(
        messages=row.messages,
        replies=row.replies,
        calls=row.calls,
        # sum(integer) is bigint, sum(bigint) numeric: ints either way here
        tokens=int(row.total_tokens),
        prompt_tokens=int(row.prompt_tokens),
        completion_tokens=int(row.completion_tokens),
        cost=Decimal(row.cost),
    )


def _days(scope: StatsScope) -> list[date]:
    """Every UTC day the window touches, oldest first (as `perDay` lists them)."""
    first = scope.since.astimezone(UTC).date()
    last = (scope.until - timedelta(microseconds=1)).astimezone(UTC).date()
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]

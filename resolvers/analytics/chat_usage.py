"""The chat side of `usage`: agent replies per period and key, grouped in PostgreSQL.

One statement over the agent replies of the conversations the principal can see
(`resolvers.conversations.access.visible_conversations`, the one home of that rule). What
counts, and why:

- A reply counts in the period it began (`created_at`), as a step counts when it started:
  a reply never moves from one period to another when it finishes.
- A reply is one AI call once it ended (complete, stopped or failed: the model was called
  and billed whatever the outcome, as failed steps count) and names a provider. A reply
  still streaming is counted among `messages` but not yet as a call; its usage arrives
  with its finish.
- Deleted messages are out: a message is deleted to take it off the record.
- A deleted conversation's replies still count: the tokens were bought and billed, a
  deletion is a restorable tidy-up of the user's list, and spend figures that dropped on
  deletion (and came back on restore) would no longer agree with the provider's invoice.
  `toolUsage` counts the tool calls of deleted conversations for the same reason."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Date, cast, func, literal_column, select

from models.enums import MessageRole, MessageStatus
from models.sql import Conversation, Message
from resolvers.conversations.access import visible_conversations

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context

# Statuses of a reply that ended: the model was called (see the module's docstring).
ENDED: Final = (MessageStatus.COMPLETE, MessageStatus.STOPPED, MessageStatus.FAILED)
_UNITS: Final = {"hour": "hour", "day": "day"}  # the periods PostgreSQL truncates to


def utc_day() -> Any:
    """A message's UTC calendar day (literal arguments: see `replies_by_period`)."""
    return cast(func.timezone(literal_column("'UTC'"), Message.created_at), Date)


def message_conditions(info: Info[Context]) -> list[Any]:
    """The messages every chat figure counts: those of the principal's visible conversations
    that are not deleted (the caller joins `Conversation` and adds its window)."""
    return [
        # Redundant with the visibility rule, but it lets PostgreSQL use the messages'
        # (organization_id, created_at) index for the window.
        Message.organization_id == info.context.principal.organization_id,
        Message.deleted_at.is_(None),
        *visible_conversations(info.context.principal),
    ]


def is_reply() -> Any:
    return Message.role == MessageRole.AGENT


def is_call() -> Any:
    """A reply that is one AI call: ended, and naming a provider."""
    return Message.status.in_(ENDED) & Message.provider.is_not(None)


def _key(group: str) -> Any:
    columns: dict[str, Any] = {
        "provider": Message.provider,
        "model": Message.model,  # the reply's own model, not the agent's configured one
        "agent": Conversation.agent_id,
        "user": Conversation.user_id,  # who chatted
    }
    return columns[group]


async def replies_by_period(
    info: Info[Context], since: datetime, until: datetime, unit: str, group: str
) -> dict[tuple[datetime, Any], tuple[float, ...]]:
    """(period start, key) -> (messages, calls, tokens, prompt, completion, cost), with
    periods of `unit` ("hour" or "day") in UTC."""
    # Literals, not parameters: PostgreSQL matches GROUP BY expressions by their text, and
    # `timezone($1, ...)` in the select list is not `timezone($3, ...)` in the GROUP BY.
    utc: Any = literal_column("'UTC'")
    unit_: Any = literal_column(f"'{_UNITS[unit]}'")
    local = func.timezone(utc, Message.created_at)
    period = func.timezone(utc, func.date_trunc(unit_, local)).label("period")
    key = _key(group).label("key")
    query = (
        select(
            period,
            key,
            func.count().label("messages"),
            func.count().filter(is_call()).label("calls"),
            func.coalesce(func.sum(Message.total_tokens), 0).label("tokens"),
            func.coalesce(func.sum(Message.prompt_tokens), 0).label("prompt"),
            func.coalesce(func.sum(Message.completion_tokens), 0).label("completion"),
            func.coalesce(func.sum(Message.cost), 0).label("cost"),
        )
        .select_from(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            *message_conditions(info),
            is_reply(),
            Message.created_at >= since,
            Message.created_at < until,
        )
        .group_by(period, key)
    )
    async with info.context.services.postgres.session() as session:
        rows = (await session.execute(query)).all()
    return {
        (row.period, row.key): (
            int(row.messages),
            int(row.calls),
            int(row.tokens),
            int(row.prompt),
            int(row.completion),
            float(row.cost),
        )
        for row in rows
    }

"""`DashboardStats.chats`: messages, replies, tokens and cost of the window's chats."""

from __future__ import annotations

from datetime import date

import strawberry

from resolvers.analytics import chat_stats

# Token sums are Floats, as everywhere in `dashboardStats`: GraphQL `Int` is 32-bit.
_TOKENS = "(a Float: exceeds Int)"


@strawberry.type(description="What the agents' replies of one model and provider used.")
class ChatModelUsage:
    model: str | None = strawberry.field(
        description="The model the replies name; null for replies that named none (still "
        "streaming, or ended before the engine said)."
    )
    provider: str | None = strawberry.field(
        description="The provider the replies name (openai, anthropic, ...); null if none."
    )
    replies: int = strawberry.field(description="Agents' replies, in any status.")
    calls: int = strawberry.field(
        description="Of them, AI calls: replies that ended (complete, stopped or failed) "
        "naming a provider."
    )
    tokens: float = strawberry.field(description=f"Their summed tokens {_TOKENS}.")
    cost: float = strawberry.field(description="Their summed cost, in US dollars.")


@strawberry.type(description="Chat messages created on one UTC calendar day.")
class ChatDay:
    day: date = strawberry.field(description="The day (UTC).")
    messages: int = strawberry.field(description="Messages of every role created that day.")
    replies: int = strawberry.field(description="Of them, agents' replies.")
    calls: int = strawberry.field(description="Of the replies, AI calls.")
    tokens: float = strawberry.field(description=f"The replies' summed tokens {_TOKENS}.")
    cost: float = strawberry.field(description="The replies' summed cost, in US dollars.")


@strawberry.type(
    description="Chat figures of the window: the messages of the conversations you can see "
    "that were created in it (of the agent asked for, if any; none for a workflow, since "
    "conversations belong to none). Deleted conversations count (their spend was incurred; "
    "a deletion can be undone), deleted messages do not."
)
class DashboardChats:
    messages: int = strawberry.field(description="Messages of every role (users', agents').")
    replies: int = strawberry.field(description="Of them, agents' replies, in any status.")
    calls: int = strawberry.field(
        description="Of the replies, AI calls: those that ended (complete, stopped or failed) "
        "naming a provider."
    )
    tokens: float = strawberry.field(description=f"The replies' summed tokens {_TOKENS}.")
    prompt_tokens: float = strawberry.field(description="Of them, tokens sent to the models.")
    completion_tokens: float = strawberry.field(description="Of them, tokens the models produced.")
    cost: float = strawberry.field(description="The replies' summed cost, in US dollars.")
    by_model: list[ChatModelUsage] = strawberry.field(
        description="The replies per model and provider (as each reply names them), most "
        "replies first."
    )
    by_day: list[ChatDay] = strawberry.field(
        description="Messages per UTC day, oldest first; every day of the window is listed, "
        "days without messages as zeros."
    )

    @classmethod
    def from_figures(cls, figures: chat_stats.ChatFigures) -> DashboardChats:
        total = figures.total
        return cls(
            messages=total.messages,
            replies=total.replies,
            calls=total.calls,
            tokens=float(total.tokens),
            prompt_tokens=float(total.prompt_tokens),
            completion_tokens=float(total.completion_tokens),
            cost=float(total.cost),
            by_model=[
                ChatModelUsage(
                    model=row.model,
                    provider=row.provider,
                    replies=row.sums.replies,
                    calls=row.sums.calls,
                    tokens=float(row.sums.tokens),
                    cost=float(row.sums.cost),
                )
                for row in figures.by_model
            ],
            by_day=[
                ChatDay(
                    day=row.day,
                    messages=row.sums.messages,
                    replies=row.sums.replies,
                    calls=row.sums.calls,
                    tokens=float(row.sums.tokens),
                    cost=float(row.sums.cost),
                )
                for row in figures.by_day
            ],
        )

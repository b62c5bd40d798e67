"""The types of `usage`: AI usage per period and per provider, model, agent or user."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers.analytics import usage
from resolvers.analytics.usage import UsageBucket, UsageGroup, UsageSource
from resolvers.context import Context
from schema.user import User

if TYPE_CHECKING:
    from schema.agent import Agent

strawberry.enum(UsageBucket, description="The length of a usage period (UTC; weeks from Monday).")
strawberry.enum(
    UsageGroup,
    description="What usage is told apart by: PROVIDER and MODEL (of an execution step: its "
    "provider and its agent's configured model; of a chat reply: the reply's own), AGENT (the "
    "agent that ran, or that the conversation is with), USER (who started the execution, or "
    "whose conversation it is).",
)
strawberry.enum(
    UsageSource,
    description="Where AI usage comes from: EXECUTIONS (the steps of executions, from their "
    "traces) or CONVERSATIONS (agents' replies in the chats you can see).",
)


@strawberry.type(description="AI usage in one period, for one provider, model, agent or user.")
class UsagePoint:
    point: strawberry.Private[usage.UsagePoint]
    group: strawberry.Private[UsageGroup]
    period: datetime = strawberry.field(description="The start of the period (UTC).")
    messages: int = strawberry.field(
        description="Agents' replies in conversations that began in the period, in any status "
        "(0 without the CONVERSATIONS source)."
    )
    calls: int = strawberry.field(
        description="AI calls: steps that named a provider, and replies that ended (complete, "
        "stopped or failed) naming a provider."
    )
    tokens: int = strawberry.field(description="Tokens the steps and replies used.")
    prompt_tokens: int = strawberry.field(
        description="Of them, tokens sent to models, as the steps and replies reported them apart."
    )
    completion_tokens: int = strawberry.field(
        description="Of them, tokens the models produced, as the steps and replies reported "
        "them apart."
    )
    cost: float = strawberry.field(description="What they cost (USD).")

    @strawberry.field(description="With PROVIDER: the provider.")
    def provider(self) -> str | None:
        return self.point.key if self.group is UsageGroup.PROVIDER else None

    @strawberry.field(
        description="With MODEL: the model configured on the calling agent (steps), or the "
        "model a reply names (conversations)."
    )
    def model(self) -> str | None:
        return self.point.key if self.group is UsageGroup.MODEL else None

    @strawberry.field(
        description="With AGENT: the agent that made the calls (that ran, or that was "
        "chatted with)."
    )
    async def agent(
        self, info: strawberry.Info[Context]
    ) -> Annotated[Agent, strawberry.lazy("schema.agent")] | None:
        from schema.agent import Agent

        if self.group is not UsageGroup.AGENT or self.point.key is None:
            return None
        model = await info.context.loaders.agent_by_id.load(self.point.key)
        return Agent.from_model(model) if model is not None else None

    @strawberry.field(
        description="With USER: who started the executions, or whose conversations (who "
        "chatted), that made the calls."
    )
    async def user(self, info: strawberry.Info[Context]) -> User | None:
        if self.group is not UsageGroup.USER or self.point.key is None:
            return None
        model = await info.context.loaders.execution_starter_by_id.load(self.point.key)
        return User.from_model(model) if model is not None else None

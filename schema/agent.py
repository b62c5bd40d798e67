"""Agents (PostgreSQL) and their cross-store fields."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from models import sql
from resolvers import flowcharts
from resolvers.context import Context
from resolvers.ids import to_global_id
from schema.audit import AuditEntry, HistoryFirst, history_of
from schema.connection import Connection
from schema.enums import AgentStatus
from schema.execution_stats import ExecutionStats
from schema.flowchart import Flowchart
from schema.nested import (
    DEFAULT_PAGE_SIZE,
    NestedAfter,
    NestedFilter,
    NestedFirst,
    NestedOrder,
    nested_args,
)
from schema.nested import to_connection as to_execution_connection
from schema.node import Node
from schema.user import User

if TYPE_CHECKING:
    from schema.conversation import Conversation
    from schema.execution import Execution


@strawberry.type(description="An AI agent: its configuration, and the flowchart it runs.")
class Agent(Node):
    model: strawberry.Private[sql.Agent]
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="What the agent is for.")
    status: AgentStatus = strawberry.field(description="Whether it can be run.")
    category: str = strawberry.field(description="Grouping (support, research, ...).")
    configuration: JSON = strawberry.field(
        description="Provider, model, temperature and other run settings."
    )
    capabilities: list[str] = strawberry.field(description="What the agent can do (tools).")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it was last changed.")
    last_execution_at: datetime | None = strawberry.field(description="When it last ran.")
    execution_count: int = strawberry.field(description="How many times it has run.")
    deleted_at: datetime | None = strawberry.field(
        description="When it was deleted; set only on agents reached through past executions."
    )

    @classmethod
    def from_model(cls, model: sql.Agent) -> Agent:
        return cls(
            model=model,
            id=strawberry.ID(to_global_id("Agent", model.id)),
            name=model.name,
            description=model.description,
            status=model.status,
            category=model.category,
            configuration=JSON(model.configuration),
            capabilities=model.capabilities,
            created_at=model.created_at,
            updated_at=model.updated_at,
            last_execution_at=model.last_execution_at,
            execution_count=model.execution_count,
            deleted_at=model.deleted_at,
        )

    @strawberry.field(
        description="The flowchart this agent runs (MongoDB), if it has one; null once the "
        "agent is deleted."
    )
    async def flowchart(self, info: strawberry.Info[Context]) -> Flowchart | None:
        model = await flowcharts.flowchart_of_loaded_agent(info, self.model)
        return Flowchart.from_model(model) if model is not None else None

    @strawberry.field(description="The user who owns this agent.")
    async def owner(self, info: strawberry.Info[Context]) -> User | None:
        if self.model.owner_id is None:
            return None
        user = await info.context.loaders.user_by_id.load(self.model.owner_id)
        return User.from_model(user) if user is not None else None

    @strawberry.field(description="Its executions, newest first by default.")
    async def executions(
        self,
        info: strawberry.Info[Context],
        first: NestedFirst = DEFAULT_PAGE_SIZE,
        filter: NestedFilter = None,
        order_by: NestedOrder = None,
        after: NestedAfter = None,
    ) -> Connection[Annotated[Execution, strawberry.lazy("schema.execution")]]:
        args = nested_args(
            first,
            filter,
            order_by,
            max_size=info.context.services.settings.max_page_size,
            after=after,
        )
        page = await info.context.loaders.execution_page_by_agent.load((self.model.id, args))
        return to_execution_connection(page)  # type: ignore[return-value]

    @strawberry.field(description="Success rate, mean duration, cost and tokens of its runs.")
    async def stats(self, info: strawberry.Info[Context]) -> ExecutionStats:
        data = await info.context.loaders.agent_stats_by_agent_id.load(self.model.id)
        return ExecutionStats.from_data(data)

    @strawberry.field(description="What was done to this agent, newest first (the audit log).")
    async def history(
        self, info: strawberry.Info[Context], first: HistoryFirst = 20
    ) -> list[AuditEntry]:
        return await history_of(info, "Agent", self.model.id, first)

    @strawberry.field(description="Conversations with it you can see, last updated first.")
    async def conversations(
        self, info: strawberry.Info[Context], first: NestedFirst = DEFAULT_PAGE_SIZE
    ) -> Connection[Annotated[Conversation, strawberry.lazy("schema.conversation")]]:
        from schema.conversation import nested_conversations

        loader = info.context.loaders.conversation_page_by_agent
        return await nested_conversations(info, loader, self.model.id, first)

"""Agents (PostgreSQL) and their cross-store fields."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from flowgate.context import Context
from models import sql
from resolvers import flowcharts
from resolvers.ids import to_global_id
from schema.enums import AgentStatus
from schema.flowchart import Flowchart


@strawberry.type(description="An AI agent: its configuration, and the flowchart it runs.")
class Agent:
    model: strawberry.Private[sql.Agent]
    id: strawberry.ID = strawberry.field(description="Global id (use with `node` or `agent`).")
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

    @classmethod
    def from_model(cls, model: sql.Agent) -> Agent:
        return cls(
            model=model,
            id=strawberry.ID(to_global_id("Agent", model.id)),
            name=model.name,
            description=model.description,
            status=model.status,
            category=model.category,
            configuration=model.configuration,
            capabilities=model.capabilities,
            created_at=model.created_at,
            updated_at=model.updated_at,
            last_execution_at=model.last_execution_at,
            execution_count=model.execution_count,
        )

    @strawberry.field(description="The flowchart this agent runs (MongoDB), if it has one.")
    async def flowchart(self, info: strawberry.Info[Context]) -> Flowchart | None:
        model = await flowcharts.flowchart_of_agent(info, self.model.id)
        return Flowchart.from_model(model) if model is not None else None

"""Flowcharts: the graph each agent runs (MongoDB)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from models import documents
from models.documents.common import edge_ids
from resolvers import agents, flowcharts
from resolvers.context import Context
from resolvers.ids import to_global_id
from schema.enums import NodeType
from schema.node import Node

if TYPE_CHECKING:
    from schema.agent import Agent


@strawberry.type(description="A node's position on the canvas.")
class Position:
    x: float = strawberry.field(description="Horizontal coordinate.")
    y: float = strawberry.field(description="Vertical coordinate.")


@strawberry.type(description="One step of a flowchart.")
class FlowNode:
    id: str = strawberry.field(description="Unique within its flowchart.")
    type: NodeType = strawberry.field(description="What the node does.")
    label: str = strawberry.field(description="Shown on the canvas.")
    position: Position = strawberry.field(description="Where it is drawn.")
    data: JSON = strawberry.field(description="Per-type settings (prompt, model, agentId, ...).")
    agent_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="The agent this node calls (`data.agentId`), if any.")
    async def agent(
        self, info: strawberry.Info[Context]
    ) -> Annotated[Agent, strawberry.lazy("schema.agent")] | None:
        from schema.agent import Agent

        if self.agent_id is None:
            return None
        model = await agents.agent_by_id(info, self.agent_id)
        return Agent.from_model(model) if model is not None else None

    @classmethod
    def from_model(cls, node: documents.FlowNode) -> FlowNode:
        return cls(
            id=node.id,
            type=node.type,
            label=node.label,
            position=Position(x=node.position.x, y=node.position.y),
            data=JSON(node.data),
            agent_id=flowcharts.node_agent_id(node.data),
        )


@strawberry.type(description="A directed edge between two nodes.")
class FlowConnection:
    id: str = strawberry.field(description="Unique among the graph's edges.")
    source: str = strawberry.field(description="Id of the node the edge leaves.")
    target: str = strawberry.field(description="Id of the node the edge enters.")
    condition: str | None = strawberry.field(
        description="For a decision node's edges: when this edge is taken."
    )

    @classmethod
    def list_from_models(cls, connections: Sequence[documents.Connection]) -> list[FlowConnection]:
        return [
            cls(id=edge_id, source=c.source, target=c.target, condition=c.condition)
            for c, edge_id in zip(connections, edge_ids(connections), strict=True)
        ]


@strawberry.type(description="Title, description and layout of a flowchart.")
class FlowchartMetadata:
    title: str = strawberry.field(description="Display title.")
    description: str = strawberry.field(description="What the flowchart does.")
    layout: str = strawberry.field(description="Canvas layout (horizontal, vertical, ...).")


@strawberry.type(description="The graph an agent runs; versioned for safe concurrent edits.")
class Flowchart(Node):
    model: strawberry.Private[documents.Flowchart]
    version: int = strawberry.field(description="Bumped by every save; pass to `saveFlowchart`.")
    nodes: list[FlowNode] = strawberry.field(description="The steps.")
    connections: list[FlowConnection] = strawberry.field(description="The edges.")
    metadata: FlowchartMetadata = strawberry.field(description="Title, description, layout.")
    updated_at: datetime = strawberry.field(description="When it was last saved.")

    @classmethod
    def from_model(cls, model: documents.Flowchart) -> Flowchart:
        return cls(
            model=model,
            id=strawberry.ID(to_global_id("Flowchart", model.id)),
            version=model.version,
            nodes=[FlowNode.from_model(node) for node in model.nodes],
            connections=FlowConnection.list_from_models(model.connections),
            metadata=FlowchartMetadata(
                title=model.metadata.title,
                description=model.metadata.description,
                layout=model.metadata.layout,
            ),
            updated_at=model.updated_at,
        )

    @strawberry.field(description="The agent that runs this flowchart.")
    async def agent(
        self, info: strawberry.Info[Context]
    ) -> Annotated[Agent, strawberry.lazy("schema.agent")] | None:
        from schema.agent import Agent

        model = await agents.agent_by_id(info, self.model.agent_id)
        return Agent.from_model(model) if model is not None else None

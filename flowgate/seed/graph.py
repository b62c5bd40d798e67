"""Flowchart graphs before they are documents: nodes, edges and the lookups a walk needs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flowgate.seed.entities import AgentSeed, Doc
from models.documents import Connection, FlowNode
from models.documents.common import Position
from models.enums import NodeType


@dataclass(slots=True)
class NodeSeed:
    id: str
    type: NodeType
    label: str
    x: float
    y: float
    data: dict[str, Any] = field(default_factory=dict)

    def model(self) -> FlowNode:
        position = Position(x=self.x, y=self.y)
        return FlowNode(
            id=self.id, type=self.type, label=self.label, position=position, data=self.data
        )

    def doc(self) -> Doc:
        return {
            "id": self.id,
            "type": self.type.value,
            "label": self.label,
            "position": {"x": self.x, "y": self.y},
            "data": self.data,
        }


@dataclass(slots=True)
class EdgeSeed:
    source: str
    target: str
    condition: str | None = None

    def model(self) -> Connection:
        return Connection(source=self.source, target=self.target, condition=self.condition)

    def doc(self) -> Doc:
        return {"source": self.source, "target": self.target, "condition": self.condition}


@dataclass(slots=True)
class FlowchartSeed:
    id: uuid.UUID
    agent: AgentSeed
    version: int
    nodes: list[NodeSeed]
    edges: list[EdgeSeed]
    description: str
    updated_at: datetime
    outgoing: dict[str, list[EdgeSeed]] = field(default_factory=dict)
    by_id: dict[str, NodeSeed] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {node.id: node for node in self.nodes}
        for edge in self.edges:
            self.outgoing.setdefault(edge.source, []).append(edge)

    @property
    def start(self) -> NodeSeed:
        return self.nodes[0]

    def doc(self) -> Doc:
        return {
            "_id": self.id,
            "organization_id": self.agent.organization_id,
            "agent_id": self.agent.id,
            "version": self.version,
            "nodes": [node.doc() for node in self.nodes],
            "connections": [edge.doc() for edge in self.edges],
            "metadata": {
                "title": self.agent.name,
                "description": self.description,
                "layout": "horizontal",
            },
            "updated_at": self.updated_at,
        }

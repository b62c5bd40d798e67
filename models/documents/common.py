"""Pieces shared by the documents: the graph shape (nodes and edges) that flowcharts and
workflows both have."""

from typing import Any

from pydantic import BaseModel, Field

from models.enums import NodeType


class Position(BaseModel):
    x: float = 0.0
    y: float = 0.0


class FlowNode(BaseModel):
    """A step of a flowchart or workflow. `data` is per type: an `ai` node carries its prompt
    and model, a node that calls another agent carries `agentId`."""

    id: str
    type: NodeType
    label: str = ""
    position: Position = Field(default_factory=Position)
    data: dict[str, Any] = Field(default_factory=dict)


class Connection(BaseModel):
    """A directed edge; a decision node's outgoing edges carry their `condition`."""

    source: str
    target: str
    condition: str | None = None

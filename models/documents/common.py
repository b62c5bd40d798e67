"""Pieces shared by the documents: the graph shape (nodes and edges) that flowcharts and
workflows both have."""

from collections.abc import Sequence
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
    """A directed edge; a decision node's outgoing edges carry their `condition`. Its `id`
    is unique within its graph: the client's, or given at save (`edge_ids`); graphs saved
    before edges had ids have none stored, and read with the ids `edge_ids` derives."""

    source: str
    target: str
    condition: str | None = None
    id: str | None = None


def edge_ids(connections: Sequence[Connection]) -> list[str]:
    """Each edge's id: its own, else `source->target` (`#2`, `#3`, ... for a pair that
    repeats), never one another edge of the graph already has."""
    taken = {connection.id for connection in connections if connection.id is not None}
    ids: list[str] = []
    for connection in connections:
        if connection.id is not None:
            ids.append(connection.id)
            continue
        base = f"{connection.source}->{connection.target}"
        candidate, number = base, 1
        while candidate in taken:
            number += 1
            candidate = f"{base}#{number}"
        taken.add(candidate)
        ids.append(candidate)
    return ids

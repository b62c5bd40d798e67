"""Inputs for the nodes and edges of a graph: a flowchart's now, a workflow's later."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from resolvers.validation.graph import EdgeDraft, NodeDraft
from schema.enums import NodeType


@strawberry.input(description="A node's position on the canvas.")
class PositionInput:
    x: float = strawberry.field(default=0.0, description="Horizontal coordinate.")
    y: float = strawberry.field(default=0.0, description="Vertical coordinate.")


@strawberry.input(description="One step of a graph.")
class FlowNodeInput:
    id: str = strawberry.field(description="Unique within the graph; at most 100 characters.")
    type: NodeType = strawberry.field(description="What the node does.")
    label: str = strawberry.field(default="", description="At most 200 characters.")
    position: PositionInput | None = strawberry.field(
        default=None, description="Where it is drawn; the origin if omitted."
    )
    data: JSON | None = strawberry.field(
        default=None,
        description=(
            "Per-type settings, a JSON object. A node that calls an agent names it in "
            "`agentId` (a global id, or the bare id found in stored node data)."
        ),
    )

    def to_draft(self) -> NodeDraft:
        position = self.position or PositionInput()
        return NodeDraft(
            id=self.id, type=self.type, label=self.label, x=position.x, y=position.y, data=self.data
        )


@strawberry.input(description="A directed edge between two nodes.")
class FlowConnectionInput:
    source: str = strawberry.field(description="Id of the node the edge leaves.")
    target: str = strawberry.field(description="Id of the node the edge enters.")
    condition: str | None = strawberry.field(
        default=None,
        description="When the edge is taken; required on a decision node's edges (at most 1,000).",
    )

    id: str | None = strawberry.field(
        default=None,
        description="Unique among the edges, at most 100 characters; null: `source->target` "
        "(with `#2`, `#3`, ... for a pair that repeats).",
    )

    def to_draft(self) -> EdgeDraft:
        return EdgeDraft(
            source=self.source, target=self.target, condition=self.condition, id=self.id
        )

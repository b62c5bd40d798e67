"""`saveFlowchart`, `deleteFlowchart`: inputs, payloads and result unions."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.context import Context
from resolvers.mutations import flowcharts
from schema.errors import Forbidden, NotFound, ValidationError, VersionConflict
from schema.flowchart import Flowchart
from schema.mutations.capture import capture_errors
from schema.mutations.graph_inputs import FlowConnectionInput, FlowNodeInput
from schema.permissions import WRITERS


@strawberry.input(description="Title, description and layout of a flowchart.")
class FlowchartMetadataInput:
    title: str = strawberry.field(default="", description="At most 200 characters.")
    description: str = strawberry.field(default="", description="At most 5,000 characters.")
    layout: str = strawberry.field(
        default="horizontal", description="Canvas layout; at most 50 characters."
    )


@strawberry.input(
    description=(
        "A whole flowchart, replacing the stored one: at most 500 nodes, 2,000 connections "
        "and 256 KB as JSON."
    )
)
class FlowchartInput:
    nodes: list[FlowNodeInput] = strawberry.field(description="The steps.")
    connections: list[FlowConnectionInput] = strawberry.field(
        default_factory=list, description="The edges."
    )
    metadata: FlowchartMetadataInput | None = strawberry.field(
        default=None, description="Title, description and layout; defaults if omitted."
    )

    def to_draft(self) -> flowcharts.FlowchartDraft:
        metadata = self.metadata or FlowchartMetadataInput()
        return flowcharts.FlowchartDraft(
            nodes=[node.to_draft() for node in self.nodes],
            connections=[connection.to_draft() for connection in self.connections],
            title=metadata.title,
            description=metadata.description,
            layout=metadata.layout,
        )


@strawberry.type(description="The flowchart as saved.")
class SaveFlowchartPayload:
    flowchart: Flowchart = strawberry.field(description="The flowchart, with its new version.")


SaveFlowchartResult = Annotated[
    SaveFlowchartPayload | ValidationError | NotFound | VersionConflict | Forbidden,
    strawberry.union(
        "SaveFlowchartResult", description="The saved flowchart, or why it was not saved."
    ),
]


@strawberry.type(description="The flowchart as it was when deleted.")
class DeleteFlowchartPayload:
    flowchart: Flowchart = strawberry.field(description="The removed flowchart, last version.")


DeleteFlowchartResult = Annotated[
    DeleteFlowchartPayload | ValidationError | NotFound | VersionConflict | Forbidden,
    strawberry.union(
        "DeleteFlowchartResult", description="The deleted flowchart, or why it was not deleted."
    ),
]


@strawberry.type(description="Changes to flowcharts.")
class FlowchartMutations:
    @strawberry.mutation(
        permission_classes=WRITERS,
        description=(
            "Replace an agent's flowchart (create it when it has none) and bump its version. "
            "Nothing is saved unless `expectedVersion` is the version stored now."
        ),
    )
    @capture_errors
    async def save_flowchart(
        self,
        info: strawberry.Info[Context],
        agent_id: Annotated[strawberry.ID, strawberry.argument(description="The agent's id.")],
        input: Annotated[FlowchartInput, strawberry.argument(description="The flowchart.")],
        expected_version: Annotated[
            int | None,
            strawberry.argument(
                description="The version you edited: 0 or null when the agent has none yet."
            ),
        ] = None,
    ) -> SaveFlowchartResult:
        model = await flowcharts.save_flowchart(
            info, agent_id=agent_id, draft=input.to_draft(), expected_version=expected_version
        )
        return SaveFlowchartPayload(flowchart=Flowchart.from_model(model))

    @strawberry.mutation(
        permission_classes=WRITERS,
        description=(
            "Delete an agent's flowchart; the agent stays, with none (a later save starts at "
            "version 1). With `expectedVersion`, only if that is the version stored now."
        ),
    )
    @capture_errors
    async def delete_flowchart(
        self,
        info: strawberry.Info[Context],
        agent_id: Annotated[strawberry.ID, strawberry.argument(description="The agent's id.")],
        expected_version: Annotated[
            int | None,
            strawberry.argument(description="The version you mean to delete; null: any."),
        ] = None,
    ) -> DeleteFlowchartResult:
        model = await flowcharts.delete_flowchart(
            info, agent_id=agent_id, expected_version=expected_version
        )
        return DeleteFlowchartPayload(flowchart=Flowchart.from_model(model))

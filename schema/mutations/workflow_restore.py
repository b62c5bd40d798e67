"""`restoreWorkflowVersion`: its payload and result union."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.context import Context
from resolvers.mutations import workflow_restore
from schema.errors import Forbidden, InvalidTransition, NotFound, ValidationError, VersionConflict
from schema.mutations.capture import capture_errors
from schema.mutations.workflows import WorkflowId
from schema.permissions import WRITERS
from schema.workflow import Workflow


@strawberry.type(description="The workflow with an earlier version's content as a new version.")
class RestoreWorkflowVersionPayload:
    workflow: Workflow = strawberry.field(
        description="The workflow at its new version (the replaced one is kept in `versions`)."
    )


RestoreWorkflowVersionResult = Annotated[
    RestoreWorkflowVersionPayload
    | ValidationError
    | NotFound
    | VersionConflict
    | InvalidTransition
    | Forbidden,
    strawberry.union(
        "RestoreWorkflowVersionResult",
        description="The restored workflow, or why it was not restored.",
    ),
]


@strawberry.type(description="Restoring workflows.")
class WorkflowRestoreMutations:
    @strawberry.mutation(
        permission_classes=WRITERS,
        description=(
            "Make an earlier version's name, description, nodes, edges, tags, category and "
            "settings the workflow's next version; its permissions and status stay as they "
            "are. Nothing changes unless `expectedVersion` is the version stored now."
        ),
    )
    @capture_errors
    async def restore_workflow_version(
        self,
        info: strawberry.Info[Context],
        id: WorkflowId,
        version: Annotated[
            int, strawberry.argument(description="The earlier version (see `versions`).")
        ],
        expected_version: Annotated[
            int, strawberry.argument(description="The version you looked at: the current one.")
        ],
    ) -> RestoreWorkflowVersionResult:
        model = await workflow_restore.restore_workflow_version(
            info, workflow_id=id, version=version, expected_version=expected_version
        )
        return RestoreWorkflowVersionPayload(workflow=Workflow.from_model(model))

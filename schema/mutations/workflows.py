"""`createWorkflow`, `updateWorkflow`, `archiveWorkflow`: inputs, payloads and result unions."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.context import Context
from resolvers.drafts.workflow import (
    PermissionsChanges,
    SettingsChanges,
    WorkflowChanges,
    WorkflowDraft,
)
from resolvers.mutations import workflows
from schema.enums import WorkflowStatus
from schema.errors import (
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationError,
    VersionConflict,
)
from schema.mutations.capture import capture_errors
from schema.mutations.drafts import drafted, drafted_list, kept
from schema.mutations.graph_inputs import FlowConnectionInput, FlowNodeInput
from schema.permissions import WRITERS
from schema.workflow import Workflow


@strawberry.input(description="Limits and notifications of runs: only the fields given change.")
class WorkflowSettingsInput:
    timeout_seconds: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="A run is failed after this long: 1 to 86,400 (3,600).",
    )
    max_retries: int | None = strawberry.field(
        default=strawberry.UNSET, description="Retries of a failed step: 0 to 10 (3)."
    )
    concurrency: int | None = strawberry.field(
        default=strawberry.UNSET, description="Runs allowed at once: 1 to 100 (1)."
    )
    notify_on_failure: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Notify when a run fails (true)."
    )
    notify_on_success: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Notify when a run succeeds (false)."
    )
    notification_channels: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Where to notify: at most 20, each 1 to 200 characters.",
    )

    def to_draft(self) -> SettingsChanges:
        # Omitted fields stay as they are; an explicit null is reported.
        return SettingsChanges(
            timeout_seconds=kept(self.timeout_seconds),
            max_retries=kept(self.max_retries),
            concurrency=kept(self.concurrency),
            notify_on_failure=kept(self.notify_on_failure),
            notify_on_success=kept(self.notify_on_success),
            notification_channels=kept(self.notification_channels),
        )


@strawberry.input(
    description="Who may read, edit and run a workflow: only the fields given change."
)
class WorkflowPermissionsInput:
    owner_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "Users of your organization (at most 100). On creation, you are the owner unless "
            "owners are given."
        ),
    )
    editor_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="Users of your organization (at most 100)."
    )
    viewer_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="Users of your organization (at most 100)."
    )
    is_public: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Readable by everyone in the organization (false)."
    )

    def to_draft(self) -> PermissionsChanges:
        return PermissionsChanges(
            owner_ids=kept(self.owner_ids),
            editor_ids=kept(self.editor_ids),
            viewer_ids=kept(self.viewer_ids),
            is_public=kept(self.is_public),
        )


@strawberry.input(
    description="A new workflow: at most 500 nodes, 2,000 edges and 256 KB as JSON in all."
)
class CreateWorkflowInput:
    name: str = strawberry.field(description="Display name: 1 to 200 characters, trimmed.")
    description: str = strawberry.field(default="", description="At most 5,000 characters.")
    status: WorkflowStatus = strawberry.field(
        default=WorkflowStatus.DRAFT, description="Draft or active; archive with archiveWorkflow."
    )
    nodes: list[FlowNodeInput] = strawberry.field(
        default_factory=list,
        description="The steps; `data.agentId` names an agent of your organization.",
    )
    edges: list[FlowConnectionInput] = strawberry.field(
        default_factory=list, description="The edges between steps."
    )
    tags: list[str] = strawberry.field(
        default_factory=list,
        description="At most 30, each 1 to 50 characters, trimmed; duplicates are dropped.",
    )
    category: str = strawberry.field(default="general", description="Grouping: 1 to 100.")
    settings: WorkflowSettingsInput | None = strawberry.field(
        default=strawberry.UNSET,
        description="Run limits and notifications; defaults where omitted.",
    )
    permissions: WorkflowPermissionsInput | None = strawberry.field(
        default=strawberry.UNSET, description="Access control; defaults where omitted."
    )

    def to_draft(self) -> WorkflowDraft:
        return WorkflowDraft(
            name=self.name,
            description=self.description,
            status=self.status,
            nodes=[node.to_draft() for node in self.nodes],
            edges=[edge.to_draft() for edge in self.edges],
            tags=self.tags,
            category=self.category,
            settings=drafted(self.settings),
            permissions=drafted(self.permissions),
        )


@strawberry.input(
    description=(
        "Changes to a workflow: only the fields given change. Nodes and edges form one graph: "
        "if only one of them is given, the other is checked as stored."
    )
)
class UpdateWorkflowInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Display name: 1 to 200 characters, trimmed."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 5,000 characters."
    )
    status: WorkflowStatus | None = strawberry.field(
        default=strawberry.UNSET, description="Draft or active; archive with archiveWorkflow."
    )
    nodes: list[FlowNodeInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the steps."
    )
    edges: list[FlowConnectionInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the edges."
    )
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Replaces the tags: at most 30, each 1 to 50 characters.",
    )
    category: str | None = strawberry.field(
        default=strawberry.UNSET, description="Grouping: 1 to 100."
    )
    settings: WorkflowSettingsInput | None = strawberry.field(
        default=strawberry.UNSET, description="The settings that change."
    )
    permissions: WorkflowPermissionsInput | None = strawberry.field(
        default=strawberry.UNSET, description="The permissions that change."
    )

    def to_draft(self) -> WorkflowChanges:
        # Omitted fields stay as they are; an explicit null is reported.
        return WorkflowChanges(
            name=kept(self.name),
            description=kept(self.description),
            status=kept(self.status),
            nodes=drafted_list(self.nodes),
            edges=drafted_list(self.edges),
            tags=kept(self.tags),
            category=kept(self.category),
            settings=drafted(self.settings),
            permissions=drafted(self.permissions),
        )


@strawberry.type(description="The workflow as created.")
class CreateWorkflowPayload:
    workflow: Workflow = strawberry.field(description="The new workflow, at version 1.")


@strawberry.type(description="The workflow as changed.")
class UpdateWorkflowPayload:
    workflow: Workflow = strawberry.field(description="The workflow, with its new version.")


@strawberry.type(description="The workflow as archived.")
class ArchiveWorkflowPayload:
    workflow: Workflow = strawberry.field(description="The workflow, archived, at a new version.")


CreateWorkflowResult = Annotated[
    CreateWorkflowPayload | ValidationError,
    strawberry.union("CreateWorkflowResult", description="The new workflow, or why there is none."),
]
UpdateWorkflowResult = Annotated[
    UpdateWorkflowPayload
    | ValidationError
    | NotFound
    | VersionConflict
    | InvalidTransition
    | Forbidden,
    strawberry.union(
        "UpdateWorkflowResult", description="The changed workflow, or why it was not changed."
    ),
]
ArchiveWorkflowResult = Annotated[
    ArchiveWorkflowPayload
    | ValidationError
    | NotFound
    | InvalidTransition
    | VersionConflict
    | Forbidden,
    strawberry.union(
        "ArchiveWorkflowResult", description="The archived workflow, or why it was not archived."
    ),
]
WorkflowId = Annotated[strawberry.ID, strawberry.argument(description="The workflow's global id.")]


@strawberry.type(description="Changes to workflows.")
class WorkflowMutations:
    @strawberry.mutation(
        permission_classes=WRITERS,
        description="Create a workflow in your organization, at version 1.",
    )
    @capture_errors
    async def create_workflow(
        self,
        info: strawberry.Info[Context],
        input: Annotated[CreateWorkflowInput, strawberry.argument(description="The new workflow.")],
    ) -> CreateWorkflowResult:
        model = await workflows.create_workflow(info, draft=input.to_draft())
        return CreateWorkflowPayload(workflow=Workflow.from_model(model))

    @strawberry.mutation(
        permission_classes=WRITERS,
        description=(
            "Change some fields of a workflow and bump its version; the version replaced is "
            "kept in `Workflow.versions`. Nothing changes unless `expectedVersion` is the "
            "version stored now. An archived workflow cannot be changed."
        ),
    )
    @capture_errors
    async def update_workflow(
        self,
        info: strawberry.Info[Context],
        id: WorkflowId,
        input: Annotated[UpdateWorkflowInput, strawberry.argument(description="What changes.")],
        expected_version: Annotated[
            int, strawberry.argument(description="The version you edited.")
        ],
    ) -> UpdateWorkflowResult:
        model = await workflows.update_workflow(
            info, workflow_id=id, changes=input.to_draft(), expected_version=expected_version
        )
        return UpdateWorkflowPayload(workflow=Workflow.from_model(model))

    @strawberry.mutation(
        permission_classes=WRITERS,
        description=(
            "Archive a workflow, as a new version (the one replaced is kept). Archiving an "
            "archived workflow is an InvalidTransition."
        ),
    )
    @capture_errors
    async def archive_workflow(
        self, info: strawberry.Info[Context], id: WorkflowId
    ) -> ArchiveWorkflowResult:
        model = await workflows.archive_workflow(info, workflow_id=id)
        return ArchiveWorkflowPayload(workflow=Workflow.from_model(model))

"""Workflows (MongoDB) and their cross-store fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from models import documents
from resolvers import access, workflows
from resolvers.context import Context
from resolvers.ids import to_global_id
from schema.audit import AuditEntry, HistoryFirst, history_of
from schema.connection import Connection
from schema.enums import WorkflowStatus
from schema.execution_stats import ExecutionStats
from schema.flowchart import FlowConnection, FlowNode
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
    from schema.execution import Execution
    from schema.webhook import WorkflowWebhook
    from schema.workflow_version import WorkflowVersion


@strawberry.type(description="Limits and notifications of a workflow's runs.")
class WorkflowSettings:
    timeout_seconds: int = strawberry.field(description="A run is failed after this long.")
    max_retries: int = strawberry.field(description="Retries of a failed step.")
    concurrency: int = strawberry.field(description="Runs allowed at once.")
    notify_on_failure: bool = strawberry.field(description="Notify when a run fails.")
    notify_on_success: bool = strawberry.field(description="Notify when a run succeeds.")
    notification_channels: list[str] = strawberry.field(description="Where to notify.")

    @classmethod
    def from_model(cls, settings: documents.WorkflowSettings) -> WorkflowSettings:
        return cls(
            timeout_seconds=settings.timeout_seconds,
            max_retries=settings.max_retries,
            concurrency=settings.concurrency,
            notify_on_failure=settings.notifications.on_failure,
            notify_on_success=settings.notifications.on_success,
            notification_channels=settings.notifications.channels,
        )


@strawberry.type(description="Who may read, edit and run a workflow.")
class WorkflowPermissions:
    owner_ids: list[strawberry.ID] = strawberry.field(description="Owners' user ids.")
    editor_ids: list[strawberry.ID] = strawberry.field(description="Editors' user ids.")
    viewer_ids: list[strawberry.ID] = strawberry.field(description="Viewers' user ids.")
    is_public: bool = strawberry.field(description="Readable by everyone in the organization.")

    @classmethod
    def from_model(cls, permissions: documents.WorkflowPermissions) -> WorkflowPermissions:
        return cls(
            owner_ids=_user_ids(list(permissions.owners)),
            editor_ids=_user_ids(list(permissions.editors)),
            viewer_ids=_user_ids(list(permissions.viewers)),
            is_public=permissions.is_public,
        )


def _user_ids(ids: list[object]) -> list[strawberry.ID]:
    return [strawberry.ID(to_global_id("User", user_id)) for user_id in ids]  # type: ignore[arg-type]


@strawberry.type(description="The content of a workflow at one version (not in the schema).")
class WorkflowContent:
    """The fields `Workflow` and `WorkflowVersion` share, read from a `WorkflowContent`
    document by `content_of`. `version` is here, not in the subclasses, so that both keep
    it where clients have seen it; the subclasses word some descriptions their own way."""

    version: int = strawberry.field(description="Bumped by every update.")
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="What it does.")
    status: WorkflowStatus = strawberry.field(description="Draft, active or archived.")
    nodes: list[FlowNode] = strawberry.field(description="The steps.")
    edges: list[FlowConnection] = strawberry.field(description="The edges between steps.")
    tags: list[str] = strawberry.field(description="Free-form labels.")
    category: str = strawberry.field(description="Grouping.")
    settings: WorkflowSettings = strawberry.field(description="Run limits and notifications.")
    permissions: WorkflowPermissions = strawberry.field(description="Access control.")

    @staticmethod
    def content_of(model: documents.Workflow | documents.WorkflowVersion) -> dict[str, Any]:
        """The keyword arguments of the shared fields, for a subclass's `from_model`."""
        return {
            "version": model.version,
            "name": model.name,
            "description": model.description,
            "status": model.status,
            "nodes": [FlowNode.from_model(node) for node in model.nodes],
            "edges": FlowConnection.list_from_models(model.edges),
            "tags": model.tags,
            "category": model.category,
            "settings": WorkflowSettings.from_model(model.settings),
            "permissions": WorkflowPermissions.from_model(model.permissions),
        }


@strawberry.type(description="A multi-agent workflow: nodes that call agents, joined by edges.")
class Workflow(Node, WorkflowContent):
    model: strawberry.Private[documents.Workflow]
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it was last changed.")

    @classmethod
    def from_model(cls, model: documents.Workflow) -> Workflow:
        return cls(
            model=model,
            id=strawberry.ID(to_global_id("Workflow", model.id)),
            created_at=model.created_at,
            updated_at=model.updated_at,
            **WorkflowContent.content_of(model),
        )

    @strawberry.field(description="The user who created it (PostgreSQL).")
    async def owner(self, info: strawberry.Info[Context]) -> User | None:
        if self.model.created_by is None:
            return None
        user = await info.context.loaders.workflow_creator_by_id.load(self.model.created_by)
        return User.from_model(user) if user is not None else None

    @strawberry.field(description="Its executions (PostgreSQL), newest first by default.")
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
        page = await info.context.loaders.execution_page_by_workflow.load((self.model.id, args))
        return to_execution_connection(page)  # type: ignore[return-value]

    @strawberry.field(description="Success rate, mean duration, runs in the last 24 h.")
    async def stats(self, info: strawberry.Info[Context]) -> ExecutionStats:
        data = await info.context.loaders.workflow_stats_by_workflow_id.load(self.model.id)
        return ExecutionStats.from_data(data)

    @strawberry.field(
        description=(
            "The versions this workflow had before its current one, newest first (at most 50)."
        )
    )
    async def versions(
        self, info: strawberry.Info[Context]
    ) -> list[Annotated[WorkflowVersion, strawberry.lazy("schema.workflow_version")]]:
        from schema.workflow_version import WorkflowVersion

        kept = await workflows.previous_versions(info, self.model)
        return [WorkflowVersion.from_model(version) for version in kept]

    @strawberry.field(
        description="Where its notifications are POSTed (`notificationChannels` naming "
        "`webhook`); null if none is set or you may not change the workflow."
    )
    async def webhook(
        self, info: strawberry.Info[Context]
    ) -> Annotated[WorkflowWebhook, strawberry.lazy("schema.webhook")] | None:
        from schema.webhook import WorkflowWebhook

        if not access.may_change_workflow(info.context.principal, self.model):
            return None
        model = await info.context.loaders.webhook_by_workflow_id.load(self.model.id)
        return WorkflowWebhook.from_model(model) if model is not None else None

    @strawberry.field(description="What was done to this workflow, newest first (the audit log).")
    async def history(
        self, info: strawberry.Info[Context], first: HistoryFirst = 20
    ) -> list[AuditEntry]:
        return await history_of(info, "Workflow", self.model.id, first)


async def workflow_of(
    info: strawberry.Info[Context], workflow_id: uuid.UUID | None
) -> Workflow | None:
    """The workflow a row names (an execution's, a notification's), if readable: the one
    resolution of the many fields that point at a workflow."""
    if workflow_id is None:
        return None
    model = await workflows.workflow_by_id(info, workflow_id)
    return Workflow.from_model(model) if model is not None else None

"""A previous version of a workflow, as `Workflow.versions` lists it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from flowgate.context import Context
from models import documents
from models.enums import WorkflowStatus  # the GraphQL enum is this class (see schema.enums)
from schema.flowchart import FlowConnection, FlowNode
from schema.user import User
from schema.workflow import WorkflowPermissions, WorkflowSettings


@strawberry.type(
    description="What a workflow was at one of its earlier versions, kept when it was replaced."
)
class WorkflowVersion:
    model: strawberry.Private[documents.WorkflowVersion]
    version: int = strawberry.field(description="The version number this content had.")
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="What it did.")
    status: WorkflowStatus = strawberry.field(description="Draft or active (or archived).")
    nodes: list[FlowNode] = strawberry.field(description="The steps.")
    edges: list[FlowConnection] = strawberry.field(description="The edges between steps.")
    tags: list[str] = strawberry.field(description="Free-form labels.")
    category: str = strawberry.field(description="Grouping.")
    settings: WorkflowSettings = strawberry.field(description="Run limits and notifications.")
    permissions: WorkflowPermissions = strawberry.field(description="Access control.")
    saved_at: datetime = strawberry.field(description="When this version was saved.")
    replaced_at: datetime = strawberry.field(
        description="When the change that replaced this version kept it."
    )

    @classmethod
    def from_model(cls, model: documents.WorkflowVersion) -> WorkflowVersion:
        return cls(
            model=model,
            version=model.version,
            name=model.name,
            description=model.description,
            status=model.status,
            nodes=[FlowNode.from_model(node) for node in model.nodes],
            edges=[FlowConnection.from_model(edge) for edge in model.edges],
            tags=model.tags,
            category=model.category,
            settings=WorkflowSettings.from_model(model.settings),
            permissions=WorkflowPermissions.from_model(model.permissions),
            saved_at=model.updated_at,
            replaced_at=model.created_at,
        )

    @strawberry.field(description="The user whose change replaced this version (PostgreSQL).")
    async def replaced_by(self, info: strawberry.Info[Context]) -> User | None:
        if self.model.created_by is None:
            return None
        user = await info.context.loaders.user_by_id.load(self.model.created_by)
        return User.from_model(user) if user is not None else None

"""A previous version of a workflow, as `Workflow.versions` lists it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models import documents
from resolvers.context import Context
from schema.enums import WorkflowStatus
from schema.user import User
from schema.workflow import WorkflowContent


@strawberry.type(
    description="What a workflow was at one of its earlier versions, kept when it was replaced."
)
class WorkflowVersion(WorkflowContent):
    model: strawberry.Private[documents.WorkflowVersion]
    # Worded for a version that was replaced; the positions are `WorkflowContent`'s.
    version: int = strawberry.field(description="The version number this content had.")
    description: str = strawberry.field(description="What it did.")
    status: WorkflowStatus = strawberry.field(description="Draft or active (or archived).")
    saved_at: datetime = strawberry.field(description="When this version was saved.")
    replaced_at: datetime = strawberry.field(
        description="When the change that replaced this version kept it."
    )

    @classmethod
    def from_model(cls, model: documents.WorkflowVersion) -> WorkflowVersion:
        return cls(
            model=model,
            saved_at=model.updated_at,
            replaced_at=model.created_at,
            **WorkflowContent.content_of(model),
        )

    @strawberry.field(description="The user whose change replaced this version (PostgreSQL).")
    async def replaced_by(self, info: strawberry.Info[Context]) -> User | None:
        if self.model.created_by is None:
            return None
        user = await info.context.loaders.user_by_id.load(self.model.created_by)
        return User.from_model(user) if user is not None else None

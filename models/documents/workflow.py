import uuid
from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from models.documents.common import Connection, FlowNode
from models.enums import WorkflowStatus
from models.sql.base import utcnow


class NotificationSettings(BaseModel):
    on_failure: bool = True
    on_success: bool = False
    channels: list[str] = Field(default_factory=list)


class WorkflowSettings(BaseModel):
    timeout_seconds: int = 3600
    max_retries: int = 3
    concurrency: int = 1
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)


class WorkflowPermissions(BaseModel):
    """Who may read, edit and run the workflow, by user id, beyond the organization's admins."""

    owners: list[uuid.UUID] = Field(default_factory=list)
    editors: list[uuid.UUID] = Field(default_factory=list)
    viewers: list[uuid.UUID] = Field(default_factory=list)
    is_public: bool = False


class WorkflowContent(BaseModel):
    """What a version of a workflow is made of: the workflow holds it now, each of its
    `WorkflowVersion` snapshots as it was. A field added here is kept by both, copied into
    snapshots and compared by audit summaries, with nothing else to list it."""

    name: str
    description: str = ""
    status: WorkflowStatus = WorkflowStatus.DRAFT
    nodes: list[FlowNode] = Field(default_factory=list)
    edges: list[Connection] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    category: str = "general"
    settings: WorkflowSettings = Field(default_factory=WorkflowSettings)
    permissions: WorkflowPermissions = Field(default_factory=WorkflowPermissions)

    def content(self) -> dict[str, Any]:
        """The content fields by name, as they are (not copies)."""
        return {name: getattr(self, name) for name in WorkflowContent.model_fields}


class Workflow(WorkflowContent, Document):
    """A multi-agent workflow: nodes (each may call an agent) joined by edges."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4)  # type: ignore[assignment]
    organization_id: uuid.UUID
    version: int = 1
    created_by: uuid.UUID | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "workflows"
        indexes = [
            # Keyset pagination of the default listing, per organization.
            IndexModel(
                [("organization_id", ASCENDING), ("updated_at", DESCENDING), ("_id", ASCENDING)],
                name="organization_updated",
            ),
            IndexModel(
                [("organization_id", ASCENDING), ("status", ASCENDING)],
                name="organization_status",
            ),
            IndexModel([("organization_id", ASCENDING), ("tags", ASCENDING)], name="org_tags"),
        ]

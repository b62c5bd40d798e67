import uuid
from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from models.documents.workflow import Workflow, WorkflowContent
from models.sql.base import utcnow

__all__ = ["WorkflowVersion"]


class WorkflowVersion(WorkflowContent, Document):
    """A previous version of a workflow, kept when an update or an archive replaced it.

    Its content is a function of `(workflow_id, version)`: every change of a workflow bumps
    its version, so the content a version number names never changes. That is what makes
    writing a snapshot twice harmless (the unique index keeps the first, and the second would
    have been equal)."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4)  # type: ignore[assignment]
    workflow_id: uuid.UUID
    organization_id: uuid.UUID
    version: int
    # The content of that version is the inherited `WorkflowContent`, as the workflow held it.
    updated_at: datetime  # when this version was saved
    # The snapshot itself: taken by the change that replaced this version.
    created_at: datetime = Field(default_factory=utcnow)
    created_by: uuid.UUID | None = None

    @classmethod
    def of(cls, workflow: Workflow, *, created_by: uuid.UUID | None) -> "WorkflowVersion":
        """A snapshot of `workflow` as it is now (at `workflow.version`)."""
        return cls(
            workflow_id=workflow.id,
            organization_id=workflow.organization_id,
            version=workflow.version,
            updated_at=workflow.updated_at,
            created_by=created_by,
            **workflow.content(),
        )

    class Settings:
        name = "workflow_versions"
        indexes = [
            # One snapshot per version (a retried write finds the first), and the newest-first
            # listing of a workflow's versions.
            IndexModel(
                [("workflow_id", ASCENDING), ("version", DESCENDING)],
                unique=True,
                name="workflow_version_unique",
            ),
        ]

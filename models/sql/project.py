import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from models.enums import ProjectStatus
from models.sql.base import Base, Timestamps, UuidPrimaryKey, utcnow
from models.sql.types import pg_enum


class Project(UuidPrimaryKey, Timestamps, Base):
    """A workspace (a code repository, say) that agents are attached to and conversations
    are held in. Projects are visible to every member of their organization: a
    conversation held in a project is shared with them (see `resolvers.conversations.access`).
    Deleting only sets the status, so conversations keep their project."""

    __tablename__ = "projects"
    __table_args__ = (
        Index(None, "organization_id", "updated_at", "id"),
        Index(None, "owner_id"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    repository_url: Mapped[str | None] = mapped_column(String(500))
    local_path: Mapped[str | None] = mapped_column(String(500))
    framework: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[ProjectStatus] = mapped_column(
        pg_enum(ProjectStatus, "project_status"), default=ProjectStatus.ACTIVE
    )


class ProjectAgent(Base):
    """An agent attached to a project (many to many)."""

    __tablename__ = "project_agents"
    __table_args__ = (Index(None, "agent_id"),)

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, String, func
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.sql.base import Base, utcnow


class AuditLogEntry(Base):
    """Who did what to which object, when and from where. Append-only."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index(None, "organization_id", "created_at"),
        Index(None, "organization_id", "object_type", "object_id"),
        # `auditLog` pages newest first by id within the organization.
        Index(None, "organization_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    actor_id: Mapped[uuid.UUID | None]
    actor_type: Mapped[str] = mapped_column(String(20))  # user | api_key | system
    action: Mapped[str] = mapped_column(String(100))
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[str] = mapped_column(String(100))
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    client_address: Mapped[str | None] = mapped_column(INET)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)

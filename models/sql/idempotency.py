import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.sql.base import Base, utcnow


class IdempotencyKey(Base):
    """A mutation an engine may retry: the key, a hash of what was asked, and what was
    answered. The same key with the same request returns the first answer and changes
    nothing; the same key with another request is refused. Kept for at least 24 hours."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index(None, "created_at"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    operation: Mapped[str] = mapped_column(String(50))
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)

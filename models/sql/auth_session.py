import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from models.sql.base import Base, UuidPrimaryKey, utcnow


class AuthSession(UuidPrimaryKey, Base):
    """One login: the refresh token that keeps it going, and whether it has ended.

    Access tokens name their session (`sid`), so `logout` (or a reused, already rotated
    refresh token) ends every token of that login, not only the refresh token. Only a hash
    of the current refresh secret is kept; each refresh replaces it."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index(None, "user_id"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    refresh_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)
    refreshed_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

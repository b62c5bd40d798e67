import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from models.enums import UserRole
from models.sql.base import Base, UuidPrimaryKey, utcnow
from models.sql.types import pg_enum


class Invite(UuidPrimaryKey, Base):
    """An admin's invitation of an email address to the organization, with a role.

    Only the SHA-256 of the token is kept (it carries 256 random bits, like a refresh token).
    It works once: `accepted_at` is set, under a row lock, by the acceptance that creates
    the user."""

    __tablename__ = "invites"
    __table_args__ = (Index(None, "organization_id", "email"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[UserRole] = mapped_column(pg_enum(UserRole, "user_role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.enums import UserRole
from models.sql.base import Base, Timestamps, UuidPrimaryKey
from models.sql.types import pg_enum


class User(UuidPrimaryKey, Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        Index(None, "organization_id", "role"),
        # A handle is unique within its organization (NULLs, "none chosen", do not collide).
        UniqueConstraint("organization_id", "username"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    # Login is by email, so an email names one user across all organizations.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[UserRole] = mapped_column(pg_enum(UserRole, "user_role"))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    username: Mapped[str | None] = mapped_column(String(100))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    last_login_at: Mapped[datetime | None]
    # Validated on the way in (`resolvers.identity.preferences`); stored as given so that a
    # new preference needs no migration.
    preferences: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")

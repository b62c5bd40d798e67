from datetime import datetime

from sqlalchemy import String, func
from sqlalchemy.orm import Mapped, mapped_column

from models.sql.base import Base, UuidPrimaryKey, utcnow


class Organization(UuidPrimaryKey, Base):
    """A tenant. Every other row carries its `organization_id`."""

    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)

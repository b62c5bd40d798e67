import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.sql.base import Base, UuidPrimaryKey, utcnow


class Notification(UuidPrimaryKey, Base):
    """Something a person is told in the app: a run of a workflow they own ended, or an
    approval waits on them. Written in the transaction of the change it tells of."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The recipient's log, in the order they are told: the list and the subscription's
        # cursor. Numbers are per recipient, allocated under `NotificationCounter`'s row lock.
        Index(None, "user_id", "seq", unique=True),
        Index(None, "execution_id"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(40))
    execution_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("executions.id", ondelete="CASCADE")
    )
    # The workflow lives in MongoDB: no foreign key. Kept so that reads can apply the
    # workflow's visibility without loading the execution.
    workflow_id: Mapped[uuid.UUID | None]
    message: Mapped[str] = mapped_column(String(500))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)
    read_at: Mapped[datetime | None]


class NotificationCounter(Base):
    """Each recipient's last notification number. Incremented with an upsert whose row lock
    lasts until the transaction commits, so a recipient's numbers are gap-free and in commit
    order: a subscriber resuming after number n misses nothing."""

    __tablename__ = "notification_counters"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    last_seq: Mapped[int] = mapped_column(BigInteger)

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.enums import WebhookDeliveryStatus
from models.sql.base import Base, Timestamps, UuidPrimaryKey, utcnow


class WorkflowWebhook(Timestamps, Base):
    """Where a workflow's notifications are POSTed, and the secret that signs them. Kept in
    PostgreSQL, not in the workflow document: the document is copied into versions and
    audit summaries, and the secret must never be read back."""

    __tablename__ = "workflow_webhooks"

    workflow_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    url: Mapped[str] = mapped_column(String(2000))
    # Needed in clear to sign (HMAC): it cannot be hashed like a password.
    secret: Mapped[str] = mapped_column(String(200))
    updated_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class WebhookDelivery(UuidPrimaryKey, Base):
    """One event to POST to a workflow's webhook: queued in the transaction of the change it
    tells of, then sent (and retried with backoff) by the background deliverer. The id is
    sent with every attempt, so a receiver can drop a repeat."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # What the deliverer claims: due, pending deliveries.
        Index(
            None,
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index(None, "workflow_id", "created_at", "id"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    workflow_id: Mapped[uuid.UUID]
    execution_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("executions.id", ondelete="CASCADE")
    )
    event: Mapped[str] = mapped_column(String(40))
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20), default=WebhookDeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)
    delivered_at: Mapped[datetime | None]


class WebhookAttempt(Base):
    """One try at a delivery, as it went: the delivery log."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index(None, "delivery_id", "attempt"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    attempt: Mapped[int]
    url: Mapped[str] = mapped_column(String(2000))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)

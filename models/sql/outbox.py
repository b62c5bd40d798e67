import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.sql.base import Base, utcnow


class ExecutionOutboxEntry(Base):
    """An execution event committed in PostgreSQL, with the state change it describes, and
    not yet written to the MongoDB event log and trace (the transactional outbox).

    The lifecycle writes the row, the event and the outbox entry in one PostgreSQL
    transaction, then delivers the entry to MongoDB and deletes it. An entry that outlives a
    failed delivery is delivered later, in sequence order, by the next call for the same
    execution, by the background relay or by `flowgate doctor`."""

    __tablename__ = "execution_outbox"
    __table_args__ = (Index(None, "execution_id", "seq", unique=True),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    execution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"))
    seq: Mapped[int]
    event: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)

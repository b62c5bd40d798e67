import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, String, Text, Uuid, func, text
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from models.sql.base import Base, utcnow


class SearchDocumentRow(Base):
    """One searchable object in the PostgreSQL full-text backend (`flowgate.search.postgres`):
    an agent, a workflow, an execution or an execution event, flattened to text.

    The vectors are computed by the backend when it writes the row (not a generated column),
    so the weights and the text configuration live in one place, next to the queries that
    must use the same ones. `english_vector` matches words (stemmed); `simple_vector` holds
    the same text unstemmed, for prefix matching of the word being typed."""

    __tablename__ = "search_documents"
    __table_args__ = (
        Index(None, "english_vector", postgresql_using="gin"),
        Index(None, "simple_vector", postgresql_using="gin"),
        Index(None, "organization_id", "type"),
        # An execution's events are replaced together; retention deletes old events.
        Index(None, "parent_id"),
        Index(None, "type", "updated_at"),
    )

    # "Agent:<uuid>", "ExecutionEvent:<uuid>": one row per object, whatever its type.
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[uuid.UUID]
    # The execution of an execution event; None for the other types.
    parent_id: Mapped[uuid.UUID | None]
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(50))
    category: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list[str]] = mapped_column(
        ARRAY(String(100)), default=list, server_default=text("'{}'")
    )
    # Users who may read a restricted object (a workflow that is not public); None: the
    # whole organization may.
    readers: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(Uuid))
    updated_at: Mapped[datetime]
    english_vector: Mapped[str] = mapped_column(TSVECTOR)
    simple_vector: Mapped[str] = mapped_column(TSVECTOR)


class SearchOutboxEntry(Base):
    """An object whose search document is stale: written in the same PostgreSQL transaction
    as the change (or right after a MongoDB change, with its audit row), and deleted by the
    indexer (`flowgate.search.indexer`) once the index holds the object as it is now. An
    index that is down leaves the entries here until it returns."""

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)

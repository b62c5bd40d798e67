import uuid
from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel

from models.enums import ExecutionEventType
from models.sql.base import utcnow

# How long the event log keeps an execution's events. Subscribers resuming from an older
# cursor are told to resynchronise instead of silently missing events.
EVENT_RETENTION_SECONDS = 90 * 24 * 3600


class EventProgress(BaseModel):
    done: int = 0
    total: int = 0


class ExecutionEvent(Document):
    """One entry of an execution's append-only event log. `seq` is gap-free and unique per
    execution: it is the subscription cursor and the replay order."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4)  # type: ignore[assignment]
    organization_id: uuid.UUID
    execution_id: uuid.UUID
    seq: int
    type: ExecutionEventType
    node_id: str | None = None
    status: str | None = None
    progress: EventProgress | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)
    # Who caused it: the user (a person, or whose API key an engine used), `user` | `api_key`
    # | `system` (the gateway itself: a timeout), and the client's address when known.
    actor_id: uuid.UUID | None = None
    actor_type: str | None = None
    client_address: str | None = None

    class Settings:
        name = "execution_events"
        indexes = [
            IndexModel(
                [("execution_id", ASCENDING), ("seq", ASCENDING)],
                unique=True,
                name="execution_seq_unique",
            ),
            IndexModel(
                [("created_at", ASCENDING)],
                expireAfterSeconds=EVENT_RETENTION_SECONDS,
                name="created_at_ttl",
            ),
        ]

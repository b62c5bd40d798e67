"""Execution events as they travel: built in the lifecycle's PostgreSQL transaction, kept
as JSON in the outbox, then stored as `ExecutionEvent` documents in MongoDB."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from models.documents import ExecutionEvent
from models.documents.execution_event import EventProgress
from models.enums import ExecutionEventType
from models.sql import Execution, ExecutionOutboxEntry
from models.sql.base import utcnow

if TYPE_CHECKING:
    from flowgate.principal import Actor


@dataclass
class PendingEvent:
    """An event about to be committed with its execution's change."""

    type: ExecutionEventType
    status: str | None = None
    node_id: str | None = None
    progress: tuple[int, int] | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    # For the trace: a step to start or finish, or the trace's identity on the first event.
    step: dict[str, Any] | None = None
    created_at: datetime = field(default_factory=utcnow)


def to_outbox(
    execution: Execution, events: list[PendingEvent], actor: Actor
) -> list[ExecutionOutboxEntry]:
    """Number the events after the execution's last one and turn them into outbox entries;
    the caller holds the execution row's lock, so the numbers are the next ones. Each event
    names who caused it and from where (`actor`): a person, an engine's key, or the gateway."""
    entries = []
    for event in events:
        execution.last_event_seq += 1
        entries.append(
            ExecutionOutboxEntry(
                organization_id=execution.organization_id,
                execution_id=execution.id,
                seq=execution.last_event_seq,
                event={
                    "type": event.type.value,
                    "status": event.status,
                    "node_id": event.node_id,
                    "progress": list(event.progress) if event.progress else None,
                    "payload": event.payload,
                    "step": event.step,
                    "created_at": event.created_at.isoformat(),
                    "agent_id": str(execution.agent_id),
                    "workflow_id": str(execution.workflow_id) if execution.workflow_id else None,
                    "actor": {
                        "user_id": str(actor.user_id) if actor.user_id else None,
                        "kind": actor.kind,
                        "address": actor.address,
                    },
                },
            )
        )
    return entries


def to_document(entry: ExecutionOutboxEntry) -> ExecutionEvent:
    data = entry.event
    progress = data.get("progress")
    actor = data.get("actor") or {}  # absent from entries written before actors were kept
    return ExecutionEvent(
        organization_id=entry.organization_id,
        execution_id=entry.execution_id,
        seq=entry.seq,
        type=ExecutionEventType(data["type"]),
        node_id=data.get("node_id"),
        status=data.get("status"),
        progress=EventProgress(done=progress[0], total=progress[1]) if progress else None,
        payload=data.get("payload") or {},
        created_at=datetime.fromisoformat(data["created_at"]),
        actor_id=uuid.UUID(actor["user_id"]) if actor.get("user_id") else None,
        actor_type=actor.get("kind"),
        client_address=actor.get("address"),
    )


def event_id(execution_id: uuid.UUID, seq: int) -> uuid.UUID:
    """A deterministic id: a redelivered event is the same document, not a second one."""
    return uuid.uuid5(execution_id, str(seq))

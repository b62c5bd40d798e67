"""Filling an `executionUpdates` stream's gap after a bus outage: the status changes stored
in the event log since the outage began, as the bus would have carried them.

A dashboard subscriber on a replica that missed messages (Redis down or stalled) is told so
by a RESYNC that names since when; it reads the status changes from then on and sends the
ones it has not sent. More than `GAP_LIMIT` of them is more than a stream should replay: the
stream then ends with RESYNC_REQUIRED, and the client refetches its list."""

from __future__ import annotations

import uuid
from collections import deque
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from flowgate.bus.message import BusMessage
from flowgate.services import Services
from models.documents import ExecutionEvent
from models.enums import ExecutionEventType
from models.sql import Execution
from resolvers.errors import ClientError

GAP_LIMIT = 1000
SEEN_LIMIT = 4096


class ResyncRequiredError(ClientError):
    """Too much was missed to replay: refetch, then subscribe again."""

    code = "RESYNC_REQUIRED"


class Seen:
    """The (execution, seq) pairs a stream sent lately: neither a late live message nor a
    gap read sends one twice."""

    def __init__(self) -> None:
        self._order: deque[tuple[str, int]] = deque()
        self._set: set[tuple[str, int]] = set()

    def add(self, message: BusMessage) -> bool:
        """Record the message; whether it is new."""
        key = (str(message.execution_id), message.seq)
        if key in self._set:
            return False
        self._order.append(key)
        self._set.add(key)
        if len(self._order) > SEEN_LIMIT:
            self._set.discard(self._order.popleft())
        return True


async def missed_status_changes(
    services: Services, organization_id: uuid.UUID, since: float
) -> list[BusMessage]:
    """The organization's status changes stored since `since` (epoch seconds), oldest
    first, shaped like the bus's messages (with agent and workflow, for the filters)."""
    events = (
        await ExecutionEvent.find(
            {
                "organization_id": organization_id,
                "type": ExecutionEventType.STATUS_CHANGED.value,
                "created_at": {"$gte": datetime.fromtimestamp(since, UTC)},
            }
        )
        .sort("+created_at", "+seq")
        .limit(GAP_LIMIT + 1)
        .to_list()
    )
    if len(events) > GAP_LIMIT:
        raise ResyncRequiredError(
            "Too many changes were missed while live updates were interrupted: refetch, "
            "then subscribe again"
        )
    owners: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID | None]] = {}
    if events:
        async with services.postgres.session() as session:
            rows = await session.execute(
                select(Execution.id, Execution.agent_id, Execution.workflow_id).where(
                    Execution.id.in_({event.execution_id for event in events})
                )
            )
            owners = {row[0]: (row[1], row[2]) for row in rows}
    messages = []
    for event in events:
        if event.execution_id not in owners:
            continue  # deleted since
        agent_id, workflow_id = owners[event.execution_id]
        message: dict[str, Any] = event.model_dump(mode="json", exclude={"id"})
        message["agent_id"] = str(agent_id)
        message["workflow_id"] = str(workflow_id) if workflow_id else None
        messages.append(BusMessage.from_body(message))
    return messages

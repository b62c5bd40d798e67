"""Delivering committed execution events from the PostgreSQL outbox to MongoDB: the event
log first, then the trace. Every step is idempotent (see `resolvers.lifecycle`)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

import structlog
from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError
from sqlalchemy import delete, select

from flowgate.bus.message import BusMessage
from flowgate.services import Services
from flowgate.stores.errors import unreachable_store
from flowgate.stores.postgres import describe
from models.documents import ExecutionEvent, ExecutionStep, ExecutionTrace
from models.enums import ExecutionEventType, NodeType, StepStatus
from models.sql import ExecutionOutboxEntry
from resolvers.lifecycle.events import event_id, to_document

log = structlog.get_logger(__name__)

DELIVERY_BATCH = 500
_reported_stuck: set[uuid.UUID] = set()
_outage = asyncio.Event()  # a flag shared by every deliverer of the process


class OutOfOrderError(Exception):
    """An event arrived before its predecessor was applied; delivery stops and retries."""


async def deliver(
    services: Services, *, execution_id: uuid.UUID | None = None
) -> list[ExecutionEvent]:
    """Deliver what the outbox holds (for one execution, or all), each execution's entries
    in sequence order; returns what it stored. An execution whose next event cannot be
    applied yet stops only itself: the others are delivered. A store that cannot be reached
    stops the pass (every execution would wait for it the same way). An entry is deleted
    only once MongoDB acknowledged it under the configured write concern (durable, by
    default): until then, it is what the next delivery or `flowgate doctor` works from."""
    query = select(ExecutionOutboxEntry).order_by(
        ExecutionOutboxEntry.execution_id, ExecutionOutboxEntry.seq
    )
    if execution_id is not None:
        query = query.where(ExecutionOutboxEntry.execution_id == execution_id)
    async with services.postgres.session() as session:
        entries = list((await session.scalars(query.limit(DELIVERY_BATCH))).all())
    delivered: list[ExecutionEvent] = []
    done: list[int] = []
    stuck: dict[uuid.UUID, str] = {}
    try:
        for entry in entries:
            if entry.execution_id in stuck:
                continue
            try:
                event, stored_here = await _deliver(entry)
            except (OutOfOrderError, OperationFailure) as error:
                if unreachable_store(error):
                    raise
                stuck[entry.execution_id] = str(error)
                continue
            delivered.append(event)
            done.append(entry.id)
            # Stored first, published second: a subscriber that hears of an event can
            # always read it, and one that misses the message still finds it in the log.
            # Only the deliverer whose insert stored the event publishes it, so a request
            # and the relay racing over one entry announce it once.
            if stored_here:
                services.bus.publish_soon(bus_message(entry, event))
    except PyMongoError as error:
        _outage_began(error)
    else:
        if done:
            _outage_ended()
    finally:
        if done:
            async with services.postgres.session() as session, session.begin():
                await session.execute(
                    delete(ExecutionOutboxEntry).where(ExecutionOutboxEntry.id.in_(done))
                )
    _report_stuck(stuck)
    return delivered


# One line when an outage begins, one when it ends: not one per call and relay pass.
def _outage_began(error: PyMongoError) -> None:
    if not _outage.is_set():
        _outage.set()
        log.warning("outbox delivery paused: MongoDB unavailable", error=describe(error))


def _outage_ended() -> None:
    if _outage.is_set():
        _outage.clear()
        log.info("outbox delivery resumed")


def _report_stuck(stuck: dict[uuid.UUID, str]) -> None:
    """Left for `flowgate doctor`, which says what blocks them; the others went on. Said
    once per execution and process, not on every relay pass."""
    for stuck_id, reason in stuck.items():
        if stuck_id not in _reported_stuck:
            _reported_stuck.add(stuck_id)
            log.warning("outbox delivery blocked", execution_id=str(stuck_id), error=reason)


def bus_message(entry: ExecutionOutboxEntry, event: ExecutionEvent) -> BusMessage:
    """What the bus carries: the stored event, plus the execution's agent and workflow so
    dashboards can filter without a lookup."""
    message: dict[str, Any] = event.model_dump(mode="json", exclude={"id"})
    message["agent_id"] = entry.event.get("agent_id")
    message["workflow_id"] = entry.event.get("workflow_id")
    return BusMessage.from_body(message)


async def _deliver(entry: ExecutionOutboxEntry) -> tuple[ExecutionEvent, bool]:
    """Store the event and apply it to the trace; whether this call is what stored it."""
    event = to_document(entry)
    event.id = event_id(entry.execution_id, entry.seq)
    try:
        await ExecutionEvent.get_pymongo_collection().insert_one(event.model_dump(by_alias=True))
        stored_here = True
    except DuplicateKeyError:
        stored_here = False  # delivered before; the trace step below is conditional too
    await _apply_to_trace(entry)
    return event, stored_here


async def _apply_to_trace(entry: ExecutionOutboxEntry) -> None:
    traces = ExecutionTrace.get_pymongo_collection()
    data = entry.event
    if entry.seq == 1:
        await traces.update_one(
            {"execution_id": entry.execution_id},
            {
                "$setOnInsert": {
                    "_id": entry.execution_id,
                    "organization_id": entry.organization_id,
                    "execution_id": entry.execution_id,
                    "agent_id": uuid.UUID(data["agent_id"]),
                    "workflow_id": uuid.UUID(data["workflow_id"]) if data["workflow_id"] else None,
                    "applied_seq": 0,
                    "current_node": None,
                    "variables": {},
                    "steps": [],
                }
            },
            upsert=True,
        )
    document = await traces.find_one({"execution_id": entry.execution_id})
    if document is None:
        raise OutOfOrderError(f"no trace yet for execution {entry.execution_id}")
    applied = document.get("applied_seq", 0)
    if applied >= entry.seq:
        return
    if applied != entry.seq - 1:
        raise OutOfOrderError(f"trace at {applied}, event {entry.seq}")
    steps, current = _applied(document.get("steps", []), document.get("current_node"), data)
    await traces.update_one(
        {"execution_id": entry.execution_id, "applied_seq": applied},
        {"$set": {"steps": steps, "current_node": current, "applied_seq": entry.seq}},
    )


def _applied(
    steps: list[dict[str, Any]], current: str | None, data: dict[str, Any]
) -> tuple[list[dict[str, Any]], str | None]:
    """The trace's steps and current node after one event."""
    kind = ExecutionEventType(data["type"])
    step = data.get("step")
    if kind is ExecutionEventType.STEP_STARTED and step is not None:
        started = ExecutionStep(
            node_id=step["node_id"],
            node_type=NodeType(step["node_type"]),
            status=StepStatus.STARTED,
            attempt=step.get("attempt", 1),
            started_at=datetime.fromisoformat(step["started_at"]),
            input=step.get("input"),
        )
        return [*steps, started.model_dump()], step["node_id"]
    if kind is ExecutionEventType.STEP_FINISHED and step is not None:
        finished = ExecutionStep(
            node_id=step["node_id"],
            node_type=NodeType(step["node_type"]),
            status=StepStatus(step["status"]),
            attempt=step.get("attempt", 1),
            started_at=datetime.fromisoformat(step["started_at"]),
            ended_at=datetime.fromisoformat(step["ended_at"]),
            duration_ms=step.get("duration_ms"),
            input=step.get("input"),
            output=step.get("output"),
            error=step.get("error"),
            ai_provider=step.get("ai_provider"),
            tokens=step.get("tokens", 0),
            prompt_tokens=step.get("prompt_tokens"),
            completion_tokens=step.get("completion_tokens"),
            cost=step.get("cost", 0.0),
        ).model_dump()
        # A step reported as started earlier is completed in place; otherwise appended.
        for index in range(len(steps) - 1, -1, -1):
            if steps[index]["node_id"] == step["node_id"] and steps[index]["status"] == "started":
                finished["started_at"] = steps[index]["started_at"]
                finished["input"] = finished["input"] or steps[index].get("input")
                return [*steps[:index], finished, *steps[index + 1 :]], None
        return [*steps, finished], None
    if kind is ExecutionEventType.STATUS_CHANGED and data.get("status") in {
        "succeeded",
        "failed",
        "cancelled",
    }:
        return steps, None
    return steps, current

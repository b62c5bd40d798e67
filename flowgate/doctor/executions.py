"""Executions across the two stores: the outbox, the trace and the event log.

PostgreSQL is read first, in one statement (each execution's `last_event_seq` with the
first sequence number its outbox still holds), MongoDB second. An outbox entry is deleted
only after MongoDB acknowledged its event and the trace, so every event numbered below what
the outbox holds was delivered before that read, and the later MongoDB read must find it:
one that is missing was lost by the document store, not merely in flight. Each candidate
is read again before it is repaired, and every repair is conditional on what was read."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from flowgate.services import Services
from models.documents import ExecutionEvent, ExecutionTrace
from models.enums import ExecutionEventType, ExecutionStatus
from models.sql import Execution, ExecutionOutboxEntry
from models.sql.base import utcnow
from resolvers.lifecycle.events import event_id
from resolvers.lifecycle.outbox import deliver

if TYPE_CHECKING:
    from flowgate.doctor import Report

# Passes of delivery one repair makes at most (new entries keep coming while it serves).
MAX_PASSES = 20
# Seconds between the two reads of the outbox: far longer than a request's own delivery.
SETTLE_SECONDS = 2.0


async def check_outbox(services: Services, report: Report, repair: bool) -> None:
    # An entry that is gone a moment later was in flight (a request was delivering it),
    # not undelivered: only entries present at both reads are findings.
    first = await _pending_entries(services)
    if first:
        await asyncio.sleep(SETTLE_SECONDS)
    stuck: dict[uuid.UUID, set[int]] = {}
    for entry_id, execution_id in (await _pending_entries(services)).items():
        if entry_id in first:
            stuck.setdefault(execution_id, set()).add(entry_id)
    if repair and stuck:
        for _ in range(MAX_PASSES):
            if not await deliver(services):
                break
        left = await _pending_entries(services)
        for execution_id in {left[entry_id] for entry_id in left if entry_id in first}:
            if await _unblock(services, report, execution_id):
                await deliver(services, execution_id=execution_id)
    left = await _pending_entries(services)
    for execution_id, entries in stuck.items():
        report.add(
            "undelivered events",
            execution_id,
            f"{len(entries)} event(s) committed in PostgreSQL but not in the MongoDB log",
            repaired=not entries & set(left),
        )


async def check_executions(services: Services, report: Report, repair: bool) -> None:
    rows = await _executions(services)
    traces = ExecutionTrace.get_pymongo_collection()
    applied = {
        doc["execution_id"]: doc.get("applied_seq", 0)
        async for doc in traces.find({}, {"execution_id": 1, "applied_seq": 1})
    }
    pipeline = [{"$group": {"_id": "$execution_id", "last": {"$max": "$seq"}}}]
    cursor = await ExecutionEvent.get_pymongo_collection().aggregate(pipeline)
    logged = {row["_id"]: row["last"] async for row in cursor}
    for execution_id, row in rows.items():
        expected = _delivered(row)
        if expected and applied.get(execution_id, 0) < expected:
            await _behind(services, report, repair, execution_id)
        if logged.get(execution_id, 0) > row["last_event_seq"]:
            await _ahead(services, report, repair, execution_id, logged[execution_id])


def _delivered(row: dict[str, Any]) -> int:
    """The last sequence number that must be in MongoDB: all below what the outbox holds."""
    first_pending = row["first_pending"]
    return int(first_pending - 1 if first_pending is not None else row["last_event_seq"])


async def _behind(
    services: Services, report: Report, repair: bool, execution_id: uuid.UUID
) -> None:
    row = (await _executions(services, execution_id)).get(execution_id)
    trace = await ExecutionTrace.get_pymongo_collection().find_one({"execution_id": execution_id})
    applied = trace.get("applied_seq", 0) if trace else 0
    if row is None or applied >= _delivered(row):
        return  # deleted, or caught up meanwhile: it was in flight
    expected = _delivered(row)
    lost = await _missing_from_log(execution_id, applied, expected)
    rebuilt = repair and await _rebuild_final_status(row, lost)
    if rebuilt:
        lost.remove(row["last_event_seq"])
    if repair:
        await _advance_trace(row, trace, applied, expected)
    kind = "execution without trace" if trace is None else "event log behind"
    report.add(
        kind,
        execution_id,
        f"trace at {applied}, PostgreSQL delivered {expected}"
        + (f"; final status {row['status'].value} rebuilt from PostgreSQL" if rebuilt else ""),
        repaired=repair,
    )
    if lost:
        numbers = ", ".join(str(seq) for seq in lost)
        report.add(
            "events lost",
            execution_id,
            f"event(s) {numbers} were acknowledged but are neither in MongoDB nor in the "
            "outbox: they cannot be rebuilt (the trace lacks their steps)",
            repaired=False,
        )


async def _ahead(
    services: Services, report: Report, repair: bool, execution_id: uuid.UUID, stored: int
) -> None:
    # The log was read after the rows: events committed in between are in it. Only a row
    # that is still behind, read now, disagrees.
    row = (await _executions(services, execution_id)).get(execution_id)
    if row is None or row["last_event_seq"] >= stored:
        return
    if repair:
        async with services.postgres.session() as session, session.begin():
            execution = await session.get(Execution, execution_id, with_for_update=True)
            if execution is not None:
                # Never lowered: the row may have moved on since the log was read.
                execution.last_event_seq = max(execution.last_event_seq, stored)
    report.add(
        "event log ahead", execution_id, f"log ends at {stored}, row behind", repaired=repair
    )


async def _unblock(services: Services, report: Report, execution_id: uuid.UUID) -> bool:
    """An execution whose outbox cannot be delivered because the trace misses events that
    are gone: advance the trace past them; whether delivery may go on."""
    row = (await _executions(services, execution_id)).get(execution_id)
    if row is None or row["first_pending"] is None:
        return False
    trace = await ExecutionTrace.get_pymongo_collection().find_one({"execution_id": execution_id})
    applied = trace.get("applied_seq", 0) if trace else 0
    expected = _delivered(row)
    if applied >= expected:
        return False  # not blocked by a gap: MongoDB refused or failed; reported as pending
    lost = await _missing_from_log(execution_id, applied, expected)
    await _advance_trace(row, trace, applied, expected)
    report.add(
        "delivery blocked",
        execution_id,
        f"trace at {applied}, next event {expected + 1}: trace advanced, delivery resumed",
        repaired=True,
    )
    if lost:
        report.add(
            "events lost",
            execution_id,
            f"event(s) {', '.join(map(str, lost))} are neither in MongoDB nor in the outbox: "
            "they cannot be rebuilt",
            repaired=False,
        )
    return True


async def _missing_from_log(execution_id: uuid.UUID, applied: int, expected: int) -> list[int]:
    present = set(
        await ExecutionEvent.get_pymongo_collection().distinct(
            "seq", {"execution_id": execution_id, "seq": {"$gt": applied, "$lte": expected}}
        )
    )
    return [seq for seq in range(applied + 1, expected + 1) if seq not in present]


async def _rebuild_final_status(row: dict[str, Any], lost: list[int]) -> bool:
    """A finished execution whose last event (its final status) was lost: the row says
    what it was, and subscribers need it to end their streams."""
    status: ExecutionStatus = row["status"]
    if not status.is_terminal or row["last_event_seq"] not in lost or row["first_pending"]:
        return False
    event = ExecutionEvent(
        organization_id=row["organization_id"],
        execution_id=row["id"],
        seq=row["last_event_seq"],
        type=ExecutionEventType.STATUS_CHANGED,
        status=status.value,
        payload={"rebuilt": "from PostgreSQL by flowgate doctor"},
        created_at=row["ended_at"] or utcnow(),
    )
    event.id = event_id(row["id"], row["last_event_seq"])
    await ExecutionEvent.get_pymongo_collection().update_one(
        {"_id": event.id}, {"$setOnInsert": event.model_dump(by_alias=True)}, upsert=True
    )
    return True


async def _advance_trace(
    row: dict[str, Any], trace: dict[str, Any] | None, applied: int, expected: int
) -> None:
    traces = ExecutionTrace.get_pymongo_collection()
    if trace is None:
        await traces.update_one(
            {"execution_id": row["id"]},
            {
                "$setOnInsert": {
                    "_id": row["id"],
                    "organization_id": row["organization_id"],
                    "execution_id": row["id"],
                    "agent_id": row["agent_id"],
                    "workflow_id": row["workflow_id"],
                    "applied_seq": expected,
                    "current_node": None,
                    "variables": {},
                    "steps": [],
                }
            },
            upsert=True,
        )
        return
    # Conditional: a deliverer that moved the trace on since it was read wins.
    await traces.update_one(
        {"execution_id": row["id"], "applied_seq": applied}, {"$set": {"applied_seq": expected}}
    )


async def _pending_entries(services: Services) -> dict[int, uuid.UUID]:
    """The outbox: each entry's id and its execution's."""
    async with services.postgres.session() as session:
        rows = await session.execute(
            select(ExecutionOutboxEntry.id, ExecutionOutboxEntry.execution_id)
        )
        return {row[0]: row[1] for row in rows}


async def _executions(
    services: Services, execution_id: uuid.UUID | None = None
) -> dict[uuid.UUID, dict[str, Any]]:
    """Each execution with the first sequence number its outbox holds: one statement, so
    one snapshot of both."""
    first_pending = (
        select(func.min(ExecutionOutboxEntry.seq))
        .where(ExecutionOutboxEntry.execution_id == Execution.id)
        .scalar_subquery()
    )
    query = select(
        Execution.id,
        Execution.organization_id,
        Execution.agent_id,
        Execution.workflow_id,
        Execution.status,
        Execution.ended_at,
        Execution.last_event_seq,
        first_pending.label("first_pending"),
    )
    if execution_id is not None:
        query = query.where(Execution.id == execution_id)
    async with services.postgres.session() as session:
        rows = (await session.execute(query)).mappings().all()
    return {row["id"]: dict(row) for row in rows}

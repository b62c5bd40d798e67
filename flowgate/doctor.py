"""`flowgate doctor`: find where PostgreSQL and MongoDB disagree, and repair what is safe.

What it checks, and what `repair` does about it:
- outbox entries not yet delivered (a failure between the two writes): delivered.
- executions whose trace is missing while nothing is pending for them: the trace is rebuilt
  empty at the execution's last event (its history is in the event log, not lost).
- traces (and event logs) of executions that do not exist: deleted, since every trace is
  written after its execution's row commits, so the row was deleted since.
- flowcharts of agents that do not exist: deleted. Flowcharts of soft-deleted agents are
  reported only: the agent may be restored.
- agent counters (`execution_count`, `last_execution_at`) that disagree with the agent's
  executions: recomputed in one UPDATE.
- executions whose event log ends before `last_event_seq` with nothing pending: reported
  (events cannot be invented); a log that goes beyond it: `last_event_seq` is raised to
  match, so the next event is numbered after the last one stored.
- idempotency keys past their retention: purged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select, update

from flowgate.services import Services
from models.documents import ExecutionEvent, ExecutionTrace, Flowchart
from models.sql import Agent, Execution, ExecutionOutboxEntry
from resolvers.lifecycle.idempotency import purge_expired
from resolvers.lifecycle.outbox import deliver_pending


@dataclass
class Finding:
    kind: str
    object_id: str
    detail: str
    repaired: bool = False


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def add(self, kind: str, object_id: object, detail: str, *, repaired: bool) -> None:
        self.findings.append(Finding(kind, str(object_id), detail, repaired))

    @property
    def unrepaired(self) -> list[Finding]:
        return [finding for finding in self.findings if not finding.repaired]


async def examine(services: Services, *, repair: bool) -> Report:
    report = Report()
    await _outbox(services, report, repair)
    await _traces(services, report, repair)
    await _flowcharts(services, report, repair)
    await _agent_counters(services, report, repair)
    await _event_logs(services, report, repair)
    if repair:
        async with services.postgres.session() as session, session.begin():
            await purge_expired(session)
    return report


async def _outbox(services: Services, report: Report, repair: bool) -> None:
    async with services.postgres.session() as session:
        rows = (
            await session.execute(
                select(ExecutionOutboxEntry.execution_id, func.count()).group_by(
                    ExecutionOutboxEntry.execution_id
                )
            )
        ).all()
    if repair and rows:
        while await deliver_pending(services):
            pass
    async with services.postgres.session() as session:
        left = set(
            (await session.scalars(select(ExecutionOutboxEntry.execution_id).distinct())).all()
        )
    for execution_id, count in rows:
        report.add(
            "undelivered events",
            execution_id,
            f"{count} event(s) committed in PostgreSQL but not in the MongoDB log",
            repaired=execution_id not in left,
        )


async def _traces(services: Services, report: Report, repair: bool) -> None:
    async with services.postgres.session() as session:
        executions = {
            row[0]: row[1:]
            for row in (
                await session.execute(
                    select(
                        Execution.id,
                        Execution.organization_id,
                        Execution.agent_id,
                        Execution.workflow_id,
                        Execution.last_event_seq,
                    )
                )
            ).all()
        }
        pending = set(
            (await session.scalars(select(ExecutionOutboxEntry.execution_id).distinct())).all()
        )
    traces = ExecutionTrace.get_pymongo_collection()
    traced: set[uuid.UUID] = set(await traces.distinct("execution_id"))
    for execution_id in set(executions) - traced - pending:
        organization_id, agent_id, workflow_id, last_seq = executions[execution_id]
        if repair:
            await traces.update_one(
                {"execution_id": execution_id},
                {
                    "$setOnInsert": {
                        "_id": execution_id,
                        "organization_id": organization_id,
                        "execution_id": execution_id,
                        "agent_id": agent_id,
                        "workflow_id": workflow_id,
                        "applied_seq": last_seq,
                        "current_node": None,
                        "variables": {},
                        "steps": [],
                    }
                },
                upsert=True,
            )
        report.add("execution without trace", execution_id, "no trace in MongoDB", repaired=repair)
    for execution_id in traced - set(executions):
        if repair:
            await traces.delete_many({"execution_id": execution_id})
            await ExecutionEvent.get_pymongo_collection().delete_many(
                {"execution_id": execution_id}
            )
        report.add("trace without execution", execution_id, "no row in PostgreSQL", repaired=repair)


async def _flowcharts(services: Services, report: Report, repair: bool) -> None:
    async with services.postgres.session() as session:
        agents = dict((await session.execute(select(Agent.id, Agent.deleted_at))).all())
    collection = Flowchart.get_pymongo_collection()
    for agent_id in await collection.distinct("agent_id"):
        if agent_id not in agents:
            if repair:
                await collection.delete_many({"agent_id": agent_id})
            report.add(
                "flowchart without agent", agent_id, "the agent does not exist", repaired=repair
            )
        elif agents[agent_id] is not None:
            report.add(
                "flowchart of a deleted agent",
                agent_id,
                "kept: the agent may be restored",
                repaired=False,
            )


async def _agent_counters(services: Services, report: Report, repair: bool) -> None:
    counts = (
        select(
            Execution.agent_id.label("agent_id"),
            func.count().label("n"),
            func.max(Execution.started_at).label("last"),
        )
        .group_by(Execution.agent_id)
        .subquery()
    )
    actual_count = func.coalesce(counts.c.n, 0)
    wrong = (
        select(Agent.id, Agent.execution_count, actual_count, counts.c.last)
        .outerjoin(counts, counts.c.agent_id == Agent.id)
        .where(
            or_(
                Agent.execution_count != actual_count,
                Agent.last_execution_at.is_distinct_from(counts.c.last),
            )
        )
    )
    async with services.postgres.session() as session, session.begin():
        rows = (await session.execute(wrong)).all()
        for agent_id, stored, actual, last in rows:
            if repair:
                await session.execute(
                    update(Agent)
                    .where(and_(Agent.id == agent_id))
                    .values(execution_count=actual, last_execution_at=last)
                )
            report.add(
                "agent counters",
                agent_id,
                f"execution_count {stored}, executions {actual}",
                repaired=repair,
            )


async def _event_logs(services: Services, report: Report, repair: bool) -> None:
    pipeline = [{"$group": {"_id": "$execution_id", "last": {"$max": "$seq"}}}]
    cursor = await ExecutionEvent.get_pymongo_collection().aggregate(pipeline)
    logged = {row["_id"]: row["last"] async for row in cursor}
    async with services.postgres.session() as session:
        rows = (await session.execute(select(Execution.id, Execution.last_event_seq))).all()
        pending = set(
            (await session.scalars(select(ExecutionOutboxEntry.execution_id).distinct())).all()
        )
    ahead: dict[uuid.UUID, int] = {}
    for execution_id, last_seq in rows:
        stored = logged.get(execution_id, 0)
        if execution_id not in pending and stored < last_seq:
            report.add(
                "event log behind",
                execution_id,
                f"log ends at {stored}, row at {last_seq}",
                repaired=False,
            )
        elif stored > last_seq:
            ahead[execution_id] = stored
            report.add(
                "event log ahead",
                execution_id,
                f"log ends at {stored}, row at {last_seq}",
                repaired=repair,
            )
    if repair and ahead:
        async with services.postgres.session() as session, session.begin():
            for execution_id, stored in ahead.items():
                await session.execute(
                    update(Execution)
                    .where(Execution.id == execution_id)
                    .values(last_event_seq=stored)
                )

"""Documents whose PostgreSQL owner does not exist: traces (with their event logs) of
executions, flowcharts of agents.

MongoDB is read first, PostgreSQL second: a trace is written only after its execution's
row committed (a flowchart after its agent's), so an owner created meanwhile is found by
the later read, and only an owner that is really gone makes an orphan. Each candidate is
checked again just before it is moved, and it is quarantined, not deleted."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select

from flowgate.doctor.quarantine import quarantine, quarantine_execution
from flowgate.services import Services
from models.documents import ExecutionTrace, Flowchart
from models.sql import Agent, Execution

if TYPE_CHECKING:
    from flowgate.doctor import Report


async def check_traces(services: Services, report: Report, repair: bool) -> None:
    traced: set[uuid.UUID] = set(
        await ExecutionTrace.get_pymongo_collection().distinct("execution_id")
    )
    for execution_id in traced - await _existing(services, Execution.id, traced):
        repaired = False
        if repair and not await _existing(services, Execution.id, {execution_id}):
            moved = await quarantine_execution(execution_id, "trace without execution")
            repaired = moved > 0
        report.add(
            "trace without execution",
            execution_id,
            "no row in PostgreSQL" + ("; trace and events quarantined" if repaired else ""),
            repaired=repaired,
        )


async def check_flowcharts(services: Services, report: Report, repair: bool) -> None:
    collection = Flowchart.get_pymongo_collection()
    owners: set[uuid.UUID] = set(await collection.distinct("agent_id"))
    async with services.postgres.session() as session:
        agents = dict(
            (await session.execute(select(Agent.id, Agent.deleted_at).where(Agent.id.in_(owners))))
            .tuples()
            .all()
        )
    for agent_id in owners:
        if agent_id in agents:
            if agents[agent_id] is not None:
                report.add(
                    "flowchart of a deleted agent",
                    agent_id,
                    "kept: the agent may be restored",
                    repaired=False,
                )
            continue
        repaired = False
        if repair and not await _existing(services, Agent.id, {agent_id}):
            repaired = (
                await quarantine(collection, {"agent_id": agent_id}, "flowchart without agent") > 0
            )
        report.add(
            "flowchart without agent",
            agent_id,
            "the agent does not exist" + ("; quarantined" if repaired else ""),
            repaired=repaired,
        )


async def _existing(services: Services, column: object, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    async with services.postgres.session() as session:
        found = await session.scalars(select(column).where(column.in_(ids)))  # type: ignore[attr-defined,call-overload]
        return set(found.all())

"""Agent counters (`execution_count`, `last_execution_at`) against the agent's executions.

Found with one statement (a consistent snapshot: a start inserts the execution and bumps
the counter in one transaction). Repaired agent by agent, each recounted under the agent's
row lock: a start that commits meanwhile either is counted or waits for the lock and bumps
the repaired counter, so a repair never overwrites a concurrent increment."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select, update

from flowgate.services import Services
from models.sql import Agent, Execution

if TYPE_CHECKING:
    from flowgate.doctor import Report


async def check_agent_counters(services: Services, report: Report, repair: bool) -> None:
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
        select(Agent.id, Agent.execution_count, actual_count)
        .outerjoin(counts, counts.c.agent_id == Agent.id)
        .where(
            or_(
                Agent.execution_count != actual_count,
                Agent.last_execution_at.is_distinct_from(counts.c.last),
            )
        )
    )
    async with services.postgres.session() as session:
        rows = (await session.execute(wrong)).all()
    for agent_id, stored, actual in rows:
        repaired = repair and await _recount(services, agent_id)
        report.add(
            "agent counters",
            agent_id,
            f"execution_count {stored}, executions {actual}",
            repaired=repaired,
        )


async def _recount(services: Services, agent_id: uuid.UUID) -> bool:
    async with services.postgres.session() as session, session.begin():
        locked = await session.scalar(
            select(Agent.id).where(Agent.id == agent_id).with_for_update()
        )
        if locked is None:
            return True  # deleted since: nothing left to disagree
        count, last = (
            await session.execute(
                select(func.count(), func.max(Execution.started_at)).where(
                    Execution.agent_id == agent_id
                )
            )
        ).one()
        await session.execute(
            update(Agent)
            .where(Agent.id == agent_id)
            .values(execution_count=count, last_execution_at=last)
        )
    return True

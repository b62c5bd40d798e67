"""References from documents to PostgreSQL rows, checked in one query per input."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping

from sqlalchemy import select

from flowgate.stores.postgres import Postgres
from models.sql import Agent
from resolvers.validation.issues import IssueCode, Issues


async def live_agent_ids(
    postgres: Postgres, organization_id: uuid.UUID, agent_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of `agent_ids` are agents of the organization that are not deleted."""
    if not agent_ids:
        return set()
    query = select(Agent.id).where(
        Agent.organization_id == organization_id,
        Agent.deleted_at.is_(None),
        Agent.id.in_(agent_ids),
    )
    async with postgres.session() as session:
        return set((await session.scalars(query)).all())


def report_missing_agents(
    issues: Issues, references: Mapping[str, uuid.UUID], live: Collection[uuid.UUID]
) -> None:
    # One message for absent, deleted and foreign agents: telling them apart would let a
    # client probe for other organizations' ids.
    for path, agent_id in references.items():
        if agent_id not in live:
            issues.add(path, IssueCode.NOT_FOUND, "no agent with this id in your organization")

"""The principal's organization and its figures. A request only ever sees its own
organization, so every key but that one loads as `None`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, ScalarSelect, func, select

from models.sql import Agent, Execution, Organization, User
from resolvers.loaders.base import ScopedLoader


@dataclass(frozen=True)
class OrganizationFigures:
    members: int
    active_members: int
    agents: int
    executions: int


class OrganizationByIdLoader(ScopedLoader[uuid.UUID, Organization | None]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[Organization | None]:
        mine = self.principal.organization_id
        if mine not in keys:
            return [None for _ in keys]
        async with self.services.postgres.read_session() as session:
            organization = await session.get(Organization, mine)
        return [organization if key == mine else None for key in keys]


class FiguresByOrganizationLoader(ScopedLoader[uuid.UUID, OrganizationFigures | None]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[OrganizationFigures | None]:
        mine = self.principal.organization_id
        if mine not in keys:
            return [None for _ in keys]

        def counted(*conditions: ColumnElement[bool]) -> ScalarSelect[int]:
            return select(func.count()).where(*conditions).scalar_subquery()

        # One statement: four counts as scalar subqueries, each on an organization index.
        query = select(
            counted(User.organization_id == mine),
            counted(User.organization_id == mine, User.is_active.is_(True)),
            counted(Agent.organization_id == mine, Agent.deleted_at.is_(None)),
            counted(Execution.organization_id == mine),
        )
        async with self.services.postgres.read_session() as session:
            members, active, agents, executions = (await session.execute(query)).one()
        figures = OrganizationFigures(members, active, agents, executions)
        return [figures if key == mine else None for key in keys]

"""Reading agents."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, select

from models.documents import Flowchart
from models.sql import Agent
from resolvers.filters import DEFAULT_AGENT_ORDER, AgentFilter, AgentOrderField, Ordering
from resolvers.pagination import Page, PageRequest
from resolvers.sorting import AGENT_SORT_KEYS
from resolvers.sql_pages import count_rows, fetch_page

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context


async def agent_conditions(info: Info[Context], filter_: AgentFilter) -> list[Any]:
    """WHERE terms for live agents of the principal's organization matching the filter."""
    organization_id = info.context.principal.organization_id
    conditions: list[ColumnElement[bool]] = [
        Agent.organization_id == organization_id,
        Agent.deleted_at.is_(None),
    ]
    if filter_.statuses is not None:
        conditions.append(Agent.status.in_(filter_.statuses))
    if filter_.categories is not None:
        conditions.append(Agent.category.in_(filter_.categories))
    if filter_.name_contains is not None:
        conditions.append(Agent.name.icontains(filter_.name_contains, autoescape=True))
    if filter_.owner_id is not None:
        conditions.append(Agent.owner_id == filter_.owner_id)
    if filter_.created.start is not None:
        conditions.append(Agent.created_at >= filter_.created.start)
    if filter_.created.end is not None:
        conditions.append(Agent.created_at < filter_.created.end)
    if filter_.has_flowchart is not None:
        # The flowcharts live in MongoDB: one query for the organization's agent ids that
        # have one, then a bound id list in SQL.
        with_flowchart = await agents_with_flowchart(organization_id)
        membership = Agent.id.in_(with_flowchart)
        conditions.append(membership if filter_.has_flowchart else ~membership)
    return conditions


async def agents_with_flowchart(organization_id: uuid.UUID) -> list[uuid.UUID]:
    collection = Flowchart.get_pymongo_collection()
    ids: list[uuid.UUID] = await collection.distinct(
        "agent_id", {"organization_id": organization_id}
    )
    return ids


async def list_agents(
    info: Info[Context],
    *,
    page: PageRequest,
    filter_: AgentFilter | None = None,
    order: Ordering[AgentOrderField] | None = None,
) -> tuple[Page[Agent], Select[Agent]]:
    """A page of agents and the query its `totalCount` counts."""
    query = select(Agent).where(*await agent_conditions(info, filter_ or AgentFilter()))
    order = order or DEFAULT_AGENT_ORDER
    # A read on the request's read connection: no transaction, so no BEGIN or ROLLBACK.
    async with info.context.services.postgres.read_session() as session:
        result = await fetch_page(
            session,
            query,
            page,
            sort=AGENT_SORT_KEYS[order.field],
            id_column=Agent.id,
            descending=order.descending,
        )
    return result, query


async def count(info: Info[Context], query: Select[Agent]) -> int:
    async with info.context.services.postgres.read_session() as session:
        return await count_rows(session, query)


async def agent_by_id(info: Info[Context], agent_id: uuid.UUID) -> Agent | None:
    """A live agent by id, or `None` (deleted, absent, or another organization's)."""
    agent = await info.context.loaders.agent_by_id.load(agent_id)
    return agent if agent is not None and agent.deleted_at is None else None

"""Reading agents."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Select, select

from models.sql import Agent
from resolvers.pagination import Page, PageRequest
from resolvers.sql_pages import count_rows, fetch_page

if TYPE_CHECKING:
    from strawberry import Info

    from flowgate.context import Context


def agents_query(info: Info[Context]) -> Select[tuple[Agent]]:
    """Every live agent of the principal's organization: the base every agent read starts from."""
    principal = info.context.principal
    return select(Agent).where(
        Agent.organization_id == principal.organization_id, Agent.deleted_at.is_(None)
    )


async def list_agents(
    info: Info[Context], *, page: PageRequest
) -> tuple[Page[Agent], Select[tuple[Agent]]]:
    """A page of agents, newest first, and the query its `totalCount` counts."""
    query = agents_query(info)
    async with info.context.services.postgres.session() as session:
        result = await fetch_page(
            session,
            query,
            page,
            sort_column=Agent.created_at,
            id_column=Agent.id,
            descending=True,
            parse_sort_value=datetime.fromisoformat,
        )
    return result, query


async def count(info: Info[Context], query: Select[tuple[Agent]]) -> int:
    async with info.context.services.postgres.session() as session:
        return await count_rows(session, query)

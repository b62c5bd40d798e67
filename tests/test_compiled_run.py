"""How a compiled statement goes to PostgreSQL (`resolvers.compiled.run`): its organization
and page sizes written into its text, so that PostgreSQL plans it once per connection;
anything else (ids and text from a client above all) still a parameter."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from asyncpg.pgproto import pgproto
from sqlalchemy import Select, func, select

from flowgate.seed import SeedSummary
from flowgate.services import Services
from models.sql import Agent
from resolvers.compiled.run import _text, fetch_json, organization_inlined
from resolvers.compiled.sql import number

HOSTILE = "x'); DROP TABLE agents; --"


def _page(organization_id: uuid.UUID, agent_id: uuid.UUID, size: int) -> Select[Any]:
    """How many agents of a page of the organization's agents, other than one named."""
    page = (
        select(Agent.id)
        .where(
            Agent.organization_id == organization_id,
            Agent.id != agent_id,
            Agent.name != HOSTILE,
        )
        .order_by(Agent.id)
        .limit(number(size))
        .subquery()
    )
    return select(func.count()).select_from(page)


def _sql(statement: Select[Any], services: Services) -> tuple[str, tuple[str, ...]]:
    text = _text(statement, services.postgres.engine.dialect)
    assert text is not None
    return text.sql, text.names


def test_the_organization_and_page_sizes_are_written_in_and_nothing_else(
    services: Services,
) -> None:
    organization_id, agent_id = uuid.uuid4(), uuid.uuid4()
    # as rows give ids: asyncpg's own UUID class
    statement = _page(pgproto.UUID(str(organization_id)), agent_id, 7)

    sql, names = _sql(organization_inlined(statement, organization_id), services)

    assert f"'{organization_id}'::UUID" in sql
    assert "LIMIT 7" in sql
    assert str(agent_id) not in sql and HOSTILE not in sql
    assert len(names) == 2  # the other id and the name


def test_a_negative_number_cannot_turn_into_a_comment(services: Services) -> None:
    statement = select(func.length(Agent.name) - number(-3)).limit(number(1))

    sql, _ = _sql(statement, services)

    assert "- (-3)" in sql and "--" not in sql


async def test_the_inlined_statement_answers_as_the_parameters_did(
    services: Services, seeded: SeedSummary
) -> None:
    async with services.postgres.session() as session:
        organization_id, agent_id = (
            await session.execute(select(Agent.organization_id, Agent.id).limit(1))
        ).one()
        statement = _page(organization_id, agent_id, 3)
        with_parameters = await session.scalar(statement)

    answered = await fetch_json(services.postgres, organization_inlined(statement, organization_id))

    assert with_parameters == 3
    assert answered == with_parameters


async def test_a_statement_without_parameters_is_planned_once(
    services: Services, seeded: SeedSummary
) -> None:
    """PostgreSQL keeps one generic plan for a prepared statement that has no parameter;
    with the organization and the page size as parameters it planned every run again."""
    async with services.postgres.session() as session:
        organization_id = await session.scalar(select(Agent.organization_id).limit(1))
    assert organization_id is not None
    page = select(Agent.id).where(Agent.organization_id == organization_id).limit(number(3))
    statement = select(func.count()).select_from(page.subquery())
    sql, names = _sql(organization_inlined(statement, organization_id), services)
    assert names == ()

    url = services.postgres.engine.url.set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        prepared = await connection.prepare(sql)
        for _ in range(8):
            await prepared.fetchval()
        generic, custom = await connection.fetchrow(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
            sql,
        )
    finally:
        await connection.close()

    assert (generic, custom) == (8, 0)

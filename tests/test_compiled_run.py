"""How a compiled statement goes to PostgreSQL (`resolvers.compiled.run`): its constant
numbers and ids written into its text, so that PostgreSQL plans it once per connection;
anything else (text from a client above all) still a parameter."""

from __future__ import annotations

import uuid

import asyncpg
from asyncpg.pgproto import pgproto
from sqlalchemy import Select, func, select

from flowgate.seed import SeedSummary
from flowgate.services import Services
from models.sql import Agent
from resolvers.compiled.run import _text, constants_inlined, fetch_json

HOSTILE = "x'); DROP TABLE agents; --"


def _agents_named(organization_id: uuid.UUID, limit: int) -> Select[tuple[int]]:
    page = (
        select(Agent.id)
        .where(Agent.organization_id == organization_id, Agent.name != HOSTILE)
        .order_by(Agent.id)
        .limit(limit)
        .subquery()
    )
    return select(func.count()).select_from(page)


def test_numbers_and_ids_are_written_into_the_text_and_text_is_not(
    services: Services,
) -> None:
    organization_id = uuid.uuid4()
    statement = _agents_named(pgproto.UUID(str(organization_id)), 7)  # as rows give ids

    text = _text(statement, services.postgres.engine.dialect)

    assert text is not None
    assert f"'{organization_id}'::UUID" in text.sql
    assert "LIMIT 7" in text.sql
    assert HOSTILE not in text.sql
    assert text.names == ("name_1",) and text.parameters({}) == (HOSTILE,)


def test_a_negative_number_cannot_turn_into_a_comment(services: Services) -> None:
    statement = select(func.abs(func.length(Agent.name) - (-3))).limit(1)

    sql = str(constants_inlined(statement).compile(dialect=services.postgres.engine.dialect))

    assert "(-3)" in sql and "--" not in sql


async def test_the_inlined_statement_answers_as_the_parameters_did(
    services: Services, seeded: SeedSummary
) -> None:
    async with services.postgres.session() as session:
        organization_id = await session.scalar(select(Agent.organization_id).limit(1))
        assert organization_id is not None
        statement = _agents_named(organization_id, 3)
        with_parameters = await session.scalar(statement)

    answered = await fetch_json(services.postgres, statement)

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
    text = _text(_agents_named(organization_id, 3), services.postgres.engine.dialect)
    assert text is not None and text.names == ("name_1",)
    no_text = select(func.count()).where(Agent.organization_id == organization_id).limit(3)
    plain = _text(no_text, services.postgres.engine.dialect)
    assert plain is not None and plain.names == ()

    url = services.postgres.engine.url.set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        prepared = await connection.prepare(plain.sql)
        for _ in range(8):
            await prepared.fetchval()
        generic, custom = await connection.fetchrow(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
            plain.sql,
        )
    finally:
        await connection.close()

    assert (generic, custom) == (8, 0)

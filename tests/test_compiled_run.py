"""How a compiled statement goes to PostgreSQL (`resolvers.compiled.run`): its organization
and page sizes written into its text, so that PostgreSQL plans it once per connection;
anything else (ids and text from a client above all) still a parameter."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from asyncpg.pgproto import pgproto
from sqlalchemy import Select, func, literal, literal_column, select

from flowgate.principal import Credential, CredentialKind, Principal
from flowgate.seed import SeedSummary
from flowgate.services import Services
from models.enums import UserRole
from models.sql import Agent, Execution
from resolvers import access
from resolvers.access import READABLE_IDS
from resolvers.compiled.run import _text, fetch_json, fetch_json_text, organization_inlined
from resolvers.compiled.sql import number
from resolvers.compiled.visibility import execution_visible
from schema.compiled.sites import site, split

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


async def _organization_and_agents(services: Services) -> tuple[uuid.UUID, list[uuid.UUID]]:
    async with services.postgres.session() as session:
        organization_id = await session.scalar(select(Agent.organization_id).limit(1))
        assert organization_id is not None
        agents = list(
            await session.scalars(
                select(Agent.id).where(Agent.organization_id == organization_id).limit(3)
            )
        )
    return organization_id, agents


async def test_statements_of_one_structure_share_a_text_and_answer_with_their_own_values(
    services: Services, seeded: SeedSummary
) -> None:
    """A statement built again for another value (a filter's, a nested page's cursor) is
    not compiled again: its text is the first one's, its parameters its own."""
    organization_id, agents = await _organization_and_agents(services)
    # built twice, as the executor builds a statement per value: two trees, one structure
    first = organization_inlined(_page(organization_id, agents[0], 3), organization_id)
    second = organization_inlined(_page(organization_id, agents[1], 3), organization_id)
    other_size = organization_inlined(_page(organization_id, agents[1], 2), organization_id)

    # when
    first_text, second_text = _text(first, _dialect(services)), _text(second, _dialect(services))
    answers = [await fetch_json(services.postgres, statement) for statement in (first, second)]

    # then: one text (the organization written in, the agent a parameter)...
    assert first_text is not None and second_text is not None
    assert second_text.compiled is first_text.compiled  # compiled once
    assert second_text.sql == first_text.sql
    assert f"'{organization_id}'::UUID" in second_text.sql
    assert second_text.parameters({}) != first_text.parameters({})
    assert agents[1] in second_text.parameters({})
    # ...each statement's own answer, as each gives run on its own through the engine
    async with services.postgres.session() as session:
        assert answers == [await session.scalar(_page(organization_id, a, 3)) for a in agents[:2]]
    # a literal (a page size) is part of the structure: another text
    other = _text(other_size, _dialect(services))
    assert other is not None and other.sql != first_text.sql


async def test_a_text_is_not_shared_where_a_client_value_was_the_organization(
    services: Services, seeded: SeedSummary
) -> None:
    """The organization is written in wherever a parameter holds it. A statement whose
    client value happens to equal it has that value written in too: its text may serve no
    statement whose value there is another (nor the reverse)."""
    organization_id, agents = await _organization_and_agents(services)
    plain = organization_inlined(_page(organization_id, agents[0], 3), organization_id)
    # the client's "agent" is the organization's id
    collision = organization_inlined(_page(organization_id, organization_id, 3), organization_id)
    after = organization_inlined(_page(organization_id, agents[1], 3), organization_id)

    texts = [_text(statement, _dialect(services)) for statement in (collision, plain, after)]

    assert all(text is not None for text in texts)
    collided, plain_text, after_text = texts
    assert collided is not None and plain_text is not None and after_text is not None
    assert collided.sql != plain_text.sql  # one parameter fewer
    assert len(collided.names) == len(plain_text.names) - 1
    assert after_text.compiled is plain_text.compiled
    assert collided.compiled is not plain_text.compiled
    assert agents[1] in after_text.parameters({})
    async with services.postgres.session() as session:
        expected = await session.scalar(_page(organization_id, agents[1], 3))
    assert await fetch_json(services.postgres, after) == expected


def _dialect(services: Services) -> Any:
    return services.postgres.engine.dialect


async def test_places_for_mongodb_values_read_the_same_through_the_engine(
    services: Services,
) -> None:
    # given: a statement with a place (`schema.compiled.sites`) written as text, and the same
    # with a parameter the text cannot express (an IN list, expanded at run time)
    place = func.json_build_array(site(0, literal_column("'key'"), [literal_column("3")]))
    as_text = select(place)
    through_engine = select(place).where(literal(1).in_([1, 2]))
    assert _text(through_engine, services.postgres.engine.dialect) is None

    # when
    written = await fetch_json_text(services.postgres, as_text)
    rewritten = await fetch_json_text(services.postgres, through_engine)

    # then: PostgreSQL's text and orjson's differ in spacing, not in their places
    assert written is not None and rewritten is not None
    assert written != rewritten
    assert split(written) == ["[", '0, "key", 3', "]"]
    assert split(rewritten) == ["[", '0,"key",3', "]"]


async def test_a_place_is_written_the_same_whatever_string_literals_mean(
    services: Services,
) -> None:
    # given: a place's text, and a connection where backslashes in a plain string literal
    # are escapes (a server configured with `standard_conforming_strings = off`)
    place = select(func.json_build_array(site(0, literal_column("'key'"))))
    text = _text(place, services.postgres.engine.dialect)
    assert text is not None
    url = services.postgres.engine.url.set(drivername="postgresql")
    # each time parsed anew, under the setting of the moment
    uncached = {"statement_cache_size": 0}
    connection = await asyncpg.connect(url.render_as_string(hide_password=False), **uncached)
    try:
        answers = []
        for setting in ("on", "off"):
            await connection.execute(f"SET standard_conforming_strings = {setting}")
            answers.append(await connection.fetchval(text.as_text))
    finally:
        await connection.close()

    # then: the same place either way
    assert answers[0] == answers[1]
    assert split(answers[1]) == ["[", '0, "key"', "]"]


async def test_a_members_statement_is_one_text_whatever_the_workflows_they_read(
    services: Services, seeded: SeedSummary
) -> None:
    # given: the executions a member may see, as a compiled statement reads them
    organization_id, _ = await _organization_and_agents(services)
    member = Principal(
        organization_id=organization_id,
        user_id=uuid.uuid4(),
        role=UserRole.USER,
        credential=Credential(CredentialKind.API_KEY, uuid.UUID(int=0)),
    )
    table = Execution.__table__.alias()
    statement = select(func.count()).where(execution_visible(member, table))

    # when: compiled once, and run for two sets of readable workflows
    text = _text(statement, services.postgres.engine.dialect)
    async with services.postgres.session() as session:
        some = await session.scalars(
            select(Execution.workflow_id)
            .where(Execution.organization_id == organization_id, Execution.workflow_id.is_not(None))
            .distinct()
            .limit(3)
        )
        readable = [frozenset(str(workflow_id) for workflow_id in some), frozenset()]
    counts = [
        await fetch_json(services.postgres, statement, {READABLE_IDS.key: sorted(ids)})
        for ids in readable
    ]

    # then: a text of its own (no list expanded per request), the ids its one parameter,
    # and each set of ids its own answer, as the resolvers' predicate gives it
    assert text is not None and READABLE_IDS.key in text.names
    async with services.postgres.session() as session:
        for ids, count in zip(readable, counts, strict=True):
            expected = select(func.count()).where(access.execution_visible(member, ids))
            assert count == await session.scalar(expected)
    assert counts[0] > counts[1]

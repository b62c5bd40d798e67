"""Each loader answers many keys with one round trip, in key order, scoped to the tenant."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiodataloader import DataLoader
from sqlalchemy import select

from flowgate.services import Services
from flowgate.stores.roundtrips import start_counting
from models.documents import ExecutionTrace, Flowchart, Workflow
from models.sql import Agent, Execution, Organization, User
from resolvers.filters import DEFAULT_EXECUTION_ORDER, ExecutionFilter
from resolvers.loaders import Loaders
from resolvers.loaders.pages import NestedPageArgs
from tests.auth import ADMIN, api_key_for


async def _organizations(services: Services) -> list[uuid.UUID]:
    async with services.postgres.session() as session:
        return list(
            (await session.scalars(select(Organization.id).order_by(Organization.name))).all()
        )


async def _ids(
    services: Services, column: object, organization_id: uuid.UUID, limit: int
) -> list[uuid.UUID]:
    model = column.class_  # type: ignore[attr-defined]
    async with services.postgres.session() as session:
        query = select(column).where(model.organization_id == organization_id).limit(limit)
        return list((await session.scalars(query)).all())


@pytest.fixture
async def loaders(services: Services, seeded: object) -> Loaders:
    _, admin = await api_key_for(services, ADMIN)
    assert admin.organization_id == (await _organizations(services))[0]
    return Loaders(services, admin)


async def _load_all(loader: object, keys: list[object]) -> tuple[list[object], dict[str, int]]:
    counter = start_counting()
    values = await asyncio.gather(*(loader.load(key) for key in keys))  # type: ignore[attr-defined]
    return list(values), counter.as_dict()


@pytest.mark.parametrize(
    ("loader_name", "column", "attribute"),
    [
        ("agent_by_id", Agent.id, "id"),
        ("user_by_id", User.id, "id"),
        ("execution_by_id", Execution.id, "id"),
    ],
)
async def test_sql_loaders_batch_many_keys_into_one_query(
    loaders: Loaders, services: Services, loader_name: str, column: object, attribute: str
) -> None:
    # given
    keys = await _ids(services, column, loaders.agent_by_id.principal.organization_id, 40)
    missing = uuid.uuid4()

    # when
    values, trips = await _load_all(getattr(loaders, loader_name), [*keys, missing])

    # then
    assert trips == {"sql": 1, "mongo": 0}
    assert [getattr(v, attribute) for v in values[:-1]] == keys  # in key order
    assert values[-1] is None


@pytest.mark.parametrize(
    ("loader_name", "document", "field"),
    [
        ("flowchart_by_agent_id", Flowchart, "agent_id"),
        ("trace_by_execution_id", ExecutionTrace, "execution_id"),
        ("workflow_by_id", Workflow, "id"),
    ],
)
async def test_mongo_loaders_batch_many_keys_into_one_command(
    loaders: Loaders, loader_name: str, document: type, field: str
) -> None:
    # given
    organization_id = loaders.agent_by_id.principal.organization_id
    found = await document.find({"organization_id": organization_id}).limit(30).to_list()  # type: ignore[attr-defined]
    keys = [getattr(item, field) for item in found]
    assert keys, "the seed gives every organization documents of this kind"

    # when
    values, trips = await _load_all(getattr(loaders, loader_name), [*keys, uuid.uuid4()])

    # then
    assert trips == {"sql": 0, "mongo": 1}
    assert [getattr(v, field) for v in values[:-1]] == keys
    assert values[-1] is None


async def test_loaders_do_not_return_other_tenants_rows(
    loaders: Loaders, services: Services
) -> None:
    # given: agents of the second organization
    other = (await _organizations(services))[1]
    foreign = await _ids(services, Agent.id, other, 5)

    # when
    values, _ = await _load_all(loaders.agent_by_id, list(foreign))

    # then
    assert foreign
    assert values == [None] * len(foreign)


async def test_execution_pages_by_agent_are_one_query_with_per_agent_totals(
    loaders: Loaders, services: Services
) -> None:
    # given
    organization_id = loaders.agent_by_id.principal.organization_id
    agent_ids = await _ids(services, Agent.id, organization_id, 25)
    args = NestedPageArgs(first=3, filter=ExecutionFilter(), order=DEFAULT_EXECUTION_ORDER)

    # when
    pages, trips = await _load_all(
        loaders.execution_page_by_agent, [(agent_id, args) for agent_id in agent_ids]
    )

    # then
    assert trips == {"sql": 1, "mongo": 0}
    async with services.postgres.session() as session:
        for agent_id, counted in zip(agent_ids, pages, strict=True):
            expected = list(
                (
                    await session.scalars(
                        select(Execution.id)
                        .where(Execution.agent_id == agent_id)
                        .order_by(Execution.started_at.desc(), Execution.id.desc())
                    )
                ).all()
            )
            assert counted.total == len(expected)  # type: ignore[attr-defined]
            assert [e.id for e in counted.page.items] == expected[:3]  # type: ignore[attr-defined]


async def test_stats_by_agent_are_one_grouped_query(loaders: Loaders, services: Services) -> None:
    # given
    organization_id = loaders.agent_by_id.principal.organization_id
    agent_ids = await _ids(services, Agent.id, organization_id, 25)

    # when
    stats, trips = await _load_all(loaders.agent_stats_by_agent_id, list(agent_ids))

    # then
    assert trips == {"sql": 1, "mongo": 0}
    async with services.postgres.session() as session:
        for agent_id, item in zip(agent_ids, stats, strict=True):
            rows = (
                await session.scalars(select(Execution).where(Execution.agent_id == agent_id))
            ).all()
            assert item.executions == len(rows)  # type: ignore[attr-defined]
            assert item.succeeded == sum(r.status == "succeeded" for r in rows)  # type: ignore[attr-defined]


async def _workflow_ids(organization_id: uuid.UUID) -> list[uuid.UUID]:
    found = await Workflow.find({"organization_id": organization_id}).to_list()
    return [workflow.id for workflow in found]


async def test_workflow_paths_are_one_round_trip_each(loaders: Loaders, services: Services) -> None:
    # given: every workflow of the organization, and one id that names nothing
    organization_id = loaders.agent_by_id.principal.organization_id
    keys = [*await _workflow_ids(organization_id), uuid.uuid4()]
    args = NestedPageArgs(first=2, filter=ExecutionFilter(), order=DEFAULT_EXECUTION_ORDER)

    # when
    pages, page_trips = await _load_all(
        loaders.execution_page_by_workflow, [(key, args) for key in keys]
    )
    stats, stats_trips = await _load_all(loaders.workflow_stats_by_workflow_id, keys)
    versions, version_trips = await _load_all(loaders.workflow_versions_by_workflow, keys)

    # then: one round trip per loader, whatever the number of workflows
    assert page_trips == {"sql": 1, "mongo": 0}
    assert stats_trips == {"sql": 1, "mongo": 0}
    assert version_trips == {"sql": 0, "mongo": 1}
    # and the answers are each workflow's own, in key order
    async with services.postgres.session() as session:
        for key, counted, item in zip(keys, pages, stats, strict=True):
            rows = (
                await session.scalars(select(Execution).where(Execution.workflow_id == key))
            ).all()
            assert counted.total == len(rows)  # type: ignore[attr-defined]
            assert item.executions == len(rows)  # type: ignore[attr-defined]
    assert versions[-1] == []
    assert all(
        all(v.workflow_id == key for v in found)  # type: ignore[attr-defined]
        for key, found in zip(keys, versions, strict=True)
    )
    assert any(versions[:-1]), "the seed keeps earlier versions of workflows"


async def test_a_loader_is_built_once_per_request_on_first_use(
    loaders: Loaders, services: Services
) -> None:
    # given: a request's loaders, none used yet
    assert not any(isinstance(value, DataLoader) for value in vars(loaders).values())
    keys = await _ids(services, Agent.id, loaders.agent_by_id.principal.organization_id, 4)

    # when: two fields load agents through it, and two loaders read the readable workflows
    first = loaders.agent_by_id
    counter = start_counting()
    values = await asyncio.gather(first.load(keys[0]), loaders.agent_by_id.load(keys[1]))

    # then: one loader, shared, one batch; built only what was used
    assert loaders.agent_by_id is first
    assert [value.id for value in values] == keys[:2]  # type: ignore[union-attr]
    assert counter.as_dict() == {"sql": 1, "mongo": 0}
    built = {name for name, value in vars(loaders).items() if isinstance(value, DataLoader)}
    assert built == {"agent_by_id"}
    # and the loaders that hide executions share the request's one readable-ids reader
    assert loaders.execution_by_id.readable is loaders.execution_page_by_agent.readable
    assert loaders.execution_by_id.readable is loaders.readable_workflow_ids
    # and another request has loaders of its own
    other = Loaders(services, loaders.agent_by_id.principal)
    assert other.agent_by_id is not first

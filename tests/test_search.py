"""The `search` field through HTTP, and the indexer that feeds it: seeded data is found once
the indexer has drained the search outbox; a write is found after the next pass; an index
that is down fails `search` alone (SEARCH_UNAVAILABLE) and loses nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from flowgate.search.base import SearchUnavailableError
from flowgate.search.elastic import ElasticsearchIndex
from flowgate.search.indexer import index_all_pending, index_pending
from flowgate.seed import SeedSummary
from flowgate.services import Services
from flowgate.stores.embedded import free_port
from models.sql import Agent, SearchOutboxEntry
from resolvers.ids import to_global_id
from tests.scratch import Scratch, gql

SEARCH = """
query Search($query: String!, $types: [SearchType!], $filter: SearchFilter, $first: Int,
             $after: String) {
  search(query: $query, types: $types, filter: $filter, first: $first, after: $after) {
    totalCount
    edges { cursor node { score type highlights { field fragments }
            object { __typename ... on Agent { id name } ... on Workflow { id name }
                     ... on Execution { id } ... on ExecutionEvent { seq nodeId } } } }
    pageInfo { hasNextPage endCursor }
    facets { types { value count } statuses { value count } tags { value count }
             categories { value count } }
  }
}
"""

SEARCH_AND_AGENTS = """
query { search(query: "agent") { totalCount } agents(first: 1) { edges { node { id } } } }
"""


async def _post(client: httpx.AsyncClient, operation: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": operation, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _unreachable_index() -> ElasticsearchIndex:
    # A real client to an address where nothing listens: the index is down.
    return ElasticsearchIndex(f"http://127.0.0.1:{free_port()}", "flowgate_down", timeout=2)


@pytest.fixture(scope="module")
async def indexed(seeded: SeedSummary, services: Services) -> SeedSummary:
    """The seeded data, indexed: what `flowgate seed` queued, drained as a gateway would."""
    await index_all_pending(services, services.search)
    return seeded


@pytest.fixture
async def scratch(
    services: Services, app: FastAPI, client: httpx.AsyncClient, indexed: SeedSummary
) -> AsyncIterator[Scratch]:
    async with Scratch.open(services, app, client) as scratch:
        yield scratch


async def test_seeded_agents_are_found_by_name(
    indexed: SeedSummary, services: Services, client: httpx.AsyncClient
) -> None:
    # given: a live agent of the organization the client acts for
    async with services.postgres.session() as session:
        agent = await session.scalar(
            select(Agent).where(Agent.deleted_at.is_(None)).order_by(Agent.name).limit(1)
        )
    assert agent is not None

    # when
    body = await _post(client, SEARCH, query=f'"{agent.name}"', types=["AGENT"])

    # then
    assert "errors" not in body, body
    found = body["data"]["search"]
    assert to_global_id("Agent", agent.id) in [e["node"]["object"]["id"] for e in found["edges"]]
    assert found["totalCount"] >= 1
    assert found["facets"]["types"] == [{"value": "AGENT", "count": found["totalCount"]}]
    assert all(e["node"]["type"] == "AGENT" for e in found["edges"])


async def test_seeded_step_errors_are_found_with_facets(
    indexed: SeedSummary, client: httpx.AsyncClient
) -> None:
    # when: the phrase of the seed's rate-limit errors, as events only
    body = await _post(client, SEARCH, query='"rate limit exceeded"', types=["EXECUTION_EVENT"])

    # then
    found = body["data"]["search"]
    assert found["totalCount"] > 0 and found["edges"]
    assert found["facets"]["types"] == [{"value": "EXECUTION_EVENT", "count": found["totalCount"]}]
    assert [s["value"] for s in found["facets"]["statuses"]] == ["failed"]
    for edge in found["edges"]:
        assert edge["node"]["object"]["__typename"] == "ExecutionEvent"
        fragments = " ".join(f for h in edge["node"]["highlights"] for f in h["fragments"])
        assert "<em>rate</em> <em>limit</em> <em>exceeded</em>" in fragments


async def test_a_page_continues_after_its_end_cursor(
    indexed: SeedSummary, client: httpx.AsyncClient
) -> None:
    # given
    first = (await _post(client, SEARCH, query="agent", first=3))["data"]["search"]
    assert first["pageInfo"]["hasNextPage"], "the seed has more than 3 agents"

    # when
    after = first["pageInfo"]["endCursor"]
    second = (await _post(client, SEARCH, query="agent", first=3, after=after))["data"]["search"]

    # then
    cursors = [e["cursor"] for e in first["edges"] + second["edges"]]
    assert len(cursors) == len(set(cursors)) == 6
    assert first["totalCount"] == second["totalCount"] > 6


@pytest.mark.parametrize(
    ("variables", "argument", "problem"),
    [
        ({"query": "   "}, "query", "must not be empty"),
        ({"query": "x" * 201}, "query", "at most 200 characters"),
        ({"query": "-only -exclusions"}, "query", "at least one word"),
        ({"query": "agent", "first": 0}, "first", "must be 1..100"),
        ({"query": "agent", "first": 101}, "first", "must be 1..100"),
        ({"query": "agent", "after": "not-a-cursor"}, "after", "malformed cursor"),
        ({"query": "agent", "filter": {"tag": [""]}}, "filter.tag", "1..100 characters"),
    ],
)
async def test_bad_arguments_are_named(
    indexed: SeedSummary,
    client: httpx.AsyncClient,
    variables: dict[str, Any],
    argument: str,
    problem: str,
) -> None:
    body = await _post(client, SEARCH, **variables)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == argument
    assert problem in error["message"]


async def test_an_unknown_type_is_refused_by_validation(client: httpx.AsyncClient) -> None:
    body = await _post(client, SEARCH, query="agent", types=["FLOWCHART"])
    (error,) = body["errors"]
    assert "FLOWCHART" in error["message"] and "SearchType" in error["message"]
    assert body.get("data") is None


async def test_a_write_is_found_once_the_indexer_has_run(scratch: Scratch) -> None:
    # given
    word = f"zebra{uuid.uuid4().hex[:8]}"
    agent_id = await scratch.create_agent(description=f"Watches the {word} pipeline")
    assert (await gql(scratch.client, SEARCH, {"query": f"{word} "}))["search"]["edges"] == []

    # when
    await index_all_pending(scratch.services, scratch.services.search)

    # then
    found = (await gql(scratch.client, SEARCH, {"query": f"{word} "}))["search"]
    (edge,) = found["edges"]
    assert edge["node"]["object"] == {"__typename": "Agent", "id": agent_id,
                                      "name": scratch.name("agent")}  # fmt: skip
    (body,) = [h for h in edge["node"]["highlights"] if h["field"] == "body"]
    assert f"<em>{word}</em>" in body["fragments"][0]


async def test_a_deleted_agent_leaves_the_results(scratch: Scratch) -> None:
    # given: indexed, then deleted (soft)
    word = f"okapi{uuid.uuid4().hex[:8]}"
    await scratch.create_agent("doomed", description=word)
    await index_all_pending(scratch.services, scratch.services.search)
    assert len((await gql(scratch.client, SEARCH, {"query": word}))["search"]["edges"]) == 1
    agent_id = await scratch.create_deleted_agent("doomed-too")
    assert agent_id

    # when: deleted, and not yet reindexed, the source of truth already hides it
    async with scratch.services.postgres.session() as session:
        doomed = await session.scalar(select(Agent).where(Agent.name == scratch.name("doomed")))
    assert doomed is not None
    from tests.scratch import DELETE_AGENT

    await gql(scratch.client, DELETE_AGENT, {"id": to_global_id("Agent", doomed.id)})
    assert (await gql(scratch.client, SEARCH, {"query": word}))["search"]["edges"] == []

    # then: after the indexer, the index no longer counts it either
    await index_all_pending(scratch.services, scratch.services.search)
    assert (await gql(scratch.client, SEARCH, {"query": word}))["search"]["totalCount"] == 0


async def test_an_index_that_is_down_fails_search_only_and_loses_nothing(
    scratch: Scratch, app: FastAPI
) -> None:
    services: Services = app.state.services  # the app's own, which its requests use
    real, down = services.search, _unreachable_index()
    word = f"narwhal{uuid.uuid4().hex[:8]}"
    try:
        # given: the index goes down
        services.search = down

        # when: a mutation and a query that asks for search and agents
        agent_id = await scratch.create_agent(description=word)
        body = await _post(scratch.client, SEARCH_AND_AGENTS)

        # then: the mutation succeeded, search alone failed and named its backend
        assert agent_id
        (error,) = body["errors"]
        assert error["path"] == ["search"]
        assert error["extensions"]["code"] == "SEARCH_UNAVAILABLE"
        assert error["extensions"]["backend"] == "elasticsearch"
        assert "elasticsearch" in error["message"]
        assert body["data"]["agents"]["edges"], "other fields still resolve"

        # and: the indexer's pass fails, and the change stays queued
        with pytest.raises(SearchUnavailableError):
            await index_pending(services, down)
        assert await _queued(services, agent_id) == 1
    finally:
        services.search = real
        await down.close()

    # when the index is back, the queued change is indexed
    await index_all_pending(services, services.search)
    assert await _queued(services, agent_id) == 0
    found = (await gql(scratch.client, SEARCH, {"query": word}))["search"]
    assert [e["node"]["object"]["id"] for e in found["edges"]] == [agent_id]


async def _queued(services: Services, global_id: str) -> int:
    from resolvers.ids import parse_id

    async with services.postgres.session() as session:
        count = await session.scalar(
            select(func.count()).where(SearchOutboxEntry.object_id == parse_id(global_id, "Agent"))
        )
    return int(count or 0)


START = """
mutation Start($agentId: ID) {
  startExecution(agentId: $agentId) {
    __typename ... on StartExecutionPayload { execution { id } }
  }
}
"""

STEP = """
mutation Step($id: ID!, $step: StepInput!) {
  reportExecutionStep(executionId: $id, step: $step) { __typename }
}
"""


async def test_a_failed_step_is_found_by_its_error(scratch: Scratch) -> None:
    # given: an execution whose step failed with a distinctive error
    word = f"quokka{uuid.uuid4().hex[:8]}"
    agent_id = await scratch.create_agent("runner")
    started = (await gql(scratch.client, START, {"agentId": agent_id}))["startExecution"]
    execution_id = started["execution"]["id"]
    step = {"nodeId": "fetch", "nodeType": "ACTION", "status": "FAILED",
            "error": f"upstream refused the {word} call"}  # fmt: skip
    reported = await gql(scratch.client, STEP, {"id": execution_id, "step": step})
    assert reported["reportExecutionStep"]["__typename"] == "ReportExecutionStepPayload"

    # when
    await index_all_pending(scratch.services, scratch.services.search)

    # then: the step's event, with its execution reachable
    variables = {"query": f"{word} refused", "types": ["EXECUTION_EVENT"]}
    (edge,) = (await gql(scratch.client, SEARCH, variables))["search"]["edges"]
    found = edge["node"]["object"]
    assert (found["__typename"], found["nodeId"]) == ("ExecutionEvent", "fetch")
    assert edge["node"]["highlights"][0]["fragments"] == [
        f"upstream <em>refused</em> the <em>{word}</em> call"
    ]

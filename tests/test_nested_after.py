"""`after` on the nested `Agent.executions` and `Workflow.executions`: walking the pages of a
parent gives exactly its one big page, in order, whatever the sort; the compiled path answers
as the resolvers do; round trips stay those of the shape; a malformed cursor names `after`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from fastapi import FastAPI

from flowgate.seed import SeedSummary
from flowgate.services import Services
from flowgate.settings import Settings
from tests.compiled import Pair, pairs, plain_app
from tests.graphql import gql_data

AGENT_PAGE = """
query($id: ID!, $n: Int!, $after: String, $order: ExecutionOrder) {
  agent(id: $id) { executions(first: $n, after: $after, orderBy: $order) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id } } } }
}
"""
WORKFLOW_PAGE = """
query($id: ID!, $n: Int!, $after: String, $order: ExecutionOrder) {
  workflow(id: $id) { executions(first: $n, after: $after, orderBy: $order) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id } } } }
}
"""
AGENTS_AFTER = """
query($n: Int!, $after: String) {
  agents(first: $n) { edges { node { id executions(first: 3, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage } edges { node { id status } } } } } }
}
"""
WORKFLOWS_AFTER = """
query($n: Int!, $after: String) {
  workflows(first: $n) { edges { node { id executions(first: 3, after: $after) {
    totalCount pageInfo { hasNextPage } edges { node { id agent { name } } } } } } }
}
"""


@pytest.fixture(scope="module")
async def plain(
    settings: Settings, services: Services, seeded: SeedSummary
) -> AsyncIterator[FastAPI]:
    async for application in plain_app(settings, services):
        yield application


@pytest.fixture(scope="module")
async def admin(services: Services, app: FastAPI, plain: FastAPI) -> AsyncIterator[Pair]:
    async with AsyncExitStack() as stack:
        yield (await pairs(services, app, plain, stack))["admin@acme.example"]


async def _busiest(pair: Pair, root: str) -> str:
    data = await gql_data(
        pair.plain, f"{{ {root}(first: 100) {{ edges {{ node {{ id "
        "executions(first: 0) { totalCount } } } } }"
    )  # fmt: skip
    nodes = [edge["node"] for edge in data[root]["edges"]]
    busiest = max(nodes, key=lambda node: node["executions"]["totalCount"])
    assert busiest["executions"]["totalCount"] >= 12, "the seed runs them often enough"
    return str(busiest["id"])


def _connection(answer: Any) -> dict[str, Any]:
    (parent,) = answer.body["data"].values()
    return parent["executions"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("root", "query"), [("agents", AGENT_PAGE), ("workflows", WORKFLOW_PAGE)])
@pytest.mark.parametrize(
    "order",
    [None, {"field": "COST", "direction": "ASC"}, {"field": "DURATION", "direction": "DESC"}],
)
async def test_walking_the_pages_gives_the_one_big_page(
    admin: Pair, root: str, query: str, order: dict[str, str] | None
) -> None:
    # given
    parent = await _busiest(admin, root)
    everything = _connection(await admin.check(query, {"id": parent, "n": 100, "order": order}))

    # when: pages of 20, each after the last one's end cursor
    walked: list[str] = []
    after, pages = None, []
    while True:
        variables = {"id": parent, "n": 20, "after": after, "order": order}
        page = _connection(await admin.check(query, variables))
        pages.append(page)
        walked += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    # then: the big page is the walk's start (it holds at most 100), the walk has them all
    assert walked[: len(everything["edges"])] == [e["node"]["id"] for e in everything["edges"]]
    assert len(walked) == len(set(walked)) == everything["totalCount"]
    assert {page["totalCount"] for page in pages} == {everything["totalCount"]}
    assert [page["pageInfo"]["hasPreviousPage"] for page in pages] == [False] + [True] * (
        len(pages) - 1
    )
    assert len(pages) == -(-everything["totalCount"] // 20)


@pytest.mark.parametrize("query", [AGENTS_AFTER, WORKFLOWS_AFTER])
async def test_round_trips_with_a_cursor_do_not_grow_with_the_page(admin: Pair, query: str) -> None:
    # given: a cursor from the middle of some parent's list (it applies to every parent)
    agent = await _busiest(admin, "agents")
    first = _connection(await admin.check(AGENT_PAGE, {"id": agent, "n": 4}))
    cursor = first["pageInfo"]["endCursor"]

    # when
    small = await admin.check(query, {"n": 3, "after": cursor})
    large = await admin.check(query, {"n": 15, "after": cursor})
    _, plain_small = await admin.both(query, {"n": 3, "after": cursor})
    _, plain_large = await admin.both(query, {"n": 15, "after": cursor})

    # then: the compiled path (agents: one statement) and the resolvers (one batch per
    # nesting level) cost the same for 3 parents as for 15
    assert small.round_trips == large.round_trips
    assert plain_small.round_trips == plain_large.round_trips
    expected = {"sql": 1, "mongo": 0} if query is AGENTS_AFTER else {"sql": 2, "mongo": 1}
    assert large.round_trips == expected
    if query is AGENTS_AFTER:
        assert plain_large.round_trips == {"sql": 2, "mongo": 0}  # agents, their pages


@pytest.mark.parametrize("cursor", ["garbage", "WyJub3QgYSBkYXRlIiwgIngiXQ"])
async def test_a_malformed_cursor_names_after(admin: Pair, cursor: str) -> None:
    agent = await _busiest(admin, "agents")

    answer = await admin.check(AGENT_PAGE, {"id": agent, "n": 5, "after": cursor})

    (error,) = answer.body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == "after", error

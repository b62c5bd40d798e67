"""Compiled execution answers the benchmark shapes and the GraphiQL examples exactly as the
resolvers do, as every seeded role of both organizations (harness: tests/compiled.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI

from bench.shapes import FLOWGATE
from flowgate.seed import SeedSummary
from flowgate.services import Services
from flowgate.settings import Settings
from tests.compiled import ROLES, Pair, pairs, plain_app
from tests.graphql import gql_data

EXAMPLES = {
    path.stem: path.read_text()
    for path in sorted((Path(__file__).parents[1] / "flowgate/graphiql/examples").glob("*.graphql"))
}


@pytest.fixture(scope="module")
async def plain(
    settings: Settings, services: Services, seeded: SeedSummary
) -> AsyncIterator[FastAPI]:
    async for application in plain_app(settings, services):
        yield application


@pytest.fixture(scope="module")
async def users(services: Services, app: FastAPI, plain: FastAPI) -> AsyncIterator[dict[str, Pair]]:
    async with AsyncExitStack() as stack:
        yield await pairs(services, app, plain, stack)


# The compiled shapes: their MongoDB queries besides the readable workflows (at least, at most).
COMPILED = {"Q1": (0, 0), "Q2": (0, 0), "Q3": (0, 0), "Q4": (1, 1), "Q5": (1, 2)}


async def _variables(pair: Pair, shape: str) -> dict[str, object]:
    if shape == "Q1":
        data = await gql_data(pair.plain, "{ agents(first: 1) { edges { node { id } } } }")
        return {"id": data["agents"]["edges"][0]["node"]["id"]}
    if shape == "Q6":
        until = datetime.now(UTC)
        return {"since": (until - timedelta(days=30)).isoformat(), "until": until.isoformat()}
    return {}


@pytest.mark.parametrize("email", ROLES)
@pytest.mark.parametrize("shape", sorted(FLOWGATE))
async def test_bench_shape(users: dict[str, Pair], email: str, shape: str) -> None:
    pair = users[email]
    answer = await pair.check(FLOWGATE[shape], await _variables(pair, shape))
    assert "errors" not in answer.body
    if shape in COMPILED:
        # Compiled indeed: one statement for the one root field; MongoDB for the ids of the
        # workflows a non-admin may read, when the shape reads executions (Q2-Q5), and one
        # query per collection its MongoDB fields read (Q4: traces; Q5: flowcharts, and
        # workflows if an execution on the page has one).
        readable_ids = 0 if email.startswith("admin@") or shape == "Q1" else 1
        low, high = COMPILED[shape]
        assert answer.round_trips["sql"] == 1
        assert readable_ids + low <= answer.round_trips["mongo"] <= readable_ids + high


@pytest.mark.parametrize("email", ROLES)
@pytest.mark.parametrize("example", sorted(EXAMPLES))
async def test_graphiql_example(users: dict[str, Pair], email: str, example: str) -> None:
    text = EXAMPLES[example]
    if "subscription" in text.split("{", 1)[0]:
        pytest.skip("a subscription: not a query, never compiled")
    await users[email].check(text)


async def test_the_setting_turns_compilation_off(users: dict[str, Pair]) -> None:
    # given the twin with FLOWGATE_COMPILED_EXECUTION=false
    compiled, plain = await users[ROLES[0]].both(FLOWGATE["Q2"])

    # then: it pages agents, counts them and loads their executions separately
    assert compiled.round_trips == {"sql": 1, "mongo": 0}
    assert plain.round_trips["sql"] > 1


async def test_another_organizations_objects_are_not_found(users: dict[str, Pair]) -> None:
    # given an agent and an execution of the first organization
    acme, globex = users["admin@acme.example"], users["admin@globex.example"]
    data = await gql_data(
        acme.plain, "{ executions(first: 1) { edges { node { id agent { id } } } } }"
    )
    execution = data["executions"]["edges"][0]["node"]
    agent, execution_id = execution["agent"], execution["id"]
    query = "query($a: ID!, $e: ID!) { agent(id: $a) { id name } execution(id: $e) { id } }"

    # when the other organization asks for them, then neither path reveals them
    answer = await globex.check(query, {"a": agent["id"], "e": execution_id}, roots=2)
    assert answer.body["data"] == {"agent": None, "execution": None}
    # ...while their own organization sees them, compiled
    mine = await acme.check(query, {"a": agent["id"], "e": execution_id}, roots=2)
    assert mine.body["data"]["agent"]["id"] == agent["id"]
    assert mine.round_trips == {"sql": 2, "mongo": 0}


SPLIT_QUERY = """
{ executions(first: 20) { edges { node { id tokens promptTokens completionTokens
    steps { tokens promptTokens completionTokens } } } } }
"""


async def test_the_token_split_compiles_from_its_columns(users: dict[str, Pair]) -> None:
    # given: the seeded executions, whose calls are split
    pair = users[ROLES[0]]

    # when
    answer = await pair.check(SPLIT_QUERY)

    # then: the same answer as the resolvers', in one statement, with parts that add up
    assert "errors" not in answer.body
    assert answer.round_trips["sql"] == 1
    nodes = [edge["node"] for edge in answer.body["data"]["executions"]["edges"]]
    assert any(node["promptTokens"] for node in nodes)
    for node in nodes:
        assert node["promptTokens"] + node["completionTokens"] == node["tokens"]


STATS_QUERY = """
query Stats($order: SortDirection!) {
  agents(first: 50, orderBy: {field: EXECUTION_COUNT, direction: $order}) {
    edges { node { id name stats { __typename executions succeeded failed successRate
      averageDurationMs totalCost totalTokens lastStartedAt executionsLast24Hours } } }
  }
}
"""


@pytest.mark.parametrize("email", ROLES)
@pytest.mark.parametrize("order", ["ASC", "DESC"])
async def test_agent_stats_compile_into_the_statement(
    users: dict[str, Pair], email: str, order: str
) -> None:
    # given: the seeded agents, busiest or idlest first
    pair = users[email]

    # when
    answer = await pair.check(STATS_QUERY, {"order": order})

    # then: the resolvers' figures, in one statement (and, for a member, the one lookup of
    # the workflows they may read, which the figures count)
    assert "errors" not in answer.body
    readable_ids = 0 if email.startswith("admin@") else 1
    assert answer.round_trips == {"sql": 1, "mongo": readable_ids}
    # ...and not vacuous: rates and means that are no round numbers, the last 24 hours too
    figures = [edge["node"]["stats"] for edge in answer.body["data"]["agents"]["edges"]]
    assert any(0 < (each["successRate"] or 0) < 1 for each in figures)
    assert any(not float(each["averageDurationMs"] or 0).is_integer() for each in figures)
    if order == "DESC":
        assert any(each["executionsLast24Hours"] for each in figures)


async def test_figures_without_a_figure_are_one_group(users: dict[str, Pair]) -> None:
    # given: a selection of the figures that asks for no aggregate at all
    query = "{ agents(first: 20) { edges { node { stats { __typename } } } } }"

    # when
    answer = await users[ROLES[0]].check(query)

    # then: one object per agent, compiled (not one row per execution, which would fail the
    # statement and leave the resolvers to answer)
    assert answer.round_trips == {"sql": 1, "mongo": 0}
    assert answer.body["data"]["agents"]["edges"][0]["node"] == {
        "stats": {"__typename": "ExecutionStats"}
    }


PROGRESS_QUERY = """
query Progress($status: [ExecutionStatus!]) {
  executions(first: 30, filter: {status: $status}) {
    edges { node { id status progress { __typename nodesDone nodesTotal percent currentNode } } }
  }
}
"""


@pytest.mark.parametrize("email", ROLES)
@pytest.mark.parametrize("live", [True, False])
async def test_progress_compiles_and_asks_traces_of_live_executions_only(
    users: dict[str, Pair], email: str, live: bool
) -> None:
    # given: live executions (a current node in their traces), or ended ones
    pair = users[email]
    status = ["RUNNING", "PAUSED", "PENDING"] if live else ["SUCCEEDED", "FAILED", "CANCELLED"]

    # when
    answer = await pair.check(PROGRESS_QUERY, {"status": status})

    # then: the resolvers' answer in one statement, and one query of the traces when some
    # execution on the page is live, none otherwise (as `progress_of` asks)
    assert "errors" not in answer.body
    readable_ids = 0 if email.startswith("admin@") else 1
    nodes = [edge["node"] for edge in answer.body["data"]["executions"]["edges"]]
    assert nodes
    assert answer.round_trips == {"sql": 1, "mongo": readable_ids + int(live)}
    if live:
        assert any(node["progress"]["currentNode"] for node in nodes)
    else:
        assert all(node["progress"]["currentNode"] is None for node in nodes)
    assert any(node["progress"]["nodesTotal"] for node in nodes)

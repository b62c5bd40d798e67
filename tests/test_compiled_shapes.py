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
async def plain(settings: Settings, seeded: SeedSummary) -> AsyncIterator[FastAPI]:
    async for application in plain_app(settings):
        yield application


@pytest.fixture(scope="module")
async def users(services: Services, app: FastAPI, plain: FastAPI) -> AsyncIterator[dict[str, Pair]]:
    async with AsyncExitStack() as stack:
        yield await pairs(services, app, plain, stack)


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
    if shape in ("Q1", "Q2", "Q3"):
        # Compiled indeed: one statement for the one root field, nothing else.
        assert answer.round_trips == {"sql": 1, "mongo": 0}


@pytest.mark.parametrize("email", ROLES)
@pytest.mark.parametrize("example", sorted(EXAMPLES))
async def test_graphiql_example(users: dict[str, Pair], email: str, example: str) -> None:
    text = EXAMPLES[example]
    if "subscription" in text.split("{", 1)[0]:
        pytest.skip("a subscription: not a query, never compiled")
    await users[email].check(text)

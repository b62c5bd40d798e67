"""Persisted queries: Apollo's automatic persisted queries, and the allow-list mode."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from flowgate.app import create_app
from tests.test_protection import codes, variant
from tests.test_rate_limit import redis_url  # noqa: F401  # a fixture: Redis for this module too

ALLOWED = "query Allowed { __typename }"


def fresh_query() -> str:
    """A query no earlier request has registered: a unique alias changes its hash."""
    return f"{{ q{uuid.uuid4().hex}: __typename }}"


def sha256(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def persisted(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def send(
    client: httpx.AsyncClient, query: str | None, extensions: dict[str, Any]
) -> dict[str, Any]:
    payload: dict[str, Any] = {"extensions": extensions}
    if query is not None:
        payload["query"] = query
    response = await client.post("/graphql", json=payload)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_unknown_hash_asks_for_the_query(client: httpx.AsyncClient) -> None:
    body = await send(client, None, persisted(sha256(fresh_query())))
    [error] = body["errors"]
    assert error["message"] == "PersistedQueryNotFound"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_query_sent_with_its_hash_is_registered_and_runs_by_hash(
    client: httpx.AsyncClient,
) -> None:
    # given
    query = fresh_query()
    digest = sha256(query)

    # when: the second request sends the query along with its hash, the third only the hash
    registered = await send(client, query, persisted(digest))
    by_hash = await send(client, None, persisted(digest))

    # then
    assert "errors" not in registered
    assert by_hash["data"] == registered["data"]


async def test_a_persisted_query_runs_over_get(client: httpx.AsyncClient) -> None:
    query = fresh_query()
    await send(client, query, persisted(sha256(query)))
    # as Apollo Client sends it: without `Accept: application/json`, a GET without `query`
    # is taken for a browser asking for GraphiQL
    response = await client.get(
        "/graphql",
        params={"extensions": json.dumps(persisted(sha256(query)))},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 200
    assert "errors" not in response.json()


async def test_a_hash_that_is_not_the_querys_is_refused(client: httpx.AsyncClient) -> None:
    # given: a hash of some other query
    query = fresh_query()
    body = await send(client, query, persisted(sha256(fresh_query())))

    # then: refused, and nothing registered under that hash
    assert codes(body) == ["PERSISTED_QUERY_INVALID"]
    assert "errors" in await send(client, None, persisted(sha256(query)))


async def test_an_unknown_protocol_version_is_refused(client: httpx.AsyncClient) -> None:
    query = fresh_query()
    body = await send(
        client, query, {"persistedQuery": {"version": 2, "sha256Hash": sha256(query)}}
    )
    assert codes(body) == ["PERSISTED_QUERY_INVALID"]


async def test_allow_list_mode_runs_registered_operations_only(
    app: FastAPI, tmp_path: Path
) -> None:
    # given: a gateway that runs only the operations of its file
    allow_list = tmp_path / "operations.json"
    allow_list.write_text(json.dumps({sha256(ALLOWED): ALLOWED}))
    overrides = {"persisted_queries_only": True, "persisted_queries_file": allow_list}
    async with variant(app, **overrides) as client:
        # when / then: a registered operation runs, by hash or in full
        assert (await send(client, None, persisted(sha256(ALLOWED))))["data"] == {
            "__typename": "Query"
        }
        assert "errors" not in await send(client, ALLOWED, {})

        # and anything else is refused, even sent with its correct hash
        other = fresh_query()
        assert codes(await send(client, other, {})) == ["OPERATION_NOT_ALLOWED"]
        assert codes(await send(client, other, persisted(sha256(other)))) == [
            "OPERATION_NOT_ALLOWED"
        ]
        assert codes(await send(client, None, persisted(sha256(other)))) == [
            "PERSISTED_QUERY_NOT_FOUND"
        ]


def test_an_allow_list_with_a_wrong_hash_stops_the_start(app: FastAPI, tmp_path: Path) -> None:
    allow_list = tmp_path / "operations.json"
    allow_list.write_text(json.dumps({sha256("{ other }"): ALLOWED}))
    settings = app.state.services.settings.model_copy(
        update={"persisted_queries_only": True, "persisted_queries_file": allow_list}
    )
    with pytest.raises(ValueError, match="is not the SHA-256 of its query"):
        create_app(settings)


async def test_persisted_queries_are_shared_through_redis(
    app: FastAPI, request: pytest.FixtureRequest
) -> None:
    # given: two gateways on one Redis
    url = request.getfixturevalue("redis_url")
    query = fresh_query()
    digest = sha256(query)
    async with variant(app, redis_url=url) as one, variant(app, redis_url=url) as two:
        # when: one registers the query
        await send(one, query, persisted(digest))

        # then: the other runs it by hash
        assert (await send(two, None, persisted(digest)))["data"] == (
            await send(one, None, persisted(digest))
        )["data"]

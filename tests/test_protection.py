"""Limits that keep one client or one query from taking the gateway down, each with its good
and its bad path, through real HTTP and websocket clients.

Rules that a setting switches (production mode, small limits) are tested on an app of their
own built by `variant`, which shares the session app's open services."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import structlog
import websockets
from fastapi import FastAPI

import resolvers.agents
import schema.compiled.executor
from flowgate.app import create_app
from flowgate.auth.per_address import SocketsPerAddress
from flowgate.auth.rate_limit import create_rate_limiter
from flowgate.protection.request_id import RequestIdMiddleware
from flowgate.request_scope import current_request_id
from flowgate.settings import Settings
from resolvers.ids import to_global_id
from schema.extensions.limits import Limits
from tests.auth import ADMIN, api_key_for, bearer
from tests.serving import serving
from tests.ws import connect

TYPENAME = "{ __typename }"
INTROSPECTION = "{ __schema { queryType { name } } }"
MISSPELLED = "{ agents(first: 1) { edges { node { nam } } } }"
CREATE_AGENT = 'mutation { createAgent(input: {name: ""}) { __typename } }'
AGENT = "query Agent($id: ID!) { agent(id: $id) { id } }"
TOO_COSTLY = """
{ agents(first: 100) { edges { node {
    executions(first: 100) { edges { node { steps { nodeId } } } } } } } }
"""
COSTLY_BY_VARIABLES = """
query Costly($agents: Int, $executions: Int) { agents(first: $agents) { edges { node {
    executions(first: $executions) { edges { node { steps { nodeId } } } } } } } }
"""
BY_STATUS = "query($status: [AgentStatus!]) { agents(filter: {status: $status}) { totalCount } }"
UPDATES = "subscription { executionUpdates { id status } }"


@asynccontextmanager
async def variant_app(app: FastAPI, **overrides: Any) -> AsyncIterator[tuple[FastAPI, str]]:
    """An app built from the session's settings with `overrides`, and an admin key.

    It shares the session app's open services rather than opening its own: a second lifespan
    would re-initialise Beanie for the whole process and close its Mongo client on exit."""
    services = app.state.services
    settings = services.settings.model_copy(update=overrides)
    other = create_app(settings)
    other.state.services = dataclasses.replace(services, settings=settings)
    secret, _ = await api_key_for(services, ADMIN, "variant")
    other.state.guards = guards = dataclasses.replace(
        app.state.guards,
        rate_limiter=create_rate_limiter(settings),
        sockets=SocketsPerAddress(settings.max_ws_per_address),
    )
    try:
        yield other, secret
    finally:
        await guards.rate_limiter.close()  # the rest is the session app's
        await other.state.persisted_queries.store.close()


@asynccontextmanager
async def variant(app: FastAPI, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app built from the session's settings with `overrides`."""
    async with variant_app(app, **overrides) as (other, secret):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://flowgate.test", headers=bearer(secret)
        ) as http:
            yield http


async def post(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]


def nested(depth: int) -> str:
    """A query nested `depth` levels (agents > edges > node > flowchart > agent > ...), then a
    leaf field: Strawberry's depth counts the levels of selections, not the leaf."""
    fields = ["agents(first: 1)", "edges", "node"]
    while len(fields) < depth:
        fields.append("flowchart" if len(fields) % 2 == 1 else "agent")
    return "{ " + " { ".join(fields) + " { id" + " }" * len(fields) + " }"


# -- depth, aliases, tokens, cost ------------------------------------------------------------


async def test_a_query_at_the_depth_limit_runs(client: httpx.AsyncClient, seeded: object) -> None:
    body = await post(client, nested(10))
    assert "errors" not in body, body


async def test_a_query_over_the_depth_limit_is_refused(client: httpx.AsyncClient) -> None:
    body = await post(client, nested(11))
    assert body.get("data") is None
    assert codes(body) == ["QUERY_TOO_DEEP"]
    assert "maximum operation depth of 10" in body["errors"][0]["message"]


async def test_aliases_up_to_the_limit_run(client: httpx.AsyncClient) -> None:
    body = await post(client, "{ " + " ".join(f"a{i}: __typename" for i in range(15)) + " }")
    assert "errors" not in body, body


async def test_too_many_aliases_are_refused(client: httpx.AsyncClient) -> None:
    body = await post(client, "{ " + " ".join(f"a{i}: __typename" for i in range(16)) + " }")
    assert codes(body) == ["TOO_MANY_ALIASES"]
    assert "16 aliases found. Allowed: 15" in body["errors"][0]["message"]


def long_query(fragments: int) -> str:
    """A valid query of 9 tokens per fragment: `...Fn` and `fragment Fn on Query { __typename }`."""
    spreads = " ".join(f"...F{n}" for n in range(fragments))
    definitions = " ".join(f"fragment F{n} on Query {{ __typename }}" for n in range(fragments))
    return f"{{ {spreads} }} {definitions}"


async def test_a_document_within_the_token_limit_runs(client: httpx.AsyncClient) -> None:
    body = await post(client, long_query(215))  # 1,937 tokens
    assert "errors" not in body, body


async def test_a_document_over_the_token_limit_is_refused(client: httpx.AsyncClient) -> None:
    body = await post(client, long_query(230))  # 2,072 tokens
    assert codes(body) == ["TOO_MANY_TOKENS"]
    assert "more than 2000 tokens" in body["errors"][0]["message"]


async def test_a_reasonable_nested_query_is_within_the_cost_limit(
    client: httpx.AsyncClient, seeded: object
) -> None:
    body = await post(client, COSTLY_BY_VARIABLES, agents=10, executions=5)
    assert "errors" not in body, body


async def test_a_query_over_the_cost_limit_is_refused_with_its_cost(
    client: httpx.AsyncClient,
) -> None:
    # 100 agents x 100 executions x (their steps, counted as 10 each): far over 50,000
    body = await post(client, TOO_COSTLY)
    assert body.get("data") is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 130301, "limit": 50000}
    assert "estimated cost 130301 exceeds the limit of 50000" in error["message"]


async def test_the_cost_counts_page_sizes_given_by_variables(client: httpx.AsyncClient) -> None:
    body = await post(client, COSTLY_BY_VARIABLES, agents=100, executions=100)
    assert codes(body) == ["QUERY_TOO_COSTLY"]


async def test_page_sizes_out_of_range_keep_their_own_error(client: httpx.AsyncClient) -> None:
    # The estimate caps a page at 100: `first: 5000` is a bad argument, not a costly query.
    body = await post(client, "{ agents(first: 5000) { totalCount } }")
    assert codes(body) == ["BAD_USER_INPUT"]


# -- request and websocket sizes ---------------------------------------------------------------


async def test_a_body_under_a_megabyte_is_served(client: httpx.AsyncClient) -> None:
    # Variables the operation does not declare are ignored: a padded but valid request.
    payload = {"query": TYPENAME, "variables": {"padding": "x" * 1_000_000}}
    response = await client.post("/graphql", json=payload)
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}


async def test_a_body_over_a_megabyte_is_refused_with_413(client: httpx.AsyncClient) -> None:
    payload = {"query": TYPENAME, "variables": {"padding": "x" * 1_100_000}}
    response = await client.post("/graphql", json=payload)
    assert response.status_code == 413
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "limit": 1024 * 1024}
    assert response.headers["x-request-id"]


async def test_a_chunked_body_is_cut_off_at_the_limit(client: httpx.AsyncClient) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"query": "{ __typename }", "variables": {"padding": "'
        for _ in range(100):  # 6.4 MB if all were read
            sent += 1
            yield b"x" * 65536

    response = await client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert sent <= 17  # stopped reading once past 1 MB


@pytest.fixture
async def small_ws_server(app: FastAPI) -> AsyncIterator[str]:
    """The session app served as `flowgate serve` does, with its websocket message limit."""
    settings = app.state.services.settings
    async with serving(app, ws_max_size=settings.max_ws_message_bytes) as port:
        yield f"ws://127.0.0.1:{port}/graphql"


async def test_a_websocket_message_under_the_limit_is_served(
    small_ws_server: str, admin_payload: dict[str, str]
) -> None:
    async with connect(small_ws_server, admin_payload) as ws:
        query = "{ __typename }" + " " * 1_000_000
        operation = await ws.subscribe(query)
        results = [payload async for payload in ws.results(operation)]
    assert results == [{"data": {"__typename": "Query"}, "extensions": results[0]["extensions"]}]


async def test_a_websocket_message_over_the_limit_closes_the_socket(
    small_ws_server: str, admin_payload: dict[str, str]
) -> None:
    async with connect(small_ws_server, admin_payload) as ws:
        await ws.subscribe("{ __typename }" + " " * 1_100_000)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.receive(10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009  # message too big


async def test_operations_per_websocket_are_capped_at_100(
    live_server: str, admin_payload: dict[str, str]
) -> None:
    async with connect(f"ws://{live_server}/graphql", admin_payload) as ws:
        # given: 99 subscriptions in flight; one more operation (a query) still runs
        for _ in range(99):
            await ws.subscribe(UPDATES)
        query = await ws.subscribe(TYPENAME)
        assert [p["data"] async for p in ws.results(query)] == [{"__typename": "Query"}]
        await asyncio.sleep(0.2)  # the finished query leaves the connection's operations

        # when: a 100th subscription, then one more operation
        await ws.subscribe(UPDATES)
        refused = await ws.subscribe(TYPENAME)

        # then
        message = await ws.receive()
        assert message["id"] == refused
        assert message["type"] == "error"
        assert message["payload"][0]["message"] == "Subscription limit reached"


# -- GET ---------------------------------------------------------------------------------------


async def test_queries_may_come_over_get(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": TYPENAME})
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}


async def test_mutations_over_get_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": CREATE_AGENT})
    # Strawberry's answer: 400, and nothing runs.
    assert response.status_code == 400
    assert "mutations are not allowed when using GET" in response.text


# -- introspection, GraphiQL, suggestions ------------------------------------------------------


async def test_development_has_introspection_graphiql_and_suggestions(
    client: httpx.AsyncClient,
) -> None:
    assert (await post(client, INTROSPECTION))["data"]["__schema"]["queryType"]["name"] == "Query"
    ide = await client.get("/graphql", headers={"accept": "text/html"})
    assert ide.status_code == 200
    assert "graphiql" in ide.text.lower()
    misspelled = await post(client, MISSPELLED)
    assert "Did you mean" in misspelled["errors"][0]["message"]


async def test_production_turns_them_off(app: FastAPI) -> None:
    async with variant(app, environment="production") as client:
        introspection = await post(client, INTROSPECTION)
        assert introspection.get("data") is None
        assert set(codes(introspection)) == {"INTROSPECTION_DISABLED"}
        ide = await client.get("/graphql", headers={"accept": "text/html"})
        assert ide.status_code == 404
        misspelled = await post(client, MISSPELLED)
        [error] = misspelled["errors"]
        assert error["message"] == "Cannot query field 'nam' on type 'Agent'."
        enum = await post(client, BY_STATUS, status=["ACTIV"])
        assert "Did you mean" not in json.dumps(enum)


async def test_production_may_turn_introspection_back_on(app: FastAPI) -> None:
    async with variant(app, environment="production", introspection=True) as client:
        assert "errors" not in await post(client, INTROSPECTION)


# -- unexpected errors -------------------------------------------------------------------------


async def test_an_unexpected_error_is_masked_quoting_the_request_id(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a resolver with a bug whose text would leak internals
    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("password=hunter2 host=db-internal")

    monkeypatch.setattr(resolvers.agents, "agent_by_id", broken)
    # ...and the compiled path's statement too (it falls back to the resolver, which fails)
    monkeypatch.setattr(schema.compiled.executor, "fetch_json", broken)

    # when
    with structlog.testing.capture_logs() as logs:
        variables = {"id": to_global_id("Agent", uuid.uuid4())}
        response = await client.post("/graphql", json={"query": AGENT, "variables": variables})

    # then: the client sees a message and the id, the log has the traceback under that id
    assert response.status_code == 200
    body = response.json()
    request_id = response.headers["x-request-id"]
    assert body["extensions"]["requestId"] == request_id
    [error] = body["errors"]
    assert error["message"] == f"Internal server error (request id {request_id})"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert "hunter2" not in response.text
    [logged] = [entry for entry in logs if entry["event"] == "unexpected_error"]
    assert logged["request_id"] == request_id
    assert isinstance(logged["exc_info"], RuntimeError)


async def test_expected_errors_keep_their_message_and_code(client: httpx.AsyncClient) -> None:
    body = await post(client, AGENT, id="not an id")
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "request id" not in error["message"]


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    first = await client.post("/graphql", json={"query": TYPENAME})
    second = await client.post("/graphql", json={"query": TYPENAME})
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert first.json()["extensions"]["requestId"] == first.headers["x-request-id"]


async def test_a_request_id_from_the_client_is_kept(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": TYPENAME}, headers={"x-request-id": "trace-1234abcd"}
    )
    assert response.headers["x-request-id"] == "trace-1234abcd"
    assert response.json()["extensions"]["requestId"] == "trace-1234abcd"


async def test_the_request_id_is_bound_while_the_request_runs_and_only_then() -> None:
    # given: an app that notes what structlog would log under, inside a request bound
    # to an id of its own (a websocket operation's, say)
    seen: list[object] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(structlog.contextvars.get_contextvars().get("request_id"))
        raise RuntimeError("the app failed")

    middleware = RequestIdMiddleware(inner)
    scope = {"type": "http", "headers": [(b"x-request-id", b"request-1234abcd")]}
    structlog.contextvars.bind_contextvars(request_id="outer-1234abcd", other="kept")
    try:
        # when: the app fails
        with pytest.raises(RuntimeError):
            await middleware(scope, None, None)

        # then: the app ran under the request's id; the outer id and the rest are back
        assert seen == ["request-1234abcd"]
        assert structlog.contextvars.get_contextvars() == {
            "request_id": "outer-1234abcd",
            "other": "kept",
        }
        assert current_request_id() is None
    finally:
        structlog.contextvars.clear_contextvars()


def test_the_limits_are_each_settings_own_when_apps_take_turns() -> None:
    # given: two apps' settings
    first = Settings.model_construct(max_query_cost=100)
    second = first.model_copy(update={"max_query_cost": 5})

    # when: their requests take turns
    limits = [Limits.from_settings(s) for s in (first, second, first, second)]

    # then: each gets its own limits, the same object while its settings stay the same
    assert [each.max_cost for each in limits] == [100, 5, 100, 5]
    assert Limits.from_settings(second) is Limits.from_settings(second)


async def test_the_page_size_limit_is_a_setting(app: FastAPI, seeded: object) -> None:
    # given: pages of at most 5
    async with variant(app, max_page_size=5) as client:
        # then: 5 is served, 6 is refused naming the argument, at the root and nested alike
        ok = await post(client, "{ agents(first: 5) { edges { node { id } } } }")
        assert len(ok["data"]["agents"]["edges"]) == 5
        root = await post(client, "{ agents(first: 6) { totalCount } }")
        nested = await post(
            client,
            "{ agents(first: 1) { edges { node { executions(first: 6) { totalCount } } } } }",
        )
        found = await post(client, '{ search(query: "agent", first: 6) { totalCount } }')
    for body in (root, nested, found):
        assert codes(body) == ["BAD_USER_INPUT"], body
        assert "6" in body["errors"][0]["message"]
    assert "at most 5" in root["errors"][0]["message"]

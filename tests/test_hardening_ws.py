"""Websocket protocol abuse from the adversarial review (issue 13), over both protocols with
a real client: malformed frames, repeated or missing `connection_init`, operations that skip
the rate limits or the allow-list, payloads of the wrong types, too many sockets, and the
traceback (with every frame's locals) an unexpected error used to render."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import structlog
import websockets
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection

from resolvers import cursors
from resolvers.errors import BadInputError
from resolvers.subscriptions import decode_cursor, encode_cursor
from schema.extensions.persisted import sha256
from tests import ws
from tests.auth import bearer
from tests.scratch import Scratch
from tests.serving import serving
from tests.test_execution_lifecycle import start as start_execution
from tests.test_observe import logging_to
from tests.test_protection import variant_app
from tests.test_subscriptions import Live
from tests.test_subscriptions import _collect as collect_progress
from tests.ws import SubscriptionError

TRANSPORT = "graphql-transport-ws"
LEGACY = "graphql-ws"
TYPENAME = "{ __typename }"
# Start an operation, in each protocol's words.
START = {TRANSPORT: "subscribe", LEGACY: "start"}


@asynccontextmanager
async def variant_server(app: FastAPI, **overrides: Any) -> AsyncIterator[tuple[str, str]]:
    """An app with `overrides` (see `variant_app`) on a real port: its websocket URL and an
    admin key. The app is `app.state.variant`."""
    async with variant_app(app, **overrides) as (other, secret):
        app.state.variant = other
        async with serving(other) as port:
            yield f"ws://127.0.0.1:{port}/graphql", secret


@asynccontextmanager
async def opened(
    url: str, protocol: str, payload: dict[str, Any]
) -> AsyncIterator[ClientConnection]:
    """A socket of `protocol` whose `connection_init` was acknowledged."""
    async with websockets.connect(url, subprotocols=[protocol]) as connection:  # type: ignore[list-item]
        await init(connection, payload)
        yield connection


async def init(connection: ClientConnection, payload: dict[str, Any]) -> None:
    await connection.send(json.dumps({"type": "connection_init", "payload": payload}))
    assert (await receive(connection))["type"] == "connection_ack"


async def receive(connection: ClientConnection) -> dict[str, Any]:
    """The next message that is not a keep-alive."""
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(connection.recv(), 10))
        if message["type"] not in {"ka", "ping", "pong"}:
            return message


async def closed_with(connection: ClientConnection) -> tuple[int, str]:
    """The code and reason the server closed `connection` with (waiting up to 10 s)."""
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await _receive_forever(connection)
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def _receive_forever(connection: ClientConnection) -> None:
    while True:
        await receive(connection)


async def start(
    connection: ClientConnection, protocol: str, payload: dict[str, Any], operation: str = "1"
) -> None:
    await connection.send(
        json.dumps({"id": operation, "type": START[protocol], "payload": payload})
    )


async def answer(connection: ClientConnection, operation: str = "1") -> dict[str, Any]:
    """The first message of `operation` (its result, or its error)."""
    while True:
        message = await receive(connection)
        if message.get("id") == operation:
            return message


async def assert_served(connection: ClientConnection, protocol: str, operation: str) -> None:
    """`{ __typename }` as `operation` got past admission: answered over graphql-transport-ws;
    over graphql-ws, which runs subscriptions only, refused for its type with a code."""
    message = await answer(connection, operation)
    if protocol == TRANSPORT:
        assert message["payload"]["data"] == {"__typename": "Query"}, message
    else:
        assert first_error(message)["extensions"]["code"] == "OPERATION_TYPE_NOT_ALLOWED"


def first_error(message: dict[str, Any]) -> dict[str, Any]:
    """The error of an `error` message: a list in graphql-transport-ws, one in graphql-ws."""
    assert message["type"] == "error", message
    payload = message["payload"]
    error: dict[str, Any] = payload[0] if isinstance(payload, list) else payload
    return error


@pytest.fixture
def url(live_server: str) -> str:
    return f"ws://{live_server}/graphql"


# -- item 7: malformed frames close the socket with 4400 ----------------------------------------

MALFORMED = [
    "null",
    "[]",
    "123",
    '"x"',
    '{"type": 5}',
    '{"id": "1", "type": "START", "payload": "x"}',
    '{"id": "1", "type": "START", "payload": null}',
    '{"id": 1, "type": "START", "payload": {"query": "{ __typename }"}}',
]


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
@pytest.mark.parametrize("frame", MALFORMED)
async def test_a_malformed_frame_closes_the_socket_with_4400(
    url: str, protocol: str, frame: str, admin_payload: dict[str, str]
) -> None:
    async with opened(url, protocol, admin_payload) as connection:
        await connection.send(frame.replace("START", START[protocol]))
        code, reason = await closed_with(connection)
    assert code == 4400
    assert reason.startswith(("A message must", "A `", "The payload of"))
    # and the gateway serves the next socket as ever
    async with ws.connect(url, admin_payload) as client:
        operation = await client.subscribe(TYPENAME)
        assert [p["data"] async for p in client.results(operation)] == [{"__typename": "Query"}]


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"query": 5}, "query"),
        ({"query": ["{ __typename }"]}, "query"),
        ({"query": TYPENAME, "variables": []}, "variables"),
        ({"query": TYPENAME, "variables": "x"}, "variables"),
        ({"query": TYPENAME, "operationName": 1}, "operationName"),
        ({"variables": {}}, "query"),
    ],
)
async def test_an_operation_of_the_wrong_types_gets_an_error_answer(
    url: str, protocol: str, payload: dict[str, Any], field: str, admin_payload: dict[str, str]
) -> None:
    async with opened(url, protocol, admin_payload) as connection:
        await start(connection, protocol, payload)
        error = first_error(await answer(connection))
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": field}
        assert f"Invalid `{field}`" in error["message"]

        # the socket stays open for the next operation
        await start(connection, protocol, {"query": TYPENAME}, operation="2")
        await assert_served(connection, protocol, "2")


def test_development_logs_render_tracebacks_without_locals() -> None:
    stream = io.StringIO()
    with logging_to(stream, production=False):
        try:
            credential_in_a_local = "hunter2-" + "x" * 10
            raise ValueError(credential_in_a_local[:3])
        except ValueError:
            structlog.get_logger("test").exception("failed")
    text = stream.getvalue()
    assert "Traceback (most recent call last)" in text
    assert "ValueError: hun" in text
    assert "hunter2-xxxxxxxxxx" not in text  # rich printed each frame's locals


# -- item 8 and the legacy protocol's init -----------------------------------------------------


async def test_a_second_connection_init_on_graphql_ws_is_refused_with_4429(
    url: str, admin_payload: dict[str, str]
) -> None:
    async with opened(url, LEGACY, admin_payload) as connection:
        await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert await closed_with(connection) == (4429, "Too many initialisation requests")


async def test_a_graphql_ws_socket_without_connection_init_is_closed_with_4408(
    app: FastAPI, seeded: object
) -> None:
    async with (
        variant_server(app, ws_init_timeout=0.3) as (url, _),
        websockets.connect(url, subprotocols=[LEGACY]) as connection,  # type: ignore[list-item]
    ):
        assert await closed_with(connection) == (4408, "Connection initialisation timeout")


async def test_a_graphql_ws_socket_that_says_hello_in_time_stays_open(
    app: FastAPI, seeded: object
) -> None:
    async with (
        variant_server(app, ws_init_timeout=0.3) as (url, secret),
        opened(url, LEGACY, bearer(secret)) as connection,
    ):
        await asyncio.sleep(0.6)  # past the timeout: initialised in time, so still open
        await start(connection, LEGACY, {"query": TYPENAME})
        await assert_served(connection, LEGACY, "1")


# -- low: rate limits, allow-list and socket cap over websockets -------------------------------


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_websocket_operations_count_against_the_rate_limit(
    app: FastAPI, seeded: object, protocol: str
) -> None:
    overrides = {"rate_limit_per_principal": 2, "redis_url": None}
    async with (
        variant_server(app, **overrides) as (url, secret),
        opened(url, protocol, bearer(secret)) as connection,
    ):
        for operation in ("1", "2"):
            await start(connection, protocol, {"query": TYPENAME}, operation)
            await assert_served(connection, protocol, operation)
        await start(connection, protocol, {"query": TYPENAME}, "3")
        error = first_error(await answer(connection, "3"))
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] >= 1
    assert "2 requests per 60 s per principal" in error["message"]


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_allow_list_mode_refuses_unregistered_operations_with_a_code(
    app: FastAPI, seeded: object, tmp_path: Path, protocol: str
) -> None:
    allow_list = tmp_path / "operations.json"
    allow_list.write_text(json.dumps({sha256(TYPENAME): TYPENAME}))
    overrides = {"persisted_queries_only": True, "persisted_queries_file": allow_list}
    async with (
        variant_server(app, **overrides) as (url, secret),
        opened(url, protocol, bearer(secret)) as connection,
    ):
        await start(connection, protocol, {"query": "{ me { id } }"})
        error = first_error(await answer(connection))
        assert error["extensions"] == {"code": "OPERATION_NOT_ALLOWED"}

        # a registered one runs, in full or by its hash
        await start(connection, protocol, {"query": TYPENAME}, "2")
        await assert_served(connection, protocol, "2")
        by_hash = {"persistedQuery": {"version": 1, "sha256Hash": sha256(TYPENAME)}}
        await start(connection, protocol, {"extensions": by_hash}, "3")
        await assert_served(connection, protocol, "3")


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_sockets_per_address_are_capped(app: FastAPI, seeded: object, protocol: str) -> None:
    async with variant_server(app, max_ws_per_address=2) as (url, secret):
        async with (
            opened(url, protocol, bearer(secret)),
            opened(url, protocol, bearer(secret)),
            websockets.connect(url, subprotocols=[protocol]) as third,  # type: ignore[list-item]
        ):
            assert await closed_with(third) == (1013, "Too many websockets from here")
        # once the server has let the two go, another may open
        sockets = app.state.variant.state.guards.sockets
        for _ in range(100):
            if sockets.held == 0:
                break
            await asyncio.sleep(0.05)
        async with opened(url, protocol, bearer(secret)) as again:
            await start(again, protocol, {"query": TYPENAME})
            await assert_served(again, protocol, "1")


# -- low: a cursor beyond int64 ------------------------------------------------------------------


@pytest.mark.parametrize("seq", [2**63, 2**64 + 5, 10**40])
def test_a_cursor_beyond_int64_is_malformed(seq: int) -> None:
    with pytest.raises(BadInputError) as refused:
        decode_cursor(encode_cursor(seq))
    assert refused.value.extensions == {"code": "BAD_USER_INPUT", "argument": "after"}
    assert decode_cursor(encode_cursor(2**63 - 1)) == 2**63 - 1


@pytest.mark.parametrize(
    "after",
    [
        pytest.param(encode_cursor(2**63), id="beyond-int64"),  # BSON cannot hold it: was a 500
        pytest.param(cursors.encode_audit(3), id="an-audit-cursor"),
        pytest.param(cursors.encode_page(3, uuid.uuid4()), id="a-page-cursor"),
    ],
)
async def test_execution_progress_after_a_cursor_it_never_gave_is_bad_input(
    scratch: Scratch, url: str, admin_payload: dict[str, str], after: str
) -> None:
    # given
    agent_id = await scratch.create_agent("bad-cursor")
    execution_id = (await start_execution(scratch, agent_id))["execution"]["id"]

    # when
    with pytest.raises(SubscriptionError) as failure:
        await collect_progress(Live(url, admin_payload), execution_id, after=after)

    # then
    error = failure.value.errors[0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}

"""An unexpected error raised outside the masking extension's reach is masked too, and the
client is told the operation failed:
- before an operation starts (an extension's `on_operation`: the persisted-query store, a
  bug), Strawberry ends it before the masking extension is entered and answered over HTTP
  with the exception's own text (`schema.extensions.masking.mask_escaped`); over a
  websocket, the operation's admission fails it (`flowgate.sockets.admission`);
- an exception escaping an operation's stream over a websocket (a query or a subscription)
  was answered with a bare `complete`, which a client takes for a finished operation
  (`schema.extensions.hooks.FlowgateSchema.stream`, `flowgate.sockets.groups`)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest
from graphql import DocumentNode

from flowgate.request_scope import request_id_var
from flowgate.sockets.groups import RenderGroups
from schema.extensions import limits
from schema.extensions.persisted import PersistedQueries
from tests.test_hardening_ws import LEGACY, TRANSPORT, answer, first_error, opened, start

DETAIL = "internal-detail-of-the-store"
TYPENAME = "{ __typename }"
SUBSCRIPTION = "subscription { executionUpdates { __typename } }"


@pytest.fixture
def failing_store(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fail(self: PersistedQueries, query: str | None, extension: Any) -> str | None:
        raise RuntimeError(DETAIL)

    monkeypatch.setattr(PersistedQueries, "resolve", fail)


def assert_masked(error: dict[str, Any]) -> None:
    assert DETAIL not in str(error)
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["message"].startswith("Internal server error (request id ")


@pytest.mark.usefixtures("failing_store")
@pytest.mark.parametrize("by_hash", [False, True])
async def test_an_error_before_the_operation_is_masked_over_http(
    client: httpx.AsyncClient, by_hash: bool
) -> None:
    digest = hashlib.sha256(TYPENAME.encode()).hexdigest()
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    if not by_hash:
        body["query"] = TYPENAME
    # when
    response = await client.post("/graphql", json=body)
    # then
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert_masked(error)


@pytest.fixture
def failing_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The limits extension's parse fails. Patched where the hook looks it up when it runs:
    the hooks themselves are planned once per process (`schema.extensions.hooks`), so a
    patched hook would take effect only in a process that had not run one yet."""

    def fail(query: str, max_tokens: int) -> DocumentNode:
        raise RuntimeError(DETAIL)

    monkeypatch.setattr(limits, "parse_cached", fail)


def masked_error_of(message: dict[str, Any]) -> dict[str, Any]:
    """The one error an operation ended with: an `error` message's, or a result's."""
    if message["type"] == "error":
        return first_error(message)
    [error] = message["payload"]["errors"]
    return cast("dict[str, Any]", error)


# failing_store: before the operation starts (its admission); failing_limits: inside the
# schema (a subscription: inside its group).
@pytest.mark.parametrize("failure", ["failing_store", "failing_limits"])
@pytest.mark.parametrize(
    ("protocol", "query"),
    [(TRANSPORT, TYPENAME), (TRANSPORT, SUBSCRIPTION), (LEGACY, SUBSCRIPTION)],
)
async def test_an_operation_that_fails_over_a_websocket_ends_with_its_error_masked(
    request: pytest.FixtureRequest,
    live_server: str,
    admin_payload: dict[str, Any],
    failure: str,
    protocol: str,
    query: str,
) -> None:
    request.getfixturevalue(failure)
    async with opened(f"ws://{live_server}/graphql", protocol, admin_payload) as connection:
        # when: one operation fails
        await start(connection, protocol, {"query": query})
        # then: it ends with its error, masked (not a bare `complete`, which a client takes
        # for a finished operation, nor a closed socket), and the socket serves the next one
        assert_masked(masked_error_of(await answer(connection)))
        await start(connection, protocol, {"query": query}, operation="2")
        assert_masked(masked_error_of(await answer(connection, "2")))


async def test_a_subscription_group_that_fails_tells_each_member() -> None:
    # given: a group of two members whose stream fails outside the schema (the group's own
    # machinery: the schema's failures come as results, above), under a request id
    async def source() -> AsyncIterator[Any]:
        raise RuntimeError(DETAIL)

    token = request_id_var.set("request-of-the-group")
    try:
        groups = RenderGroups(queue_limit=4)
        group, first = groups.join(("a", "group"), source, replay_last=False)
        second = group.join()
    finally:
        request_id_var.reset(token)
    # when
    async with asyncio.timeout(10):  # a group that never ends fails the test, not the run
        items = [await first.next(), await second.next()]
        ends = (await first.next(), await second.next())
    # then: each member gets the masked error as a refusal (an `error` message), then the end
    for item in items:
        assert item is not None and item.refused
        assert_masked(item.errors[0])
        assert item.errors[0]["extensions"]["requestId"] == "request-of-the-group"
    assert (ends, len(groups)) == ((None, None), 0)

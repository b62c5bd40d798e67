"""The board (`executionUpdates` with progress) through real websocket clients of both
protocols, and one rendering per group of alike subscribers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets
from fastapi import FastAPI

from flowgate.metrics import SUBSCRIPTION_DELIVERIES, SUBSCRIPTION_RENDERS
from tests.scratch import Scratch, gql
from tests.test_execution_lifecycle import FINISH, start, step
from tests.test_subscriptions import Live, live
from tests.ws import SubscriptionError, connect

BOARD = """
subscription Board($filter: ExecutionUpdatesFilter) {
  executionUpdates(filter: $filter, progress: true) {
    id kind status seq cost tokens progress { nodesDone nodesTotal currentNode }
  }
}
"""
STATE = """
query($id: ID!) {
  execution(id: $id) { status cost tokens progress { nodesDone nodesTotal currentNode } }
}
"""
LEGACY = "graphql-ws"
__all__ = ["live"]  # the fixture, shared with tests.test_subscriptions


async def wait_for_hub(app: FastAPI, before: int) -> None:
    """Until the hub has more subscribers than `before` (the protocol acknowledges none)."""
    hub = app.state.services.bus.hub
    async with asyncio.timeout(10):
        while hub.subscriber_count <= before:  # noqa: ASYNC110 - no event to await
            await asyncio.sleep(0.02)


async def run_execution(scratch: Scratch, agent_id: str, steps: int = 2) -> str:
    """Start, `steps` steps (each started and finished, with tokens and cost), succeed."""
    execution_id: str = (await start(scratch, agent_id))["execution"]["id"]
    for index in range(steps):
        node = f"n{index}"
        await step(scratch, execution_id, node, "STARTED")
        await step(scratch, execution_id, node, "SUCCEEDED", tokens=10 + index, cost=0.25)
    finished = await gql(scratch.client, FINISH, {"id": execution_id, "status": "SUCCEEDED"})
    assert finished["finishExecution"]["__typename"] == "FinishExecutionPayload", finished
    return execution_id


async def board_until_done(live: Live, agent_id: str, done: int) -> list[dict[str, Any]]:
    """The board's items for `agent_id` until `done` executions have succeeded."""
    received: list[dict[str, Any]] = []
    succeeded: set[str] = set()
    async with connect(live.url, live.payload) as ws:
        operation = await ws.subscribe(BOARD, {"filter": {"agentIds": [agent_id]}})
        async for payload in ws.results(operation):
            item = payload["data"]["executionUpdates"]
            received.append(item)
            if item["kind"] == "STATUS_CHANGED" and item["status"] == "SUCCEEDED":
                succeeded.add(item["id"])
            if len(succeeded) == done:
                return received
    return received


async def test_the_board_streams_status_changes_progress_cost_and_tokens(
    scratch: Scratch, live: Live, app: FastAPI
) -> None:
    # given: a board on one agent
    agent_id = await scratch.create_agent("board")
    before = app.state.services.bus.hub.subscriber_count
    board = asyncio.create_task(board_until_done(live, agent_id, 1))
    await wait_for_hub(app, before)

    # when: an execution runs two steps and succeeds
    execution_id = await run_execution(scratch, agent_id)
    received = await asyncio.wait_for(board, 60)

    # then: every status change, in order, and progress in between
    statuses = [item["status"] for item in received if item["kind"] == "STATUS_CHANGED"]
    assert statuses == ["PENDING", "RUNNING", "SUCCEEDED"]
    assert {item["id"] for item in received} == {execution_id}
    assert any(item["kind"] == "PROGRESS" for item in received)
    seqs = [item["seq"] for item in received]
    assert seqs == sorted(seqs)
    # the last item says what the execution is now
    now = (await gql(scratch.client, STATE, {"id": execution_id}))["execution"]
    last = received[-1]
    assert (last["cost"], last["tokens"], last["progress"]) == (
        now["cost"],
        now["tokens"],
        now["progress"],
    )
    assert last["tokens"] == 21
    assert last["cost"] == 0.5


async def test_without_progress_the_board_carries_status_changes_only(
    scratch: Scratch, live: Live, app: FastAPI
) -> None:
    # given: the board as it was before progress, asked for cost and kind
    agent_id = await scratch.create_agent("status-only")
    query = (
        "subscription($f: ExecutionUpdatesFilter) "
        "{ executionUpdates(filter: $f) { kind status cost } }"
    )
    received: list[dict[str, Any]] = []

    async def watch() -> None:
        async with connect(live.url, live.payload) as ws:
            operation = await ws.subscribe(query, {"f": {"agentIds": [agent_id]}})
            async for payload in ws.results(operation):
                received.append(payload["data"]["executionUpdates"])
                if received[-1]["status"] == "SUCCEEDED":
                    return

    before = app.state.services.bus.hub.subscriber_count
    watcher = asyncio.create_task(watch())
    await wait_for_hub(app, before)

    # when
    await run_execution(scratch, agent_id)
    await asyncio.wait_for(watcher, 60)

    # then
    assert [(i["kind"], i["status"]) for i in received] == [
        ("STATUS_CHANGED", "PENDING"),
        ("STATUS_CHANGED", "RUNNING"),
        ("STATUS_CHANGED", "SUCCEEDED"),
    ]
    assert received[-1]["cost"] == 0.5


async def _legacy_items(
    live: Live, query: str, variables: dict[str, Any], ready: asyncio.Event, count: int
) -> list[str]:
    """The raw `payload` texts a graphql-ws (legacy) client receives, `count` of them."""
    texts: list[str] = []
    async with websockets.connect(live.url, subprotocols=[LEGACY]) as connection:  # type: ignore[list-item]
        await connection.send(json.dumps({"type": "connection_init", "payload": live.payload}))
        async for message in _messages(connection):
            if message["type"] == "connection_ack":
                start_message = {"type": "start", "id": "1", "payload": {"query": query}}
                start_message["payload"]["variables"] = variables
                await connection.send(json.dumps(start_message))
                ready.set()
            elif message["type"] == "data":
                texts.append(json.dumps(message["payload"], sort_keys=True))
                if len(texts) == count:
                    return texts
            elif message["type"] in {"error", "complete"}:
                raise AssertionError(message)
    return texts


async def _messages(connection: Any) -> AsyncIterator[dict[str, Any]]:
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(connection.recv(), 15))
        if message["type"] != "ka":
            yield message


async def _transport_items(
    live: Live, query: str, variables: dict[str, Any], ready: asyncio.Event, count: int
) -> list[str]:
    texts: list[str] = []
    async with connect(live.url, live.payload) as ws:
        operation = await ws.subscribe(query, variables)
        ready.set()
        async for payload in ws.results(operation):
            texts.append(json.dumps(payload, sort_keys=True))
            if len(texts) == count:
                break
    return texts


async def test_alike_subscribers_of_both_protocols_share_one_rendering(
    scratch: Scratch, live: Live, app: FastAPI
) -> None:
    # given: four transport and two legacy subscribers of the same board, as the same admin
    agent_id = await scratch.create_agent("shared")
    query = (
        "subscription($f: ExecutionUpdatesFilter) "
        "{ executionUpdates(filter: $f) { id kind status execution { agent { name } } } }"
    )
    variables = {"f": {"agentIds": [agent_id]}}
    readies = [asyncio.Event() for _ in range(6)]
    hub = app.state.services.bus.hub
    before = hub.subscriber_count
    tasks = [
        asyncio.create_task(
            (_transport_items if index < 4 else _legacy_items)(live, query, variables, ready, 3)
        )
        for index, ready in enumerate(readies)
    ]
    for ready in readies:
        await asyncio.wait_for(ready.wait(), 10)
    await wait_for_hub(app, before)
    await asyncio.sleep(0.3)  # every member joined (a member has no acknowledgement either)
    assert hub.subscriber_count == before + 1  # one group, one subscriber of the hub
    renders, deliveries = SUBSCRIPTION_RENDERS._value.get(), SUBSCRIPTION_DELIVERIES._value.get()

    # when: three status changes
    execution_id = (await start(scratch, agent_id))["execution"]["id"]
    await step(scratch, execution_id, "a", "SUCCEEDED")
    await gql(scratch.client, FINISH, {"id": execution_id, "status": "SUCCEEDED"})
    received = await asyncio.wait_for(asyncio.gather(*tasks), 60)

    # then: three renderings, eighteen deliveries, the same answers
    assert SUBSCRIPTION_RENDERS._value.get() - renders == 3
    assert SUBSCRIPTION_DELIVERIES._value.get() - deliveries == 18
    assert all(texts == received[0] for texts in received)
    statuses = [json.loads(text)["data"]["executionUpdates"]["status"] for text in received[0]]
    assert statuses == ["PENDING", "RUNNING", "SUCCEEDED"]


@pytest.mark.parametrize(
    ("filter_", "argument"),
    [
        ({"agentIds": ["garbage"]}, "filter.agentIds"),
        ({"workflowIds": ["QWdlbnQ6MQ"]}, "filter.workflowIds"),
    ],
)
async def test_a_malformed_board_filter_gets_an_error_naming_it(
    live: Live, filter_: dict[str, Any], argument: str
) -> None:
    errors = await refusal(live, BOARD, {"filter": filter_})
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["extensions"]["argument"] == argument


async def refusal(live: Live, query: str, variables: dict[str, Any]) -> list[dict[str, Any]]:
    """The errors a subscription is answered with (as an `error` or in a `next`)."""
    async with connect(live.url, live.payload) as ws:
        operation = await ws.subscribe(query, variables)
        try:
            async for payload in ws.results(operation):
                if payload.get("errors"):
                    errors: list[dict[str, Any]] = payload["errors"]
                    return errors
        except SubscriptionError as refused:
            return refused.errors
    raise AssertionError("the subscription was not refused")

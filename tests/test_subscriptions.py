"""Live execution progress through a real websocket client against a real server."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
import websockets
from fastapi import FastAPI

from tests.scratch import Scratch, gql
from tests.test_execution_lifecycle import FINISH, start, step
from tests.ws import GraphQLWebSocket, SubscriptionError, connect

PROGRESS = """
subscription Progress($id: ID!, $after: String) {
  executionProgress(executionId: $id, after: $after) {
    __typename
    ... on ExecutionEvent { cursor seq type status nodeId progress { done total }
                            execution { status agent { name } } }
    ... on ResyncRequired { message oldestCursor }
  }
}
"""

UPDATES = """
subscription Updates($filter: ExecutionUpdatesFilter) {
  executionUpdates(filter: $filter) { id status seq execution { agent { name } } }
}
"""


def _url(live_server: str) -> str:
    return f"ws://{live_server}/graphql"


@dataclass(frozen=True)
class Live:
    """Where a dashboard connects, and the `connection_init` payload it signs in with."""

    url: str
    payload: dict[str, str]


@pytest.fixture
def live(live_server: str, admin_payload: dict[str, str]) -> Live:
    return Live(_url(live_server), admin_payload)


async def _receive_until_closed(ws: GraphQLWebSocket) -> None:
    while True:
        await ws.receive(10)


async def _collect(
    live: Live, execution_id: str, after: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    async with connect(live.url, live.payload) as ws:
        operation = await ws.subscribe(PROGRESS, {"id": execution_id, "after": after})
        async for payload in ws.results(operation):
            if payload.get("errors"):
                # graphql-transport-ws: an error raised by the stream arrives as a result
                raise SubscriptionError(payload["errors"])
            received.append(payload["data"]["executionProgress"])
            if limit is not None and len(received) == limit:
                break
    return received


async def test_replay_then_live_without_gap_or_duplicate(scratch: Scratch, live: Live) -> None:
    # given: an execution with some history
    agent_id = await scratch.create_agent("streamed")
    execution_id = (await start(scratch, agent_id))["execution"]["id"]
    for node in ("a", "b"):
        await step(scratch, execution_id, node, "SUCCEEDED")

    async def keep_working() -> None:
        # events that land while the subscriber is replaying, and after
        for node in ("c", "d", "e"):
            await step(scratch, execution_id, node, "STARTED")
            await step(scratch, execution_id, node, "SUCCEEDED")
        await gql(scratch.client, FINISH, {"id": execution_id, "status": "SUCCEEDED"})

    # when
    received, _ = await asyncio.gather(_collect(live, execution_id), keep_working())

    # then: every event once, in order, ending with the final status (then completed)
    seqs = [event["seq"] for event in received]
    assert seqs == list(range(1, len(seqs) + 1))
    assert received[-1]["type"] == "STATUS_CHANGED"
    assert received[-1]["status"] == "succeeded"
    assert received[-1]["execution"]["status"] == "SUCCEEDED"
    assert received[0]["execution"]["agent"]["name"] == scratch.name("streamed")


async def test_resume_after_disconnect_with_the_last_cursor(scratch: Scratch, live: Live) -> None:
    # given: a subscriber that read three events and went away
    agent_id = await scratch.create_agent("resumed")
    execution_id = (await start(scratch, agent_id))["execution"]["id"]
    await step(scratch, execution_id, "a", "SUCCEEDED")
    first = await _collect(live, execution_id, limit=3)

    # when: more happens while it is away, and it comes back with its cursor
    await step(scratch, execution_id, "b", "SUCCEEDED")
    await gql(scratch.client, FINISH, {"id": execution_id, "status": "FAILED", "error": "x"})
    second = await _collect(live, execution_id, after=first[-1]["cursor"])

    # then: the two sessions together are the whole log, each event once
    seqs = [event["seq"] for event in first + second]
    assert seqs == list(range(1, len(seqs) + 1))
    assert second[-1]["status"] == "failed"


async def test_unknown_and_foreign_executions_get_an_error_and_no_stream(
    scratch: Scratch, live: Live
) -> None:
    # given: an id that names nothing, and an execution of the other organization
    from sqlalchemy import select

    from models.sql import Execution
    from resolvers.ids import to_global_id

    async with scratch.services.postgres.session() as session:
        foreign = await session.scalar(
            select(Execution.id)
            .where(Execution.organization_id == scratch.other_organization_id)
            .limit(1)
        )
    ids = [to_global_id("Execution", foreign), "RXhlY3V0aW9uOm5vdC1hLXV1aWQ", "garbage"]

    for execution_id in ids:
        # when
        with pytest.raises(SubscriptionError) as failure:
            await _collect(live, execution_id)

        # then: a clear error with a code, not a stream
        codes = {error.get("extensions", {}).get("code") for error in failure.value.errors}
        assert codes <= {"NOT_FOUND", "BAD_USER_INPUT"}, failure.value.errors
        assert codes


async def test_execution_updates_stream_status_changes_of_the_organization(
    scratch: Scratch, live: Live, app: FastAPI
) -> None:
    # given: a dashboard subscribed to one agent's executions
    agent_id = await scratch.create_agent("watched")
    other_agent = await scratch.create_agent("unwatched")
    received: list[dict[str, Any]] = []

    async def watch() -> None:
        async with connect(live.url, live.payload) as ws:
            operation = await ws.subscribe(UPDATES, {"filter": {"agentIds": [agent_id]}})
            ready.set()
            async for payload in ws.results(operation):
                received.append(payload["data"]["executionUpdates"])
                if payload["data"]["executionUpdates"]["status"] == "SUCCEEDED":
                    return

    ready = asyncio.Event()
    hub = app.state.services.bus.hub
    watching_before = hub.subscriber_count
    watcher = asyncio.create_task(watch())
    await ready.wait()
    # The server registers the subscription some time after the message: wait for it.
    async with asyncio.timeout(10):
        while hub.subscriber_count <= watching_before:  # noqa: ASYNC110 - no event to await
            await asyncio.sleep(0.02)

    # when
    await start(scratch, other_agent)
    execution_id = (await start(scratch, agent_id))["execution"]["id"]
    await step(scratch, execution_id, "a", "SUCCEEDED")
    await gql(scratch.client, FINISH, {"id": execution_id, "status": "SUCCEEDED"})
    await asyncio.wait_for(watcher, 15)

    # then: only the watched agent's status changes, in order
    assert [(u["id"], u["status"]) for u in received] == [
        (execution_id, "PENDING"),
        (execution_id, "RUNNING"),
        (execution_id, "SUCCEEDED"),
    ]
    assert received[0]["execution"]["agent"]["name"] == scratch.name("watched")


async def test_connection_init_timeout_closes_with_4408(live_server: str, settings: object) -> None:
    # given: a client that connects and never says hello
    async with websockets.connect(
        _url(live_server),
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
    ) as connection:
        # when / then: the server closes it once the init timeout passes
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(connection.recv(), 15)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4408


async def test_duplicate_operation_ids_close_with_4409(scratch: Scratch, live: Live) -> None:
    # given: a running subscription
    agent_id = await scratch.create_agent("duplicated")
    execution_id = (await start(scratch, agent_id))["execution"]["id"]
    async with connect(live.url, live.payload) as ws:
        await ws.subscribe(PROGRESS, {"id": execution_id}, operation_id="same")

        # when: a second one with the same id
        await ws.subscribe(PROGRESS, {"id": execution_id}, operation_id="same")

        # then
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await _receive_until_closed(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4409


async def test_a_cursor_older_than_the_retained_history_gets_resync_required(
    scratch: Scratch, live: Live
) -> None:
    # given: an execution whose first events have expired (as the TTL index would do)
    from models.documents import ExecutionEvent
    from resolvers.ids import parse_id

    agent_id = await scratch.create_agent("expired")
    execution_id = (await start(scratch, agent_id))["execution"]["id"]
    for node in ("a", "b"):
        await step(scratch, execution_id, node, "SUCCEEDED")
    first = await _collect(live, execution_id, limit=1)
    await ExecutionEvent.find(
        {"execution_id": parse_id(execution_id, "Execution"), "seq": {"$lte": 3}}
    ).delete()

    # when: a client resumes from a cursor inside the expired part
    received = await _collect(live, execution_id, after=first[0]["cursor"])

    # then: told to resynchronise, instead of a silent gap
    assert [item["__typename"] for item in received] == ["ResyncRequired"]
    assert received[0]["oldestCursor"] is not None


async def test_resuming_a_finished_execution_at_its_end_completes_at_once(
    scratch: Scratch, live: Live
) -> None:
    # given: a finished execution, read to the end
    agent_id = await scratch.create_agent("finished-stream")
    execution_id = (await start(scratch, agent_id))["execution"]["id"]
    await step(scratch, execution_id, "a", "SUCCEEDED")
    finished = await gql(scratch.client, FINISH, {"id": execution_id, "status": "SUCCEEDED"})
    assert finished["finishExecution"]["execution"]["status"] == "SUCCEEDED"
    everything = await _collect(live, execution_id)

    # when: the client reconnects with its last cursor
    again = await asyncio.wait_for(_collect(live, execution_id, after=everything[-1]["cursor"]), 5)

    # then: nothing more, and the stream completes instead of hanging
    assert again == []


async def test_a_malformed_cursor_gets_an_error_naming_after(scratch: Scratch, live: Live) -> None:
    # given
    agent_id = await scratch.create_agent("bad-cursor")
    execution_id = (await start(scratch, agent_id))["execution"]["id"]

    # when
    with pytest.raises(SubscriptionError) as failure:
        await _collect(live, execution_id, after="not-a-cursor")

    # then
    extensions = failure.value.errors[0]["extensions"]
    assert extensions == {"code": "BAD_USER_INPUT", "argument": "after"}


async def test_an_invalid_subscription_gets_a_coded_error(live: Live) -> None:
    # (A document that does not parse closes the socket with 4400: the protocol's rule.)
    async with connect(live.url, live.payload) as ws:
        operation = await ws.subscribe("subscription { executionUpdates { nope } }")
        with pytest.raises(SubscriptionError) as refused:
            async for _ in ws.results(operation):
                pass
    codes = [error.get("extensions", {}).get("code") for error in refused.value.errors]
    assert codes == ["GRAPHQL_VALIDATION_FAILED"], refused.value.errors

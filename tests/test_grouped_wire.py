"""Grouped items written straight to idle members' sockets (`flowgate.sockets.wire`): through
real uvicorn servers and real websocket clients of both protocols, every status change
reaches every member once and in order, a member that does not read slows no one, and where
the frame may not be written directly (permessage-deflate, another server implementation)
the usual path sends it. The member's part (`groups.Member`): an idle member's item goes to
its sink, anything queued or unwritable waits in the queue, whose limit still ends a member
that falls behind."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import websockets
from fastapi import FastAPI

from flowgate.metrics import SUBSCRIPTION_WRITTEN
from flowgate.sockets.groups import Member, Rendered
from flowgate.workers import WS_PROTOCOL
from tests.scratch import Scratch, gql
from tests.serving import serving
from tests.test_execution_lifecycle import FINISH, start, step

UPDATES = """
subscription($f: ExecutionUpdatesFilter) { executionUpdates(filter: $f) { id kind status } }
"""
TRANSPORT, LEGACY = "graphql-transport-ws", "graphql-ws"


@asynccontextmanager
async def served(app: FastAPI, ws: str, compression: bool) -> AsyncIterator[str]:
    """The session's app on a port of its own, with the websocket implementation `ws`."""
    options = {"ws": ws, "ws_per_message_deflate": compression}
    async with serving(app, **options) as port:
        yield f"ws://127.0.0.1:{port}/graphql"


class Subscriber:
    """One client with one `executionUpdates` subscription; what it receives, in order."""

    def __init__(self, protocol: str, compression: bool) -> None:
        self.protocol = protocol
        self.compression = compression
        self.items: list[dict[str, Any]] = []
        self.negotiated: str | None = None
        self.got_one = asyncio.Event()

    async def run(self, url: str, payload: dict[str, str], agent_id: str, read: bool) -> None:
        async with websockets.connect(
            url,
            subprotocols=[self.protocol],  # type: ignore[list-item]
            compression="deflate" if self.compression else None,
        ) as connection:
            self.negotiated = connection.response.headers.get("Sec-WebSocket-Extensions")
            await connection.send(json.dumps({"type": "connection_init", "payload": payload}))
            while json.loads(await connection.recv())["type"] != "connection_ack":
                pass
            kind = "subscribe" if self.protocol == TRANSPORT else "start"
            request = {"query": UPDATES, "variables": {"f": {"agentIds": [agent_id]}}}
            await connection.send(json.dumps({"id": "1", "type": kind, "payload": request}))
            if not read:
                await asyncio.Event().wait()  # subscribed, never reads: cancelled at the end
            async for raw in connection:
                message = json.loads(raw)
                if message["type"] in {"ka", "ping", "pong"}:
                    continue
                assert message["type"] in {"next", "data"}, message
                assert message["id"] == "1", message
                self.items.append(message["payload"]["data"]["executionUpdates"])
                self.got_one.set()


async def _fan_out(
    scratch: Scratch, url: str, payload: dict[str, str], subscribers: list[Subscriber]
) -> list[str]:
    """Runs the subscribers (and one that never reads) while two executions run; their ids."""
    agent_id = await scratch.create_agent("wire")
    tasks = [asyncio.create_task(s.run(url, payload, agent_id, True)) for s in subscribers]
    quiet = Subscriber(TRANSPORT, subscribers[0].compression)
    stalled = asyncio.create_task(quiet.run(url, payload, agent_id, False))
    try:
        # Subscriptions are not acknowledged: status changes until every member has one.
        async with asyncio.timeout(30):
            while not all(s.got_one.is_set() for s in subscribers):
                await start(scratch, agent_id)
                await asyncio.sleep(0.2)
        executions = []
        for _ in range(2):
            execution_id = (await start(scratch, agent_id))["execution"]["id"]
            await step(scratch, execution_id, "a", "SUCCEEDED")
            await gql(scratch.client, FINISH, {"id": execution_id, "status": "SUCCEEDED"})
            executions.append(execution_id)
        async with asyncio.timeout(30):
            while not all(_done(s, executions) for s in subscribers):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        return executions
    finally:
        for task in [*tasks, stalled]:
            task.cancel()
        await asyncio.gather(*tasks, stalled, return_exceptions=True)


def _done(subscriber: Subscriber, executions: list[str]) -> bool:
    return sum(
        item["status"] == "SUCCEEDED" and item["id"] in executions for item in subscriber.items
    ) == len(executions)


def _statuses(subscriber: Subscriber, executions: list[str]) -> list[tuple[str, str]]:
    return [(item["id"], item["status"]) for item in subscriber.items if item["id"] in executions]


def _once_in_order(executions: list[str]) -> list[tuple[str, str]]:
    return [(e, status) for e in executions for status in ("PENDING", "RUNNING", "SUCCEEDED")]


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_members_get_every_item_once_in_order_written_straight_to_their_sockets(
    scratch: Scratch, app: FastAPI, admin_payload: dict[str, str], protocol: str
) -> None:
    # given: eight alike subscribers on the server `flowgate serve` runs, and one that
    # subscribed and never reads
    subscribers = [Subscriber(protocol, compression=False) for _ in range(8)]
    written = SUBSCRIPTION_WRITTEN._value.get()

    # when: two executions change status three times each
    async with served(app, WS_PROTOCOL, compression=False) as url:
        executions = await _fan_out(scratch, url, admin_payload, subscribers)

    # then: each got each status change once, in order, most of them written directly
    for subscriber in subscribers:
        assert _statuses(subscriber, executions) == _once_in_order(executions)
    assert SUBSCRIPTION_WRITTEN._value.get() - written >= len(subscribers) * 6


@pytest.mark.parametrize(
    ("ws", "compression"),
    [
        pytest.param(WS_PROTOCOL, True, id="permessage-deflate"),
        pytest.param(
            "websockets",
            False,
            id="another-implementation",
            # uvicorn's older implementation, and websockets' legacy API under it, are
            # deprecated: what matters is that they are not written to directly.
            marks=[
                pytest.mark.filterwarnings("ignore::DeprecationWarning"),
                pytest.mark.filterwarnings("ignore::uvicorn.config.UvicornDeprecationWarning"),
            ],
        ),
    ],
)
async def test_where_the_frame_may_not_be_written_directly_the_usual_path_sends_it(
    scratch: Scratch, app: FastAPI, admin_payload: dict[str, str], ws: str, compression: bool
) -> None:
    # given: subscribers of both protocols on a server that compresses, or that is not
    # uvicorn's websockets-sansio
    subscribers = [Subscriber(p, compression=True) for p in (TRANSPORT, TRANSPORT, LEGACY)]
    written = SUBSCRIPTION_WRITTEN._value.get()

    # when
    async with served(app, ws, compression=compression) as url:
        executions = await _fan_out(scratch, url, admin_payload, subscribers)

    # then: everything arrived, once and in order, and none of it written directly
    for subscriber in subscribers:
        assert _statuses(subscriber, executions) == _once_in_order(executions)
        assert ("permessage-deflate" in (subscriber.negotiated or "")) is compression
    assert SUBSCRIPTION_WRITTEN._value.get() == written


def _item(name: str) -> Rendered:
    return Rendered(payload=name, tail=name.encode())


async def _waiting(member: Member) -> asyncio.Task[Rendered | None]:
    task = asyncio.create_task(member.next())
    await asyncio.sleep(0)  # it waits now
    return task


async def test_an_idle_member_s_item_goes_to_its_sink_and_its_task_stays_asleep() -> None:
    member = Member(limit=4)
    sent: list[str] = []
    member.sink = lambda item: sent.append(item.payload) is None
    waiting = await _waiting(member)

    assert member.offer(_item("s1")) and member.offer(_item("s2"))

    assert sent == ["s1", "s2"]
    assert member.queue == []
    await asyncio.sleep(0)
    assert not waiting.done()
    waiting.cancel()


async def test_behind_a_queued_item_or_when_the_sink_cannot_write_items_are_queued() -> None:
    # given: a member whose socket is paused (its sink writes nothing)
    member = Member(limit=3)
    writable = False
    sent: list[str] = []

    def sink(item: Rendered) -> bool:
        if writable:
            sent.append(item.payload)
        return writable

    member.sink = sink
    waiting = await _waiting(member)

    # when: an item it cannot write, then (writable again) one behind it
    assert not member.offer(_item("s1"))
    writable = True
    assert not member.offer(_item("s2"))

    # then: both queued, in order, for its task, which woke
    assert (await waiting) == _item("s1")
    assert [item.payload for item in member.queue] == ["s2"]
    assert sent == []


async def test_a_member_too_far_behind_still_overflows_and_one_stopped_gets_nothing() -> None:
    # given: a member busy sending (not waiting) while its socket is paused
    member = Member(limit=2)
    member.sink = lambda item: True  # would write, if it were asked
    for name in ("s1", "s2", "s3"):
        member.offer(_item(name))
    assert member.overflowed and await member.next() is None

    # and one whose wait was cancelled (`complete` or `stop` cancels the task)
    stopped = Member(limit=2)
    sent: list[str] = []
    stopped.sink = lambda item: sent.append(item.payload) is None
    waiting = await _waiting(stopped)
    waiting.cancel()
    await asyncio.sleep(0)
    assert not stopped.offer(_item("s1"))
    assert sent == []

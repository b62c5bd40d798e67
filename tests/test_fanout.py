"""Fan-out across processes and through a Redis outage, with real gateway processes, a real
`redis-server` and real websocket clients; and the legacy `graphql-ws` protocol.

The gateway processes serve the session's PostgreSQL and MongoDB databases, so what one
process writes the other (and this test process) reads. They act, as the in-process app
does, as the first organization's admin."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection

from flowgate.services import Services
from flowgate.settings import Settings
from models.sql import Organization
from resolvers.subscriptions import IDLE_CHECK_SECONDS
from tests.auth import ADMIN, api_key_for, bearer
from tests.processes import gateway_process
from tests.redis_server import RedisServer, redis_server_path
from tests.scratch import Scratch, gql
from tests.test_execution_lifecycle import FINISH, events_of, start, step
from tests.ws import SubscriptionError, connect

needs_redis_server = pytest.mark.skipif(
    redis_server_path() is None,
    reason="redis-server is not on PATH: the fan-out tests start (and stop) a private one",
)

PROGRESS = """
subscription Progress($id: ID!, $after: String) {
  executionProgress(executionId: $id, after: $after) {
    __typename
    ... on ExecutionEvent { cursor seq type status nodeId }
    ... on ResyncRequired { message oldestCursor }
  }
}
"""

UPDATES = """
subscription Updates($filter: ExecutionUpdatesFilter) {
  executionUpdates(filter: $filter) { id status seq }
}
"""

CANCEL = """
mutation Cancel($id: ID!) {
  cancelExecution(executionId: $id) { __typename }
}
"""

EXECUTION = "query Execution($id: ID!) { execution(id: $id) { id status } }"

# A lost bus message is found in the log at the latest after the subscription's idle check
# (`resolvers.subscriptions.IDLE_CHECK_SECONDS`, 10 s); normally an event takes milliseconds.
EVENT_TIMEOUT = 12.0


# -- helpers ------------------------------------------------------------------------------


def _gateway_env(settings: Settings, redis_url: str) -> dict[str, str]:
    return {
        "FLOWGATE_DATABASE_URL": settings.database_url or "",
        "FLOWGATE_MONGODB_URL": settings.mongodb_url or "",
        "FLOWGATE_MONGODB_DATABASE": settings.mongodb_database,
        "FLOWGATE_REDIS_URL": redis_url,
        "FLOWGATE_STORE_TIMEOUT": "5",
        # The background relay would deliver (and publish) some events a second time when it
        # runs between a request's commit and that request's own delivery: harmless for
        # executionProgress (it skips seen sequence numbers), but a duplicate status change on
        # executionUpdates. These tests are about the bus, so keep the relay out of the way.
        "FLOWGATE_RELAY_INTERVAL": "3600",
        # Nor the search indexer: its first pass drains whatever the worker's earlier tests
        # left in the search outbox, from both gateways at once, and the embedded MongoDB (one
        # Python process) then answered nothing else for over the 5 s store timeout: a
        # mutation of the fault tests failed or took 5 s for a reason that is not the bus.
        "FLOWGATE_SEARCH_INDEXER_INTERVAL": "3600",
    }


async def _start_gateway(stack: ExitStack, env: dict[str, str], data_dir: Path) -> str:
    """A `flowgate serve` process (stopped when `stack` closes); its base URL."""
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    # gateway_process blocks while it waits for /healthz: keep the event loop free.
    _, base_url = await asyncio.to_thread(
        stack.enter_context, gateway_process("serve", env, data_dir=data_dir, timeout=60)
    )
    return base_url


@asynccontextmanager
async def _gateways(count: int, env: dict[str, str], tmp_path: Path) -> AsyncIterator[list[str]]:
    stack = ExitStack()
    try:
        # Start them side by side; wait for every start to end (even after a failure) so
        # that the stack holds each process that did start when it is closed.
        started = await asyncio.gather(
            *(_start_gateway(stack, env, tmp_path / f"gateway-{i}") for i in range(count)),
            return_exceptions=True,
        )
        for result in started:
            if isinstance(result, BaseException):
                raise result
        yield [str(url) for url in started]
    finally:
        await asyncio.to_thread(stack.close)


@contextmanager
def _private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory)
    server.start()  # from the main thread: see RedisServer's parent-death signal
    try:
        yield server
    finally:
        server.stop()


@asynccontextmanager
async def _scratch_via(
    services: Services, settings: Settings, base_url: str
) -> AsyncIterator[Scratch]:
    """A Scratch whose mutations go to the gateway at `base_url`; removed on exit."""
    secret, principal = await api_key_for(services, ADMIN)
    async with services.postgres.session() as session:
        other = await session.scalar(
            select(Organization.id).where(Organization.id != principal.organization_id)
        )
    assert other is not None
    async with httpx.AsyncClient(base_url=base_url, timeout=30, headers=bearer(secret)) as client:
        scratch = Scratch(
            services,
            client,
            principal.organization_id,
            other,
            f"test-fanout-{uuid.uuid4().hex[:8]}-",
        )
        try:
            yield scratch
        finally:
            await scratch.remove_everything()


async def _wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds}s: {what}")
        await asyncio.sleep(0.02)


class Stream:
    """A subscription read in the background: what arrived, and whether it completed."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.arrived: list[float] = []  # time.monotonic() of each item's arrival
        self.completed = False
        self.task: asyncio.Task[None] | None = None

    @classmethod
    def open(
        cls, url: str, sign_in: dict[str, Any], query: str, variables: dict[str, Any], field: str
    ) -> Stream:
        stream = cls()

        async def read() -> None:
            async with connect(url, sign_in) as ws:
                operation = await ws.subscribe(query, variables)
                async for payload in ws.results(operation, timeout=60):
                    if payload.get("errors"):
                        raise SubscriptionError(payload["errors"])
                    stream.items.append(payload["data"][field])
                    stream.arrived.append(time.monotonic())
            stream.completed = True

        stream.task = asyncio.create_task(read())
        return stream

    @property
    def seqs(self) -> list[int]:
        return [item["seq"] for item in self.items]

    async def wait_for(self, condition: Callable[[Stream], bool], what: str) -> None:
        assert self.task is not None

        def done() -> bool:
            if self.task is not None and self.task.done() and self.task.exception():
                raise self.task.exception()  # type: ignore[misc]
            return condition(self)

        await _wait_until(done, EVENT_TIMEOUT, what)

    async def wait_for_seq(self, seq: int) -> None:
        await self.wait_for(lambda s: bool(s.items) and s.items[-1]["seq"] >= seq, f"seq {seq}")

    async def close(self) -> None:
        if self.task is None:
            return
        self.task.cancel()
        # The server may be gone by now: what the reader raised no longer matters.
        with suppress(asyncio.CancelledError, Exception):
            await self.task


@pytest.fixture
async def streams(admin_payload: dict[str, str]) -> AsyncIterator[Callable[..., Stream]]:
    """`streams(url, query, variables, field)` opens a Stream signed in as the admin; all are
    closed at the end."""
    opened: list[Stream] = []

    def open_stream(url: str, query: str, variables: dict[str, Any], field: str) -> Stream:
        stream = Stream.open(url, admin_payload, query, variables, field)
        opened.append(stream)
        return stream

    try:
        yield open_stream
    finally:
        for stream in opened:
            await stream.close()


async def _stored(execution_id: str) -> int:
    """How many events the log holds for the execution (the last sequence number)."""
    return len(await events_of(execution_id))


async def _drive(execution_id: str, stream: Stream, action: Awaitable[Any]) -> None:
    """Run one lifecycle call, then wait until the stream has every event stored so far."""
    await action
    await stream.wait_for_seq(await _stored(execution_id))


async def _subscription_error(
    url: str, sign_in: dict[str, Any], execution_id: str
) -> list[dict[str, Any]] | None:
    """Try a new executionProgress subscription: its errors, or None if it streamed."""
    async with connect(url, sign_in) as ws:
        operation = await ws.subscribe(PROGRESS, {"id": execution_id})
        try:
            async for payload in ws.results(operation, timeout=5):
                errors: list[dict[str, Any]] | None = payload.get("errors")
                return errors
        except SubscriptionError as failure:
            return failure.errors
    return None


def _codes(errors: list[dict[str, Any]]) -> set[str | None]:
    return {error.get("extensions", {}).get("code") for error in errors}


# -- two gateways, one Redis --------------------------------------------------------------


@pytest.mark.slow
@needs_redis_server
async def test_events_published_through_one_gateway_reach_subscribers_of_another(
    services: Services,
    settings: Settings,
    seeded: object,
    admin_key: str,  # the credential the websocket helpers sign in with
    tmp_path: Path,
    streams: Callable[..., Stream],
) -> None:
    # given: a private Redis and two gateway processes sharing it
    with _private_redis(tmp_path) as redis:
        env = _gateway_env(settings, redis.url)
        async with (
            _gateways(2, env, tmp_path) as (gateway_a, gateway_b),
            _scratch_via(services, settings, gateway_a) as scratch,
        ):
            ws_b = gateway_b.replace("http://", "ws://") + "/graphql"
            agent_id = await scratch.create_agent("fanned-out")

            # a dashboard on B watching the agent's executions; live once a canary's first
            # status change (published through A) reaches it
            updates = streams(
                ws_b, UPDATES, {"filter": {"agentIds": [agent_id]}}, "executionUpdates"
            )
            canaries: list[str] = []
            deadline = time.monotonic() + 15
            while not updates.items:
                assert time.monotonic() < deadline, "executionUpdates on B never went live"
                canaries.append((await start(scratch, agent_id))["execution"]["id"])
                await asyncio.sleep(0.5)
            for canary in canaries:
                await gql(scratch.client, CANCEL, {"id": canary})

            # when: an execution started through A, followed on B from its first event
            execution_id = (await start(scratch, agent_id))["execution"]["id"]
            progress = streams(ws_b, PROGRESS, {"id": execution_id}, "executionProgress")
            await progress.wait_for_seq(1)
            for node in ("a", "b", "c"):
                await _drive(execution_id, progress, step(scratch, execution_id, node, "STARTED"))
                await _drive(execution_id, progress, step(scratch, execution_id, node, "SUCCEEDED"))
            await gql(scratch.client, FINISH, {"id": execution_id, "status": "SUCCEEDED"})
            await progress.wait_for(lambda s: s.completed, "executionProgress to complete")
            await updates.wait_for(
                lambda s: any(
                    u["id"] == execution_id and u["status"] == "SUCCEEDED" for u in s.items
                ),
                "the final status on executionUpdates",
            )

            # then: B streamed every stored event once, in order, through the final status
            stored = await events_of(execution_id)
            assert progress.seqs == [event.seq for event in stored]
            assert progress.seqs == list(range(1, len(stored) + 1))
            assert [item["type"] for item in progress.items] == [
                event.type.name for event in stored
            ]
            assert progress.items[-1]["type"] == "STATUS_CHANGED"
            assert progress.items[-1]["status"] == "succeeded"
            # and the dashboard on B saw each status change made through A, once, in order
            mine = [(u["status"], u["seq"]) for u in updates.items if u["id"] == execution_id]
            assert [status for status, _ in mine] == ["PENDING", "RUNNING", "SUCCEEDED"]
            assert [seq for _, seq in mine] == sorted(seq for _, seq in mine)
            assert {u["id"] for u in updates.items} == {execution_id, *canaries}


# -- Redis stopped and restarted mid-stream -----------------------------------------------


@pytest.mark.slow
@needs_redis_server
async def test_a_redis_outage_delays_events_but_loses_none(
    services: Services,
    settings: Settings,
    seeded: object,
    admin_key: str,  # the credential the websocket helpers sign in with
    tmp_path: Path,
    streams: Callable[..., Stream],
) -> None:
    began = time.monotonic()
    with _private_redis(tmp_path) as redis:
        env = _gateway_env(settings, redis.url)
        async with (
            _gateways(1, env, tmp_path) as (gateway,),
            _scratch_via(services, settings, gateway) as scratch,
        ):
            ws_url = gateway.replace("http://", "ws://") + "/graphql"
            sign_in = bearer(admin_key)
            agent_id = await scratch.create_agent("outage")

            # given: a subscriber following an execution live
            execution_id = (await start(scratch, agent_id))["execution"]["id"]
            progress = streams(ws_url, PROGRESS, {"id": execution_id}, "executionProgress")
            await progress.wait_for_seq(1)
            await _drive(execution_id, progress, step(scratch, execution_id, "a", "STARTED"))
            await _drive(execution_id, progress, step(scratch, execution_id, "a", "SUCCEEDED"))
            before_outage = len(progress.items)

            # when: Redis stops
            redis.stop()

            # then: lifecycle calls still succeed (the events are stored; publishing is
            # only logged as failed) ...
            for node, status in (("b", "STARTED"), ("b", "SUCCEEDED"), ("c", "SKIPPED")):
                result = await step(scratch, execution_id, node, status)
                assert result["__typename"] == "ReportExecutionStepPayload", result
            stored_in_outage = await _stored(execution_id)
            assert stored_in_outage > progress.seqs[before_outage - 1]

            # ... a new subscription fails with a clear error once the bus notices the outage
            deadline = time.monotonic() + 15
            while True:
                errors = await _subscription_error(ws_url, sign_in, execution_id)
                if errors is not None:
                    break
                assert time.monotonic() < deadline, "new subscriptions kept streaming"
                await asyncio.sleep(0.5)
            assert _codes(errors) == {"LIVE_UPDATES_UNAVAILABLE"}, errors
            assert "unavailable" in errors[0]["message"].lower()

            # ... and plain queries keep working
            answer = await gql(scratch.client, EXECUTION, {"id": execution_id})
            assert answer["execution"]["status"] == "RUNNING"

            # when: Redis is back on the same port
            redis.start()

            # then: the gateway reconnects (new subscriptions stream again) ...
            deadline = time.monotonic() + 20
            while (errors := await _subscription_error(ws_url, sign_in, execution_id)) is not None:
                assert _codes(errors) == {"LIVE_UPDATES_UNAVAILABLE"}, errors
                assert time.monotonic() < deadline, "the bus did not reconnect"
                await asyncio.sleep(0.5)
            # ... the original subscriber catches up on what happened during the outage ...
            await progress.wait_for_seq(stored_in_outage)
            silence = progress.arrived[-1] - progress.arrived[before_outage - 1]
            assert silence < IDLE_CHECK_SECONDS, (
                f"caught up only after {silence:.1f}s: by the idle check, not by the bus's "
                "resync on reconnecting"
            )
            # ... and live events flow again
            await _drive(execution_id, progress, step(scratch, execution_id, "d", "SUCCEEDED"))
            await gql(scratch.client, FINISH, {"id": execution_id, "status": "SUCCEEDED"})
            await progress.wait_for(lambda s: s.completed, "executionProgress to complete")

            # then: every event exactly once, in order, through the final status
            stored = await events_of(execution_id)
            assert progress.seqs == list(range(1, len(stored) + 1))
            assert progress.items[-1]["status"] == "succeeded"
    assert time.monotonic() - began < 60


# -- the legacy graphql-ws protocol -------------------------------------------------------


class LegacyGraphQLWebSocket:
    """The subscriptions-transport-ws protocol (`graphql-ws`): init/ack, start, data, complete."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = json.loads(
                await asyncio.wait_for(self.connection.recv(), EVENT_TIMEOUT)
            )
            if message.get("type") != "ka":  # server keep-alive
                return message


@asynccontextmanager
async def legacy_connect(
    url: str, payload: dict[str, Any]
) -> AsyncIterator[LegacyGraphQLWebSocket]:
    async with websockets.connect(url, subprotocols=["graphql-ws"]) as connection:  # type: ignore[list-item]
        assert connection.subprotocol == "graphql-ws"
        client = LegacyGraphQLWebSocket(connection)
        await client.send({"type": "connection_init", "payload": payload})
        assert (await client.receive())["type"] == "connection_ack"
        yield client


async def test_legacy_graphql_ws_streams_execution_progress(
    scratch: Scratch, live_server: str, admin_payload: dict[str, str]
) -> None:
    # given: an execution, and a client speaking the legacy protocol
    agent_id = await scratch.create_agent("legacy")
    execution_id = (await start(scratch, agent_id))["execution"]["id"]
    received: list[dict[str, Any]] = []
    completed = asyncio.Event()

    async def read(ws: LegacyGraphQLWebSocket) -> None:
        while True:
            message = await ws.receive()
            assert message.get("id") == "progress", message
            if message["type"] == "complete":
                completed.set()
                return
            assert message["type"] == "data", message
            assert not message["payload"].get("errors"), message
            received.append(message["payload"]["data"]["executionProgress"])

    async with legacy_connect(f"ws://{live_server}/graphql", admin_payload) as ws:
        await ws.send(
            {
                "id": "progress",
                "type": "start",
                "payload": {"query": PROGRESS, "variables": {"id": execution_id}},
            }
        )
        reader = asyncio.create_task(read(ws))
        await _wait_until(lambda: bool(received) or reader.done(), EVENT_TIMEOUT, "first event")

        # when: the execution runs to the end
        for node in ("a", "b"):
            await step(scratch, execution_id, node, "STARTED")
            await step(scratch, execution_id, node, "SUCCEEDED")
        await gql(scratch.client, FINISH, {"id": execution_id, "status": "FAILED", "error": "x"})
        await asyncio.wait_for(reader, EVENT_TIMEOUT)

    # then: data messages for every event once, in order, then complete
    stored = await events_of(execution_id)
    assert completed.is_set()
    assert [event["seq"] for event in received] == [event.seq for event in stored]
    assert [event["seq"] for event in received] == list(range(1, len(stored) + 1))
    assert received[-1]["type"] == "STATUS_CHANGED"
    assert received[-1]["status"] == "failed"

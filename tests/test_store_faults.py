"""The document store killed, paused and dead under a gateway process that is serving
engines: no acknowledged event is lost, the relay never stalls for everyone, and each
request is answered within the store timeout.

The gateway runs on the session's PostgreSQL and a SecantusDB of its own, on disk (a kill
must have something to lose), which the test kills with SIGKILL, pauses with SIGSTOP and
restarts on the same port."""

from __future__ import annotations

import asyncio
import signal
import tempfile
import time
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from pymongo import AsyncMongoClient
from sqlalchemy import select

from flowgate.services import Services
from flowgate.settings import Settings
from flowgate.stores.embedded import EmbeddedPostgres, EmbeddedSecantus
from models.sql import Execution
from resolvers.ids import parse_id
from tests.auth import bearer
from tests.processes import gateway_process
from tests.scratch import Scratch, gql
from tests.test_degradation import _first_admin
from tests.test_execution_lifecycle import FINISH, start, step
from tests.test_fanout import _scratch_via, _start_gateway

pytestmark = pytest.mark.slow

STORE_TIMEOUT = 3.0
BURST = 12
DATABASE = "flowgate_store_faults"
AGENTS = "query Faulted { agents(first: 3) { edges { node { name flowchart { id } } } } }"


def _env(settings: Settings, mongodb_url: str) -> dict[str, str]:
    return {
        "FLOWGATE_DATABASE_URL": settings.database_url or "",
        "FLOWGATE_MONGODB_URL": mongodb_url,
        "FLOWGATE_MONGODB_DATABASE": DATABASE,
        "FLOWGATE_REDIS_URL": "",
        "FLOWGATE_STORE_TIMEOUT": str(STORE_TIMEOUT),
        "FLOWGATE_RELAY_INTERVAL": "0.5",
        "FLOWGATE_SEARCH_INDEXER_INTERVAL": "3600",
    }


async def _log(mongo: AsyncMongoClient[dict[str, Any]], execution_id: str) -> list[int]:
    local = parse_id(execution_id, "Execution")
    cursor = mongo[DATABASE]["execution_events"].find({"execution_id": local}, {"seq": 1})
    return sorted([document["seq"] async for document in cursor])


async def _last_seq(services: Services, execution_id: str) -> int:
    async with services.postgres.session() as session:
        seq = await session.scalar(
            select(Execution.last_event_seq).where(
                Execution.id == parse_id(execution_id, "Execution")
            )
        )
    return int(seq or 0)


async def _timed(client: httpx.AsyncClient, query: str) -> tuple[float, dict[str, Any]]:
    began = time.monotonic()
    response = await client.post("/graphql", json={"query": query}, timeout=60)
    return time.monotonic() - began, response.json()


def _codes(body: dict[str, Any]) -> set[str]:
    return {error["extensions"]["code"] for error in body.get("errors", [])}


async def test_the_document_store_killed_paused_and_dead(
    services: Services, settings: Settings, seeded: object, admin_key: str, tmp_path: Path
) -> None:
    mongo_server = EmbeddedSecantus(tmp_path / "mongo")
    mongo_server.start()
    mongo = AsyncMongoClient[dict[str, Any]](
        mongo_server.url, uuidRepresentation="standard", serverSelectionTimeoutMS=30_000
    )
    stack = ExitStack()
    try:
        gateway = await _start_gateway(stack, _env(settings, mongo_server.url), tmp_path / "gw")
        async with _scratch_via(services, settings, gateway) as scratch:
            await _kill_mid_burst(scratch, mongo_server, mongo)
            await _paused_and_dead(scratch, mongo_server)
    finally:
        await asyncio.to_thread(stack.close)
        await mongo.close()
        mongo_server.stop()


async def _kill_mid_burst(
    scratch: Scratch, server: EmbeddedSecantus, mongo: AsyncMongoClient[dict[str, Any]]
) -> None:
    # given: a burst of steps on one execution, and another execution that is healthy
    agent_id = await scratch.create_agent("killed-mid-burst")
    burst = (await start(scratch, agent_id))["execution"]["id"]
    healthy = (await start(scratch, agent_id))["execution"]["id"]
    await step(scratch, healthy, "h", "STARTED")
    answers = await asyncio.gather(
        *(step(scratch, burst, f"n{i}", "SUCCEEDED", tokens=1) for i in range(BURST))
    )
    acknowledged = {a["eventSeq"] for a in answers if "eventSeq" in a}

    # when: the document store is killed right after the answers left, then restarted
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    await asyncio.to_thread(server.start)

    # then: the relay brings the log to the row's last event: nothing acknowledged lost
    last = await _last_seq(scratch.services, burst)

    async def complete() -> bool:
        return await _log(mongo, burst) == list(range(1, last + 1))

    deadline = time.monotonic() + 60
    while not await complete():
        assert time.monotonic() < deadline, f"log {await _log(mongo, burst)}, row at {last}"
        await asyncio.sleep(0.5)
    lost = acknowledged - set(await _log(mongo, burst))
    print(f"acknowledged events lost under a kill: {len(lost)} of {len(acknowledged)}")
    assert lost == set()
    # and the relay is not stuck: the healthy execution finishes and its end is logged
    finished = await gql(scratch.client, FINISH, {"id": healthy, "status": "SUCCEEDED"})
    assert finished["finishExecution"]["__typename"] == "FinishExecutionPayload"
    healthy_last = await _last_seq(scratch.services, healthy)
    deadline = time.monotonic() + 30
    while (await _log(mongo, healthy))[-1:] != [healthy_last]:
        assert time.monotonic() < deadline, "the healthy execution's end never reached the log"
        await asyncio.sleep(0.5)


async def _paused_and_dead(scratch: Scratch, server: EmbeddedSecantus) -> None:
    bound = STORE_TIMEOUT + 2.0  # the timeout, plus the rest of the request
    assert server.process is not None
    # when: the document store is paused
    server.process.send_signal(signal.SIGSTOP)
    try:
        paused, body = await _timed(scratch.client, AGENTS)
    finally:
        server.process.send_signal(signal.SIGCONT)
    # then: answered within the timeout, with the MongoDB fields failing
    print(f"MongoDB paused: answered in {paused:.2f}s")
    assert paused < bound, f"{paused:.1f}s"
    assert _codes(body) == {"STORE_UNAVAILABLE"}, body

    # when: it is dead (and the driver knows it)
    server.stop()
    dead = []
    for _ in range(3):
        seconds, body = await _timed(scratch.client, AGENTS)
        dead.append(seconds)
        assert _codes(body) == {"STORE_UNAVAILABLE"}, body
    # then: each request fails within the short selection wait, not the store timeout
    print(f"MongoDB dead: answered in {max(dead):.2f}s at worst")
    assert max(dead[1:]) < bound


def _postgres_processes(postgres: EmbeddedPostgres) -> list[psutil.Process]:
    pid = postgres._server.get_pid() if postgres._server else None  # a test's own server
    assert pid is not None
    postmaster = psutil.Process(pid)
    return [postmaster, *postmaster.children(recursive=True)]


def test_a_paused_postgresql_is_answered_within_the_timeout_and_shutdown_is_bounded(
    tmp_path: Path, settings: Settings
) -> None:
    # given: a gateway on a PostgreSQL of its own (outside pytest's temp tree: see
    # tests/test_degradation.py) that checks every credential against it
    folder = tempfile.TemporaryDirectory(prefix="flowgate-faults-")
    postgres = EmbeddedPostgres(Path(folder.name))
    database_url = postgres.start()
    env = {
        **_env(settings, settings.mongodb_url or ""),
        "FLOWGATE_DATABASE_URL": database_url,
        "FLOWGATE_AUTH_CACHE_TTL": "0",
    }
    paused: list[psutil.Process] = []
    try:
        with gateway_process("serve", env, data_dir=tmp_path) as (process, base_url):
            secret = asyncio.run(_first_admin(database_url))
            assert _me(base_url, secret)[1].status_code == 200

            # when: every PostgreSQL process is paused
            paused = _postgres_processes(postgres)
            for each in paused:
                each.suspend()
            seconds, response = _me(base_url, secret)

            # then: answered within the timeout, naming the store
            print(f"PostgreSQL paused: answered in {seconds:.2f}s")
            # (a request may meet two bounded waits: its statement, then the rollback when
            # its connection goes back to the pool)
            assert seconds < 2 * STORE_TIMEOUT + 1.0, f"{seconds:.1f}s"
            assert response.status_code == 503
            assert response.json()["errors"][0]["extensions"]["store"] == "PostgreSQL"

            # and a SIGTERM, still paused, ends the process within a bounded time
            began = time.monotonic()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
            stopped = time.monotonic() - began
            print(f"SIGTERM with PostgreSQL paused: stopped in {stopped:.2f}s")
            assert stopped < 15
    finally:
        for each in paused:
            with suppress(psutil.NoSuchProcess):
                each.resume()
        postgres.stop()
        folder.cleanup()


def _me(base_url: str, secret: str) -> tuple[float, httpx.Response]:
    began = time.monotonic()
    response = httpx.post(
        f"{base_url}/graphql",
        json={"query": "{ me { email } }"},
        headers=bearer(secret),
        timeout=60,
    )
    return time.monotonic() - began, response

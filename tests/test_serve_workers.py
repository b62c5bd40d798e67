"""`flowgate serve --workers N`: N gateway processes answer on one port, and a SIGTERM stops
them all (and the parent) cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx

from flowgate.settings import Settings
from flowgate.stores.embedded import free_port

FLOWGATE = Path(sys.executable).with_name("flowgate")


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


async def _until_answering(url: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(240):
            assert process.returncode is None, "flowgate serve exited"
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.25)
    raise AssertionError(f"{url} never answered")


async def test_two_workers_answer_on_one_port_and_stop_on_sigterm(
    settings: Settings, tmp_path: Path
) -> None:
    # given the session's migrated stores
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FLOWGATE_")}
    environment.update(
        FLOWGATE_DATABASE_URL=str(settings.database_url),
        FLOWGATE_MONGODB_URL=str(settings.mongodb_url),
        FLOWGATE_MONGODB_DATABASE=settings.mongodb_database,
        FLOWGATE_SEARCH_INDEXER_INTERVAL="3600",
        FLOWGATE_RELAY_INTERVAL="3600",
    )

    # when
    process = await asyncio.create_subprocess_exec(
        FLOWGATE, "serve", "--workers", "2", "--port", str(port), env=environment, cwd=tmp_path
    )
    try:
        await _until_answering(f"http://127.0.0.1:{port}/healthz", process)
        workers = _children(process.pid)

        # then: two worker processes, and GraphQL answers through them
        assert len(workers) == 2
        async with httpx.AsyncClient() as client:
            for _ in range(4):
                response = await client.post(
                    f"http://127.0.0.1:{port}/graphql", json={"query": "{ __typename }"}
                )
                assert response.json()["data"] == {"__typename": "Query"}
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=90)

    # and a SIGTERM stops the workers and the parent cleanly
    assert code == 0
    assert not [worker for worker in workers if _running(worker)]


def _running(pid: int) -> bool:
    """Alive and not a zombie."""
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"

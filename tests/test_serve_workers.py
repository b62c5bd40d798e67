"""`flowgate serve --workers N`: N gateway processes answer on one port, and a SIGTERM stops
them all (and the parent) cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from flowgate.settings import Settings, load_settings
from flowgate.stores.embedded import free_port
from flowgate.workers import WorkersNeedRedisError, worker_count
from tests.test_fanout import _private_redis, needs_redis_server

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


@needs_redis_server
async def test_two_workers_answer_on_one_port_and_stop_on_sigterm(
    settings: Settings, tmp_path: Path
) -> None:
    # given the session's migrated stores, and a Redis (more than one worker needs it)
    with contextlib.ExitStack() as stack:
        redis_url = settings.redis_url or stack.enter_context(_private_redis(tmp_path)).url
        await _two_workers(settings, redis_url, tmp_path)


async def _two_workers(settings: Settings, redis_url: str, tmp_path: Path) -> None:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FLOWGATE_")}
    environment.update(
        FLOWGATE_DATABASE_URL=str(settings.database_url),
        FLOWGATE_MONGODB_URL=str(settings.mongodb_url),
        FLOWGATE_MONGODB_DATABASE=settings.mongodb_database,
        FLOWGATE_REDIS_URL=redis_url,
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


def _settings_with(redis_url: str | None) -> Settings:
    return load_settings(redis_url=redis_url)


def test_without_redis_serve_runs_one_process_and_refuses_more() -> None:
    # Live events cross processes only through Redis: a second worker would leave its
    # subscribers deaf to the changes made through the first.
    alone = _settings_with(None)
    assert worker_count(alone, None, cores=8) == 1
    assert worker_count(alone, 1, cores=8) == 1
    with pytest.raises(WorkersNeedRedisError, match="--workers 2 needs FLOWGATE_REDIS_URL"):
        worker_count(alone, 2, cores=8)

    shared = _settings_with("redis://127.0.0.1:6379/0")
    assert worker_count(shared, None, cores=8) == 8
    assert worker_count(shared, 3, cores=8) == 3


def test_serve_with_workers_and_no_redis_exits_naming_the_setting(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FLOWGATE_")}
    finished = subprocess.run(
        [FLOWGATE, "serve", "--workers", "2", "--data-dir", str(tmp_path)],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 1
    assert "--workers 2 needs FLOWGATE_REDIS_URL" in finished.stderr
    assert not any(tmp_path.iterdir()), "nothing started: no embedded store was created"

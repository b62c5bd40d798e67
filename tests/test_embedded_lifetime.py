"""The embedded SecantusDB lives exactly as long as the process that started it: it survives
the thread that started it, and never the process, however that process dies."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
from pymongo import MongoClient

from flowgate.stores.embedded import EmbeddedSecantus
from tests.processes import wait_for

ROOT = Path(__file__).resolve().parent.parent

# A gateway reduced to its embedded stores: PostgreSQL has a URL (never connected to), so
# only SecantusDB starts, in the data folder given as the first argument.
HOLDER = """
import asyncio, sys
from pathlib import Path
from flowgate.settings import Settings
from flowgate.stores.embedded import embedded_stores

async def main() -> None:
    settings = Settings(
        _env_file=None,
        data_dir=Path(sys.argv[1]),
        database_url="postgresql+asyncpg://unused@127.0.0.1:1/unused",
        mongodb_url=None,
    )
    async with embedded_stores(settings):
        print("ready", flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
"""


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_secantus_and_its_watchdog_end_when_the_gateway_is_killed(tmp_path: Path) -> None:
    # given: a process holding an embedded SecantusDB (and the watchdog that guards it)
    log = tmp_path / "holder.log"
    with log.open("wb") as output:
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(tmp_path / "data")],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    started: list[psutil.Process] = []
    try:
        wait_for(lambda: "ready" in log.read_text(), 30, process=holder, log=log)
        started = psutil.Process(holder.pid).children()
        secantus = [p for p in started if "secantus" in p.cmdline()]
        assert len(secantus) == 1, [p.cmdline() for p in started]

        # when: the holder is killed, with no chance to stop anything itself
        holder.kill()
        holder.wait()

        # then: SecantusDB is stopped (gracefully, idle: in about 3 s), and so is every
        # other process the holder started (the watchdog)
        wait_for(lambda: not any(_alive(p) for p in started), 15)
    finally:
        holder.kill()
        holder.wait()
        for process in started:  # leftovers of a failed run, by the pid we saw start
            if _alive(process):
                process.kill()


def test_secantus_outlives_the_thread_that_started_it() -> None:
    # given: SecantusDB started from a short-lived thread (as `asyncio.to_thread` does)
    server = EmbeddedSecantus(None)
    starter = threading.Thread(target=server.start)
    try:
        starter.start()
        starter.join()
        assert server.process is not None, "started"

        # when: that thread has ended for a while
        time.sleep(1.0)

        # then: the server still runs and answers
        assert server.process.poll() is None
        client: MongoClient[dict[str, object]] = MongoClient(
            server.url, serverSelectionTimeoutMS=3000
        )
        try:
            assert client.admin.command("ping")["ok"] == 1
        finally:
            client.close()
    finally:
        server.stop()

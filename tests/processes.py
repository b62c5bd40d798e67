"""Real gateway processes for tests that need one: started with the console script's code,
on a free port, and always stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

from flowgate.stores.embedded import free_port


@contextmanager
def gateway_process(
    command: str, env: dict[str, str], *, data_dir: Path, timeout: float = 90.0
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Run `flowgate <command>` until `/healthz` answers; yield (process, base URL)."""
    port = free_port()
    log = (data_dir / f"{command}.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flowgate.cli",
            command,
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            # One process: a test follows one gateway through its stores' outages; with a
            # worker per core, a worker still starting when a test stops a store exits
            # (tests/test_serve_workers.py covers several workers).
            *(["--workers", "1"] if command == "serve" else []),
        ],
        env={**os.environ, "FLOWGATE_ENVIRONMENT": "development", **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            lambda: _answers(f"{base_url}/healthz"), timeout, process, data_dir / f"{command}.log"
        )
        yield process, base_url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(
    condition: object,
    timeout: float,
    process: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if process is not None and process.poll() is not None:
            output = log.read_text(errors="replace")[-3000:] if log else ""
            raise AssertionError(f"process exited with {process.returncode}:\n{output}")
        if time.monotonic() > deadline:
            output = log.read_text(errors="replace")[-3000:] if log else ""
            raise AssertionError(f"condition not met within {timeout}s:\n{output}")
        time.sleep(0.2)


def processes_using(path: Path) -> list[psutil.Process]:
    """Live processes whose command line mentions `path` (postgres, secantus, ...)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(path) in cmdline and process.pid != os.getpid():
            found.append(process)
    return found

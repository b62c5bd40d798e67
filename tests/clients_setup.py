"""What the real-client tests need besides Python: the npm packages of `tests/clients` (Node)
and Debian's Chromium. Missing, they fail with the command that installs them in CI (where
`.ci/run` installs both) and skip with that reason elsewhere."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CLIENTS = Path(__file__).resolve().parent / "clients"
CHROMIUM = Path("/usr/bin/chromium")


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def require_node_packages() -> str:
    """The `node` executable, once `tests/clients/node_modules` is installed."""
    node = shutil.which("node")
    if node is None:
        _missing("Node.js is not installed: install Node 20 or newer (apt-get install -y nodejs)")
    if not (CLIENTS / "node_modules" / ".package-lock.json").exists():
        _missing(f"the client tests' npm packages are not installed: run `npm ci` in {CLIENTS}")
    return node  # type: ignore[return-value]  # _missing does not return


def require_chromium() -> Path:
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium)")
    return CHROMIUM


def node_command(script: str) -> list[str]:
    return [require_node_packages(), str(CLIENTS / script)]


def node_result(script: str, returncode: int | None, stdout: bytes, stderr: bytes) -> Any:
    """The JSON object a client script printed last, once it exited 0."""
    assert returncode == 0, f"{script} exited {returncode}:\n{stderr.decode()[-5000:]}"
    lines = stdout.decode().strip().splitlines()
    assert lines, f"{script} printed nothing:\n{stderr.decode()[-5000:]}"
    return json.loads(lines[-1])


async def run_node(script: str, env: dict[str, str], timeout: float = 120) -> Any:
    """Run `tests/clients/<script>` as an asyncio subprocess (the server under test may live
    in this event loop); return what it printed (`node_result`)."""
    process = await asyncio.create_subprocess_exec(
        *node_command(script),
        cwd=CLIENTS,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return node_result(script, process.returncode, stdout, stderr)

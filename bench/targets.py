"""The servers under test, each started as a process of its own on the benchmark's stores.

Flowgate runs under uvicorn directly with the app factory (`bench.gateway:create_app`), as a
worker of `flowgate serve --workers N` runs: uvicorn's options of `flowgate serve` (uvloop,
httptools, no access log), production settings (`FLOWGATE_ENVIRONMENT=production`, as the
compose file deploys it, with a random signing secret per run) and the logging they select:
one JSON line per request, written to the target's log file. PostGraphile is run with its
query log off (it has no line per request to keep). A pinned target runs on CPU 0
(`taskset -c 0`) and the load generator on CPU 1."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from bench.shapes import ALL_SHAPES, FLOOR_SHAPES, MEMBER_SHAPES
from bench.stores import CACHE, ROOT, Stores
from flowgate.settings import load_settings
from flowgate.stores.embedded import free_port
from flowgate.workers import uvicorn_options

NODE_DIR = CACHE / "node"
# Smart tags for PostGraphile: a column `node_id` (approvals: the step waiting) would clash
# with the `nodeId` of its Relay interface, and PostGraphile refuses to start.
POSTGRAPHILE_DIR = Path(__file__).resolve().parent / "postgraphile"
POSTGRAPHILE_VERSION = "4"


@dataclass(frozen=True)
class Target:
    name: str
    dialect: str  # flowgate | postgraphile | floor: how requests and answers are spelled
    description: str
    workers: int = 1
    pinned: bool = True
    settings: dict[str, str] = field(default_factory=dict)
    # Requests as the member (`bench.stores.MEMBER_EMAIL`), not the admin: every shape that
    # reads executions first asks MongoDB which workflows they may read.
    member: bool = False

    @property
    def shapes(self) -> tuple[str, ...]:
        if self.member:
            return MEMBER_SHAPES
        if self.dialect == "postgraphile":
            return ("Q0", "Q1", "Q2", "Q3", "Q4")
        if self.dialect == "floor":
            return FLOOR_SHAPES
        return ALL_SHAPES


def all_targets() -> list[Target]:
    cores = os.cpu_count() or 1
    return [
        Target("flowgate", "flowgate", "Flowgate, 1 worker on 1 core"),
        Target(
            f"flowgate-{cores}w",
            "flowgate",
            f"Flowgate, {cores} workers, all cores",
            workers=cores,
            pinned=False,
        ),
        Target(
            "naive",
            "flowgate",
            "Flowgate without loader batching, 1 worker on 1 core",
            settings={"loader_batching": "false"},
        ),
        Target(
            "flowgate-member",
            "flowgate",
            "Flowgate, 1 worker on 1 core, as a member (the workflows shared with them)",
            member=True,
        ),
        Target("postgraphile", "postgraphile", "PostGraphile 4, 1 process on 1 core"),
        Target("floor", "floor", "raw asyncpg + orjson, no GraphQL, 1 worker on 1 core"),
    ]


@dataclass
class Running:
    target: Target
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def cpu(self) -> TreeCpu:
        return tree_cpu(self.process.pid)

    def rss(self) -> int:
        return sum(p.memory_info().rss for p in _tree(self.process.pid))


def _tree(pid: int) -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    return []


# A process, as long as it lives: a pid with its start time (pids are reused).
ProcessKey = tuple[int, float]


@dataclass(frozen=True)
class TreeCpu:
    """The CPU seconds (user + system) of each process of a tree at one moment, and those of
    the children each has reaped (`children_user` + `children_system`); and how often each
    process's main thread had gone to sleep (its voluntary context switches)."""

    own: dict[ProcessKey, float]
    reaped: dict[ProcessKey, float]
    sleeps: dict[ProcessKey, int] = field(default_factory=dict)

    def since(self, before: TreeCpu) -> float:
        """The CPU the tree used from `before` to this moment, exited processes included.

        A process that exits takes its CPU out of the tree's sum: PostgreSQL's backends
        come and go with the clients' connections (a pool's overflow is opened and closed
        again under load), so summing the living processes missed the CPU of every backend
        that exited within the window and subtracted what it had used before it. The
        parent's reaped times grow by an exited child's whole CPU: what it had used at
        `before` is subtracted, so only the window's share counts."""
        used = sum(cpu - before.own.get(key, 0.0) for key, cpu in self.own.items())
        used += sum(cpu - before.reaped.get(key, 0.0) for key, cpu in self.reaped.items())
        return used - sum(cpu for key, cpu in before.own.items() if key not in self.own)

    def sleeps_since(self, before: TreeCpu) -> int:
        """How often the tree's living processes went to sleep from `before` to now: each
        time an event loop waits with nothing to do. On this kind of machine every such
        wake-up is charged to the process as CPU (`bench.targets.wakeup_cost`), so a server
        that waits on a slower store shows more CPU per request than it computes."""
        return sum(count - before.sleeps.get(key, count) for key, count in self.sleeps.items())


def tree_cpu(pid: int | None) -> TreeCpu:
    """The CPU of a process and its descendants, as of now (nothing for no process)."""
    own: dict[ProcessKey, float] = {}
    reaped: dict[ProcessKey, float] = {}
    sleeps: dict[ProcessKey, int] = {}
    for process in _tree(pid) if pid is not None else []:
        with contextlib.suppress(psutil.Error):
            key = (process.pid, process.create_time())
            times = process.cpu_times()
            own[key] = times.user + times.system
            reaped[key] = times.children_user + times.children_system
            sleeps[key] = process.num_ctx_switches().voluntary
    return TreeCpu(own, reaped, sleeps)


# How many short idle sleeps `wakeup_cost` times (a few hundred: a second or so).
_WAKEUP_SAMPLES = 300


def wakeup_cost(seconds: float = 0.003) -> float:
    """The CPU (microseconds) this machine charges a process for one idle wait of `seconds`
    and the wake-up after it, measured in a fresh interpreter: on a virtual machine it is
    far from nothing (about 100 us seen here), so it is printed beside the figures."""
    code = (
        "import time\n"
        "cpu = time.process_time()\n"
        f"for _ in range({_WAKEUP_SAMPLES}): time.sleep({seconds})\n"
        f"print((time.process_time() - cpu) / {_WAKEUP_SAMPLES} * 1e6)"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return float(output)


def ensure_postgraphile() -> Path | None:
    """PostGraphile's CLI, installed from npm into bench/.cache/node when missing."""
    cli = NODE_DIR / "node_modules" / "postgraphile" / "cli.js"
    if cli.exists():
        return cli
    if shutil.which("npm") is None:
        print("npm not found: PostGraphile is skipped", file=sys.stderr)
        return None
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    if not (NODE_DIR / "package.json").exists():
        (NODE_DIR / "package.json").write_text('{"name": "flowgate-bench", "private": true}\n')
    print(f"installing postgraphile@{POSTGRAPHILE_VERSION} into {NODE_DIR} ...", flush=True)
    done = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", f"postgraphile@{POSTGRAPHILE_VERSION}"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not cli.exists():
        print(
            f"npm install failed, PostGraphile is skipped:\n{done.stderr[-1000:]}", file=sys.stderr
        )
        return None
    return cli


def postgraphile_version() -> str:
    import json

    package = NODE_DIR / "node_modules" / "postgraphile" / "package.json"
    with contextlib.suppress(OSError, ValueError):
        return str(json.loads(package.read_text())["version"])
    return "?"


# Production, as deployed (the floor and PostGraphile ignore it). Every gateway process of a
# run signs with the same secret (a login's token, the fallback credential, must work on each
# target).
_DEPLOYED = {"environment": "production", "auth_secret": secrets.token_urlsafe(48)}


def _command(target: Target, port: int) -> list[str]:
    uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "--host", "127.0.0.1"]
    uvicorn += ["--port", str(port), "--workers", str(target.workers)]
    uvicorn += uvicorn_options(load_settings(**{**_DEPLOYED, **target.settings}))
    if target.dialect == "flowgate":
        command = [*uvicorn, "bench.gateway:create_app"]
    elif target.dialect == "floor":
        command = [*uvicorn, "bench.floor:create_app"]
    else:
        cli = ensure_postgraphile()
        if cli is None:
            raise RuntimeError("PostGraphile is not installed")
        command = ["node", str(cli), "--port", str(port), "--host", "127.0.0.1", "--schema"]
        command += ["public", "--disable-query-log", "--disable-graphiql"]
    return (["taskset", "-c", "0"] if target.pinned else []) + command


def _env(target: Target, stores: Stores, organization_id: str) -> dict[str, str]:
    env = stores.env(
        **_DEPLOYED,
        debug_round_trips="true",  # the counters are always kept; this only reports them
        rate_limit_per_principal="0",
        rate_limit_per_address="0",
        relay_interval="3600",
        # A login's access token (the fallback while `flowgate api-key create` is missing)
        # must outlive the run.
        access_token_ttl="86400",  # noqa: S106 - a lifetime, not a password
        **target.settings,
    )
    env.update(
        BENCH_FLOOR_DATABASE_URL=stores.database_url,
        BENCH_FLOOR_MONGODB_URL=stores.mongodb_url,
        BENCH_FLOOR_MONGODB_DATABASE=stores.mongodb_database,
        BENCH_FLOOR_ORGANIZATION=organization_id,
        NODE_ENV="production",
    )
    return env


@contextlib.contextmanager
def running(
    target: Target, stores: Stores, organization_id: str, logs: Path, headers: dict[str, str]
) -> Iterator[Running]:
    port = free_port()
    command = _command(target, port)
    if target.dialect == "postgraphile":
        command[command.index("--port") : command.index("--port")] = ["-c", stores.database_url]
    log = logs / f"{target.name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            env=_env(target, stores, organization_id),
            # PostGraphile reads its smart tags from the folder it runs in.
            cwd=POSTGRAPHILE_DIR if target.dialect == "postgraphile" else ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        _wait_ready(process, url, headers, log)
        yield Running(target, process, url, log)
    finally:
        _stop(process)


def _wait_ready(
    process: subprocess.Popen[bytes], url: str, headers: dict[str, str], log: Path
) -> None:
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}: {log.read_text()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            answer = httpx.post(
                url,
                json={"query": "query Q0 { __typename }", "operationName": "Q0"},
                headers=headers,
                timeout=2,
            )
            if answer.status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"not ready within 120 s: {log}")
        time.sleep(0.25)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)  # its own session: the workers too
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

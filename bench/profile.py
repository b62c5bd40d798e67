"""Profile the gateway on one query shape with pyinstrument, in process (no uvicorn):

    uv run python -m bench.profile Q2 --requests 50 [--html out.html]
    uv run python -m bench.profile Q0 --requests 2000 --cpu --raw --runs 5
    uv run python -m bench.profile Q5 --requests 100 --raw --instructions

Uses the benchmark's stores (bench/.cache/stores, seeded by `python -m bench`), sends the
shape's request through the ASGI app with httpx, as the load generator would over HTTP; with
`--raw`, straight into the ASGI app (no client in the measured CPU: the app's own cost, from
the scope uvicorn would pass to the bytes it would write). With `--instructions`, under
valgrind's callgrind: the instructions the process executed per request, which, unlike CPU
time, do not move with what else the machine runs, with idle wake-ups or with cache state
(`bench/README.md`, "Reading the numbers")."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import logging
import os
import pstats
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvloop
from pyinstrument import Profiler

from bench import expected, stores
from bench.check import expected_for, problems
from bench.shapes import ALL_SHAPES, body

_BACKGROUND_INTERVALS = (
    "search_indexer_interval",
    "relay_interval",
    "timeout_sweep_interval",
    "auth_recheck_interval",
    "webhook_interval",
)
# Their first passes run as the app starts (the timeout sweep reads every running
# execution): the measurement starts once they are done.
SETTLE_SECONDS = 3.0


async def main(args: argparse.Namespace) -> None:
    from flowgate.app import create_app
    from flowgate.logs import configure_logging
    from flowgate.settings import load_settings

    async with stores.bench_stores(args.data_dir) as bench_stores:
        fixture = await expected.fixture(bench_stores)
        settings = load_settings(
            database_url=bench_stores.database_url,
            mongodb_url=bench_stores.mongodb_url,
            mongodb_database=bench_stores.mongodb_database,
            # As the benchmark serves it (`bench.targets`): production, as deployed.
            environment="production",
            auth_secret=secrets.token_urlsafe(48),
            rate_limit_per_principal=0,
            rate_limit_per_address=0,
            # The app's background loops (the search indexer draining a fresh seed's outbox,
            # the relay, the sweepers) would run inside the profile: out of its way.
            **dict.fromkeys(_BACKGROUND_INTERVALS, 3600.0),
        )
        # As `flowgate serve` logs in production (JSON lines); the lines go nowhere, their
        # cost stays in the profile.
        configure_logging(production=settings.is_production, stream=open(os.devnull, "w"))  # noqa: SIM115, ASYNC230 - once, at start
        logging.getLogger("httpx").setLevel(logging.WARNING)  # the client's lines: not the server's
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                secret = stores.api_key(bench_stores, args.email)
                if secret is None:
                    answer = await client.post(
                        "/graphql",
                        json={
                            "query": stores.LOGIN,
                            "variables": {
                                "email": args.email,
                                "password": stores.ADMIN_PASSWORD,
                            },
                        },
                    )
                    secret = answer.json()["data"]["login"]["accessToken"]
                headers = {"Authorization": f"Bearer {secret}"}
                request = body("flowgate", args.shape, fixture)
                # A member's counts, where they are computed (not Q6's: its answer is then
                # checked for its shape and for errors only).
                counted = (
                    fixture.expected
                    if args.email == stores.ADMIN_EMAIL
                    else fixture.member_expected
                )
                want = (
                    expected_for("flowgate", args.shape, counted) if args.shape in counted else None
                )
                await asyncio.sleep(SETTLE_SECONDS)
                for _ in range(3):  # warm-up: imports, caches, pools
                    answer = await client.post("/graphql", json=request, headers=headers)
                    found = problems("flowgate", args.shape, answer.json(), want)
                    if found:
                        raise SystemExit(f"wrong answer: {found}")
                send = await _sender(args, app, client, request, headers, want)
                profiler = Profiler(interval=0.0005, async_mode="enabled")
                functions = cProfile.Profile(time.process_time)  # CPU: others share the machine
                began = time.perf_counter()
                if args.instructions:
                    instructions, counted = await _counted(send, args.requests)
                    print(
                        f"{args.shape}: {instructions / counted:,.0f} instructions per request "
                        f"({counted} requests, callgrind; the app only)"
                    )
                    return
                with (
                    contextlib.nullcontext()
                    if args.cpu
                    else (functions if args.functions else profiler)
                ):
                    per_run = await _runs(send, args.requests, args.runs if args.cpu else 1)
                elapsed = time.perf_counter() - began
    who = "the app only" if args.raw else "this process, client included"
    runs = ", ".join(f"{cost * 1e6:.0f}" for cost in per_run)
    print(
        f"{args.shape}: {args.requests} x {len(per_run)} requests in {elapsed:.2f} s, CPU "
        f"{statistics.median(per_run) * 1e6:.0f} us per request, median ({who}; runs: {runs})"
    )
    if args.cpu:
        return
    if args.functions:
        if args.stats_file:  # for `pstats` afterwards: callers, callees
            functions.dump_stats(args.stats_file)
        pstats.Stats(functions).sort_stats("tottime").print_stats(args.functions)
        return
    if args.html:
        Path(args.html).write_text(profiler.output_html())  # noqa: ASYNC240 - after timing
    print(profiler.output_text(unicode=False, show_all=False))


async def _sender(
    args: argparse.Namespace,
    app: Any,
    client: httpx.AsyncClient,
    request: Any,
    headers: dict[str, str],
    want: Any,
) -> Callable[[], Awaitable[Any]]:
    """What sends one request: through httpx, or with `--raw` straight into the app (its
    answer checked once more, as the warm-up checked httpx's)."""
    if not args.raw:

        async def send() -> Any:
            return await client.post("/graphql", json=request, headers=headers)

        return send
    raw = _raw_sender(app, request, headers)
    status, answer = await raw()
    if status != 200 or problems("flowgate", args.shape, orjson.loads(answer), want):
        raise SystemExit(f"wrong raw answer: {status} {answer[:300]!r}")
    return raw


async def _runs(send: Callable[[], Awaitable[Any]], requests: int, runs: int) -> list[float]:
    """CPU seconds per request of each run of `requests` requests."""
    per_run = []
    for _ in range(runs):
        cpu = time.process_time()
        for _ in range(requests):
            await send()
        per_run.append((time.process_time() - cpu) / requests)
    return per_run


# Where callgrind writes its counts (`--instructions`): set by the run that starts valgrind.
_CALLGRIND_OUT = "BENCH_CALLGRIND_OUT"


async def _counted(send: Callable[[], Awaitable[Any]], requests: int) -> tuple[int, int]:
    """The instructions `requests` requests took, and how many were counted.

    callgrind's counters are zeroed and dumped by `callgrind_control`, which valgrind
    serves only while this process runs: requests go on being sent until each command is
    answered. Those sent while the dump was pending are counted too (the zeroing takes
    effect at a request's edge or inside one, at most one request of error)."""
    zeroing = _callgrind_control("--zero")
    while zeroing.poll() is None:
        await send()
    for _ in range(requests):
        await send()
    counted = requests
    dumping = _callgrind_control("--dump")
    while dumping.poll() is None:
        await send()
        counted += 1
    return callgrind_total(Path(os.environ[_CALLGRIND_OUT] + ".1")), counted


def _callgrind_control(action: str) -> subprocess.Popen[bytes]:
    """Ask callgrind to act on this process; polled while the requests go on (it returns at
    once: callgrind answers only while this process runs)."""
    command = ["callgrind_control", action, str(os.getpid())]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def callgrind_total(dump: Path) -> int:
    """The instructions a callgrind dump counted (its `summary:` line)."""
    for line in dump.read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise ValueError(f"{dump} has no summary line")


def _under_callgrind(argv: list[str]) -> int:
    """Run this module again, with the same arguments, under callgrind (instrumented from
    the start: a program whose instrumentation is switched on later runs slower under
    callgrind than one instrumented throughout, and the count is of the requests only)."""
    with tempfile.TemporaryDirectory(prefix="flowgate-callgrind-") as folder:
        out = str(Path(folder) / "callgrind.out")
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--quiet"]
        command += [sys.executable, "-m", "bench.profile", *argv]
        return subprocess.run(
            command, env={**os.environ, _CALLGRIND_OUT: out}, check=False
        ).returncode


def _raw_sender(
    app: Any, request: Any, headers: dict[str, str]
) -> Callable[[], Awaitable[tuple[int, bytes]]]:
    """One POST of `request`, as uvicorn hands it to the app: the status and the body."""
    payload = orjson.dumps(request)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            *((name.lower().encode(), value.encode()) for name, value in headers.items()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }

    async def post() -> tuple[int, bytes]:
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": payload, "more_body": False}
            await asyncio.Event().wait()  # the client stays: no disconnect
            raise AssertionError

        async def reply(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(dict(scope), receive, reply)
        return status, b"".join(chunks)

    return post


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("shape", choices=ALL_SHAPES)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--html")
    parser.add_argument(
        "--functions", type=int, default=0, help="instead: cProfile's N costliest functions"
    )
    parser.add_argument(
        "--cpu", action="store_true", help="instead: only the CPU per request, no profiler"
    )
    parser.add_argument(
        "--raw", action="store_true", help="straight into the ASGI app, without httpx"
    )
    parser.add_argument("--runs", type=int, default=1, help="with --cpu: runs of --requests")
    parser.add_argument("--stats-file", help="with --functions: also save cProfile's stats")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="instead: instructions per request, under valgrind's callgrind (slow: ~50x)",
    )
    parser.add_argument("--data-dir", type=Path, default=stores.CACHE / "stores")
    parser.add_argument(
        "--as",
        dest="email",
        choices=["admin", "member"],
        default="admin",
        help=f"whose credential: the admin's ({stores.ADMIN_EMAIL}), or a member's "
        f"({stores.MEMBER_EMAIL}), who reads only the workflows shared with them",
    )
    arguments = parser.parse_args()
    arguments.email = {"admin": stores.ADMIN_EMAIL, "member": stores.MEMBER_EMAIL}[arguments.email]
    if arguments.instructions and _CALLGRIND_OUT not in os.environ:
        if shutil.which("valgrind") is None:
            raise SystemExit("--instructions needs valgrind (Debian's package `valgrind`)")
        raise SystemExit(_under_callgrind(sys.argv[1:]))
    # uvloop, as `flowgate serve` runs the gateway (`flowgate.runner.run`).
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main(arguments))

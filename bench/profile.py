"""Profile the gateway on one query shape with pyinstrument, in process (no uvicorn):

    uv run python -m bench.profile Q2 --requests 50 [--html out.html]

Uses the benchmark's stores (bench/.cache/stores, seeded by `python -m bench`), sends the
shape's request through the ASGI app with httpx, as the load generator would over HTTP."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import logging
import os
import pstats
import time
from pathlib import Path

import httpx
from pyinstrument import Profiler

from bench import expected, stores
from bench.check import expected_for, problems
from bench.shapes import ALL_SHAPES, body

_BACKGROUND_INTERVALS = (
    "search_indexer_interval",
    "relay_interval",
    "timeout_sweep_interval",
    "auth_recheck_interval",
)


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
            rate_limit_per_principal=0,
            rate_limit_per_address=0,
            # The app's background loops (the search indexer draining a fresh seed's outbox,
            # the relay, the sweepers) would run inside the profile: out of its way.
            **dict.fromkeys(_BACKGROUND_INTERVALS, 3600.0),
        )
        # As `flowgate serve` logs in production (JSON lines), not structlog's default
        # console renderer; the lines go nowhere, their cost stays in the profile.
        configure_logging(production=True, stream=open(os.devnull, "w"))  # noqa: SIM115, ASYNC230 - once, at start
        logging.getLogger("httpx").setLevel(logging.WARNING)  # the client's lines: not the server's
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                secret = stores.api_key(bench_stores)
                if secret is None:
                    answer = await client.post(
                        "/graphql",
                        json={
                            "query": stores.LOGIN,
                            "variables": {
                                "email": stores.ADMIN_EMAIL,
                                "password": stores.ADMIN_PASSWORD,
                            },
                        },
                    )
                    secret = answer.json()["data"]["login"]["accessToken"]
                headers = {"Authorization": f"Bearer {secret}"}
                request = body("flowgate", args.shape, fixture)
                want = expected_for("flowgate", args.shape, fixture.expected)
                for _ in range(3):  # warm-up: imports, caches, pools
                    answer = await client.post("/graphql", json=request, headers=headers)
                    found = problems("flowgate", args.shape, answer.json(), want)
                    if found:
                        raise SystemExit(f"wrong answer: {found}")
                profiler = Profiler(interval=0.0005, async_mode="enabled")
                functions = cProfile.Profile(time.process_time)  # CPU: others share the machine
                began, cpu = time.perf_counter(), time.process_time()
                with (
                    contextlib.nullcontext()
                    if args.cpu
                    else (functions if args.functions else profiler)
                ):
                    for _ in range(args.requests):
                        await client.post("/graphql", json=request, headers=headers)
                elapsed = time.perf_counter() - began
                cpu = time.process_time() - cpu
    print(
        f"{args.shape}: {args.requests} requests in {elapsed:.2f} s, "
        f"CPU {cpu * 1000 / args.requests:.2f} ms per request (this process, client included)"
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
    parser.add_argument("--stats-file", help="with --functions: also save cProfile's stats")
    parser.add_argument("--data-dir", type=Path, default=stores.CACHE / "stores")
    asyncio.run(main(parser.parse_args()))

"""The benchmark, in one command: `uv run python -m bench` (`--quick` for about 2 minutes).

Seeds `--size large` into a dedicated database (embedded stores in bench/.cache/stores, or a
`flowgate_bench` database on the servers of FLOWGATE_DATABASE_URL / FLOWGATE_MONGODB_URL),
then for each target (Flowgate on one core and on every core, Flowgate without loader
batching, PostGraphile 4, the raw asyncpg floor) and each query shape Q0..Q6 it can answer:
checks the answer, reads the round trips, measures requests/s at saturation with wrk, CPU per
request, and p50/p99 at a fixed rate. Then the subscriber benchmark (bench/subscribers.py)
for 100, 1,000 and 5,000 subscribers unless `--no-subscribers`. Appends Markdown to
bench/RESULTS.md and writes the raw numbers to bench/.cache/last-run.json."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

from bench import expected, stores
from bench.measure import Plan, ShapeResult, ensure_wrk, measure
from bench.report import report, versions
from bench.shapes import ALL_SHAPES
from bench.subscribers import machine
from bench.targets import (
    all_targets,
    ensure_postgraphile,
    postgraphile_version,
    running,
    wakeup_cost,
)

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def parse_args() -> argparse.Namespace:
    names = [t.name for t in all_targets()]
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="about 2 minutes: 1 repetition of 2 s, no warm-up, fixed rate for 1 s, three targets, "
        "no subscribers",
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per repetition")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16, help="wrk connections per worker")
    parser.add_argument(
        "--fixed-rate",
        type=float,
        default=0.5,
        help="the fixed rate, as a fraction of the target's saturated req/s",
    )
    parser.add_argument("--fixed-rate-max", type=float, default=2000.0)
    parser.add_argument("--fixed-duration", type=float, default=None, help="default: --duration")
    parser.add_argument("--shapes", nargs="+", default=list(ALL_SHAPES), choices=ALL_SHAPES)
    parser.add_argument(
        "--targets",
        nargs="+",
        choices=names,
        help="default: all (with --quick: flowgate, postgraphile, floor)",
    )
    parser.add_argument("--subscribers", type=int, nargs="*", default=[100, 1000, 5000])
    parser.add_argument("--no-subscribers", action="store_true", help="skip bench/subscribers.py")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=stores.CACHE / "stores",
        help="embedded stores' folder (kept: a second run reuses the seeded data)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="seed into a new temporary folder instead of the cached one",
    )
    parser.add_argument("--label", default="", help="a note for the heading in RESULTS.md")
    parser.add_argument("--no-append", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()
    if args.quick:
        # The answer checked first is the only warm-up.
        args.duration, args.warmup, args.repetitions = 2.0, 0.0, 1
        args.fixed_duration = args.fixed_duration or 1.0
        args.no_subscribers = True
        args.targets = args.targets or ["flowgate", "postgraphile", "floor"]
    args.targets = args.targets or names
    args.fixed_duration = args.fixed_duration or args.duration
    return args


async def _postgres_version(stores_: stores.Stores) -> str:
    connection = await asyncpg.connect(stores_.database_url)
    try:
        text: str = await connection.fetchval("SHOW server_version")
        return f"PostgreSQL {text.split(maxsplit=1)[0]}"
    finally:
        await connection.close()


def main() -> None:
    args = parse_args()
    asyncio.run(requests(args))
    if not args.no_subscribers and args.subscribers:
        command = [sys.executable, "-m", "bench.subscribers", "--subscribers"]
        command += [str(n) for n in args.subscribers]
        command += ["--no-append"] if args.no_append else []
        subprocess.run(command, cwd=stores.ROOT, check=False)


async def requests(args: argparse.Namespace) -> None:
    plan = Plan(
        duration=args.duration,
        warmup=args.warmup,
        repetitions=args.repetitions,
        connections=args.connections,
        fixed_rate_fraction=args.fixed_rate,
        fixed_rate_max=args.fixed_rate_max,
        fixed_duration=args.fixed_duration,
    )
    ensure_wrk()
    targets = [t for t in all_targets() if t.name in args.targets]
    if any(t.dialect == "postgraphile" for t in targets) and ensure_postgraphile() is None:
        targets = [t for t in targets if t.dialect != "postgraphile"]
    data_dir = Path(tempfile.mkdtemp(prefix="flowgate-bench-")) if args.fresh else args.data_dir
    logs = stores.CACHE / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    results: list[ShapeResult] = []
    async with stores.bench_stores(data_dir) as bench_stores:
        began = time.monotonic()
        print(f"stores: {bench_stores.described}; seeding --size large ...", flush=True)
        seeded = await stores.seed(bench_stores, reset=False)
        print(f"  {seeded} ({time.monotonic() - began:.0f} s)", flush=True)
        secret = stores.api_key(bench_stores)
        credential = "an API key from `flowgate api-key create`" if secret else ""
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        member_secret = (
            stores.api_key(bench_stores, stores.MEMBER_EMAIL)
            if any(t.member for t in targets)
            else None
        )
        fixture = await expected.fixture(bench_stores)
        cpu_pids = {
            "postgres": await bench_stores.postgres_pid(),
            "mongo": bench_stores.secantus_pid,
        }
        for target in targets:
            shapes = [s for s in args.shapes if s in target.shapes]
            if not shapes:
                continue
            target_headers = headers if target.dialect == "flowgate" else {}
            if target.member:
                if member_secret is None:
                    print(f"  {target.name}: no API key for {stores.MEMBER_EMAIL}", flush=True)
                    continue
                target_headers = {"Authorization": f"Bearer {member_secret}"}
            with running(
                target, bench_stores, fixture.organization_id, logs, target_headers
            ) as server:
                if target.dialect == "flowgate" and not headers:
                    # No api-key command (yet): the seeded admin logs in instead.
                    token = stores.login(server.url)
                    if token:
                        credential = "a login's access token (`login` mutation)"
                        headers["Authorization"] = f"Bearer {token}"
                    print(f"  Authorization: {credential or 'none'}", flush=True)
                for shape in shapes:
                    result = measure(server, shape, fixture, plan, target_headers, cpu_pids)
                    results.append(result)
                    print(
                        f"{target.name:>14} {shape}: {result.rps:9,.1f} req/s  "
                        f"cpu {result.cpu_ms:6.2f} ms/req  p50 {result.p50_ms:7.1f} ms  "
                        f"p99 {result.p99_ms:7.1f} ms @ {result.rate:,.0f}/s  trips "
                        f"{result.round_trips}  {'ok' if result.correct else result.problems}",
                        flush=True,
                    )
        text = report(
            results,
            label=args.label,
            plan=plan,
            machine=machine(),
            versions_line=versions(await _postgres_version(bench_stores), postgraphile_version()),
            stores=bench_stores.described,
            data=_describe_data(fixture.expected),
            targets=[(t.name, t.description) for t in targets],
            credential=credential,
            load=(load_before, os.getloadavg()[0]),
            wakeup_us=wakeup_cost(),
        )
    (stores.CACHE / "last-run.json").write_text(
        json.dumps([r.as_dict() for r in results], indent=1, default=str)
    )
    print()
    print(text)
    if not args.no_append and results:
        with RESULTS.open("a") as out:
            out.write("\n" + text)
        print(f"appended to {RESULTS}")


def _describe_data(expected_counts: dict[str, dict[str, int]]) -> str:
    q2 = expected_counts.get("Q2", {})
    return (
        f"`flowgate seed --size large` (600 agents, 30,000 executions with traces and events "
        f"over 2 organizations); the benchmark's organization has {q2.get('agentsTotal', '?')} "
        f"live agents, {expected_counts.get('Q6', {}).get('totalExecutions', '?')} executions "
        "in the 30-day window of Q6"
    )


if __name__ == "__main__":
    main()

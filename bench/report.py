"""The Markdown that goes into bench/RESULTS.md."""

from __future__ import annotations

import math
import subprocess
from datetime import UTC, datetime
from importlib import metadata

from bench.measure import Plan, ShapeResult
from bench.shapes import DESCRIPTIONS
from bench.stores import ROOT


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def _command_output(*command: str) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    except OSError:
        return "?"
    return (
        (done.stdout or done.stderr).strip().splitlines()[0]
        if (done.stdout or done.stderr)
        else "?"
    )


def versions(postgres: str, postgraphile: str) -> str:
    return (
        f"Python {_command_output('python', '--version').split()[-1]}, "
        f"strawberry-graphql {_version('strawberry-graphql')}, uvicorn {_version('uvicorn')}, "
        f"SQLAlchemy {_version('sqlalchemy')}, asyncpg {_version('asyncpg')}, "
        f"pymongo {_version('pymongo')}, SecantusDB {_version('secantus')}, "
        f"{postgres}, PostGraphile {postgraphile} on Node {_command_output('node', '--version')}, "
        f"{_command_output('wrk', '--version').split(' [')[0]}; "
        f"flowgate at {_command_output('git', 'rev-parse', '--short', 'HEAD')}"
    )


def _f(value: float, digits: int = 0) -> str:
    return (
        "-"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value:,.{digits}f}"
    )


def _trips(result: ShapeResult) -> str:
    if result.round_trips is None:
        return "-"
    return f"{result.round_trips['sql']} + {result.round_trips['mongo']}"


def results_table(results: list[ShapeResult]) -> str:
    lines = [
        "| shape | target | req/s (median) | runs | conns | CPU ms/req server+PG "
        "| of which PG | Mongo CPU ms/req | server sleeps/req | fixed rate (req/s) "
        "| p50 ms | p99 ms | round trips SQL + Mongo | answer KiB | correct |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in sorted(results, key=lambda r: r.shape):
        runs = " / ".join(f"{x:,.1f}" if x < 100 else f"{x:,.0f}" for x in r.rps_runs) or "-"
        verdict = "yes" if r.correct else "**NO**: " + "; ".join(r.problems)[:160]
        rps = _f(r.rps, 1 if r.rps < 100 else 0)
        rate = _f(r.rate, 1 if r.rate < 10 else 0)
        lines.append(
            f"| {r.shape} | {r.target} | {rps} | {runs} | {r.connections} | {_f(r.cpu_ms, 2)} "
            f"| {_f(r.postgres_cpu_ms, 2)} | {_f(r.mongo_cpu_ms, 2)} | {_f(r.sleeps, 2)} | {rate} "
            f"| {_f(r.p50_ms, 1)} | {_f(r.p99_ms, 1)} | {_trips(r)} "
            f"| {r.answer_bytes / 1024:,.1f} | {verdict} |"
        )
    return "\n".join(lines)


def ratio_table(results: list[ShapeResult], names: list[str], *, cpu: bool = False) -> str:
    """Flowgate (1 worker) against each other target, per shape: req/s of Flowgate over
    theirs, or with `cpu` their CPU per request over Flowgate's (above 1: Flowgate better)."""
    by = {(r.target, r.shape): r for r in results if r.correct}
    flowgate = "flowgate"
    columns = [n for n in names if n != flowgate]
    if not columns:
        return "(no other target in this run)"
    unit = "CPU ms/req, theirs / Flowgate's" if cpu else "req/s, Flowgate / theirs"
    lines = [
        "| shape | " + " | ".join(f"vs {n} ({unit})" for n in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for shape in sorted({r.shape for r in results}):
        cells = []
        for name in columns:
            mine, theirs = by.get((flowgate, shape)), by.get((name, shape))
            if not (mine and theirs and theirs.rps and mine.rps):
                cells.append("-")
            elif cpu:
                cells.append(f"{theirs.cpu_ms / mine.cpu_ms:.2f}")
            else:
                cells.append(f"{mine.rps / theirs.rps:.2f}")
        lines.append(f"| {shape} {DESCRIPTIONS[shape]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(
    results: list[ShapeResult],
    *,
    label: str,
    plan: Plan,
    machine: str,
    versions_line: str,
    stores: str,
    data: str,
    targets: list[tuple[str, str]],
    credential: str,
    load: tuple[float, float],
    wakeup_us: float,
) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    names = [name for name, _ in targets]
    described = "; ".join(f"`{name}`: {what}" for name, what in targets)
    auth = (
        f"Requests to Flowgate carry `Authorization: Bearer` with {credential}."
        if credential
        else "Requests to Flowgate carry no Authorization header."
    )
    if "flowgate-member" in names:
        auth += (
            " `flowgate-member` sends the member's (`user@acme.example`, an API key too), and"
            " its answers are checked against what that member may read (the workflow rule of"
            " DESIGN.md restated in `bench/expected.py`); its ratio columns compare the admin's"
            " Flowgate with it."
        )
    method = " ".join(
        [
            "per shape and target, one answer checked against counts computed from the stores",
            "(no errors, the expected agents, executions, steps, ...), then wrk (1 thread,",
            f"up to {plan.connections} connections per worker (fewer for slow shapes: about",
            "duration / (8 x one request's latency); `conns`), POST bodies from `bench/post.lua`,",
            f"non-2xx and error answers counted) for {plan.warmup:g} s of warm-up and",
            f"{plan.repetitions} x {plan.duration:g} s: req/s is the median; then latency at a",
            f"fixed rate of {plan.fixed_rate_fraction:.0%} of that target's median (at most",
            f"{plan.fixed_rate_max:g} req/s) for {plan.fixed_duration:g} s by",
            "`bench/fixed_rate.py` (latency from when each request was due; every 10th answer",
            "checked). CPU ms/req: user + system CPU of the server's process tree and of",
            "PostgreSQL's (postmaster and backends) over the saturation runs, divided by the",
            "requests (`of which PG`: PostgreSQL's part); Mongo: SecantusDB's. Round trips as",
            "the gateway reports them in `extensions.roundTrips`",
            "(`FLOWGATE_DEBUG_ROUND_TRIPS=true`). Server sleeps/req: how often the server's",
            "processes went idle and woke again per request (voluntary context switches); each",
            f"is charged about {wakeup_us:.0f} us of CPU here (`bench.targets.wakeup_cost`),",
            "which counts in CPU ms/req though the server computed nothing then.",
            auth,
        ]
    )
    title = f"## Requests (`python -m bench`){f': {label}' if label else ''}, {now}"
    return f"""{title}

- machine: {machine}; load average {load[0]:.1f} before, {load[1]:.1f} after
  (other work on the machine adds noise)
- versions: {versions_line}
- stores: {stores}; data: {data}
- targets: {described}. Pinned targets run on CPU 0 and the load generators on CPU 1;
  PostgreSQL and SecantusDB are not pinned.
- method: {method}

{results_table(results)}

Ratios of requests per second (above 1: Flowgate on one core is faster):

{ratio_table(results, names)}

Ratios of CPU per request, server + PostgreSQL (less noisy on a shared machine; above 1:
Flowgate spends less):

{ratio_table(results, names, cpu=True)}
"""

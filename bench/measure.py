"""One shape against one running target: check, round trips, saturation, fixed-rate latency."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.check import expected_for, problems
from bench.shapes import Fixture, body
from bench.stores import ROOT
from bench.targets import Running, TreeCpu, tree_cpu

LUA = Path(__file__).resolve().parent / "post.lua"


@dataclass
class Plan:
    duration: float
    warmup: float
    repetitions: int
    connections: int
    fixed_rate_fraction: float
    fixed_rate_max: float
    fixed_duration: float


@dataclass
class ShapeResult:
    target: str
    shape: str
    correct: bool
    problems: list[str] = field(default_factory=list)
    round_trips: dict[str, int] | None = None
    rps_runs: list[float] = field(default_factory=list)
    cpu_ms_runs: list[float] = field(default_factory=list)  # server + PostgreSQL, per request
    # PostgreSQL's part of `cpu_ms_runs`: which of the two a change should work on.
    postgres_cpu_ms_runs: list[float] = field(default_factory=list)
    mongo_cpu_ms_runs: list[float] = field(default_factory=list)
    # How often the server's processes went idle and woke, per request (`TreeCpu.sleeps_since`).
    sleeps_runs: list[float] = field(default_factory=list)
    bad: int = 0  # non-2xx or error answers under load (wrk and the fixed-rate client)
    rate: float = 0.0
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    achieved_rate: float = 0.0
    checked_under_load: int = 0
    answer_bytes: int = 0
    connections: int = 0

    @property
    def rps(self) -> float:
        return statistics.median(self.rps_runs) if self.rps_runs else float("nan")

    @property
    def cpu_ms(self) -> float:
        return statistics.median(self.cpu_ms_runs) if self.cpu_ms_runs else float("nan")

    @property
    def postgres_cpu_ms(self) -> float:
        runs = self.postgres_cpu_ms_runs
        return statistics.median(runs) if runs else float("nan")

    @property
    def mongo_cpu_ms(self) -> float:
        return statistics.median(self.mongo_cpu_ms_runs) if self.mongo_cpu_ms_runs else float("nan")

    @property
    def sleeps(self) -> float:
        return statistics.median(self.sleeps_runs) if self.sleeps_runs else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "rps": self.rps, "cpu_ms": self.cpu_ms}


def ensure_wrk() -> str:
    """wrk from Debian's packages, installed with apt-get when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk with apt-get ...", flush=True)
    for command in (
        ["apt-get", "install", "-y", "wrk"],
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "wrk"],
    ):
        subprocess.run(command, capture_output=True, check=False)
        if shutil.which("wrk"):
            break
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is missing and `apt-get install -y wrk` did not install it")
    return found


def _wrk(
    running: Running, body_file: Path, seconds: float, connections: int, auth: str
) -> dict[str, Any]:
    command = ["taskset", "-c", "1"] if running.target.pinned else []
    command += [ensure_wrk(), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    command += ["--timeout", "10s", "-s", str(LUA), running.url]
    env = {"BENCH_BODY_FILE": str(body_file), "BENCH_AUTHORIZATION": auth, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            result: dict[str, Any] = json.loads(line[6:])
            return result
    raise RuntimeError(f"wrk failed: {done.stdout[-500:]} {done.stderr[-500:]}")


def measure(
    running: Running,
    shape: str,
    fixture: Fixture,
    plan: Plan,
    headers: dict[str, str],
    cpu_pids: dict[str, int | None],
) -> ShapeResult:
    target = running.target
    request = body(target.dialect, shape, fixture)
    assert request is not None
    seen = fixture.member_expected if target.member else fixture.expected
    expected = expected_for(target.dialect, shape, seen)
    result = ShapeResult(target.name, shape, correct=True)

    # Correctness first (and the round trips, which the gateway reports per request).
    if not _check(running, shape, request, expected, headers, result):
        return result  # a wrong answer scores nothing

    auth = headers.get("Authorization", "")
    # Enough connections to keep every worker busy, but few enough that a slow shape's
    # requests still finish well within a run: wrk counts only answers that arrive in time,
    # and the CPU of requests cut off at the end would be charged to those that did.
    single = min(
        httpx.post(running.url, json=request, headers=headers, timeout=60).elapsed.total_seconds()
        for _ in range(2)
    )
    per_worker = max(2, min(plan.connections, int(plan.duration / (8 * max(single, 1e-3)))))
    connections = per_worker * target.workers
    result.connections = connections
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as out:
        out.write(json.dumps(request).encode())
        body_file = Path(out.name)
    try:
        if plan.warmup > 0:
            _wrk(running, body_file, plan.warmup, connections, auth)
            _settle(running, cpu_pids)
        for _ in range(plan.repetitions):
            before = _cpu(running, cpu_pids)
            run = _wrk(running, body_file, plan.duration, connections, auth)
            after = _cpu(running, cpu_pids)
            _settle(running, cpu_pids)
            requests = max(1, run["requests"])
            result.bad += run["non2xx"] + run["bad"] + run["connect"] + run["read"] + run["timeout"]
            result.rps_runs.append(run["requests"] / (run["duration_us"] / 1e6))
            used = _used(before, after)
            server = used["server"] + used["postgres"]
            result.cpu_ms_runs.append(server / requests * 1000)
            result.postgres_cpu_ms_runs.append(used["postgres"] / requests * 1000)
            result.mongo_cpu_ms_runs.append(used["mongo"] / requests * 1000)
            result.sleeps_runs.append(after["server"].sleeps_since(before["server"]) / requests)
        rate = min(plan.fixed_rate_max, result.rps * plan.fixed_rate_fraction)
        result.rate = round(rate) if rate >= 10 else max(0.5, round(rate, 1))
        fixed = _fixed_rate(running, body_file, result.rate, plan, auth, shape, expected)
        result.p50_ms, result.p99_ms = fixed["p50_ms"], fixed["p99_ms"]
        result.achieved_rate = fixed["achieved"]
        result.checked_under_load = fixed["checked"]
        result.bad += fixed["non2xx"] + fixed["bad"] + fixed["failed"]
        if fixed["examples"]:
            result.problems.extend(fixed["examples"])
    finally:
        body_file.unlink(missing_ok=True)
    if result.bad:
        result.correct = False
        result.problems.insert(0, f"{result.bad} bad answers under load")
    return result


def _check(
    running: Running,
    shape: str,
    request: dict[str, Any],
    expected: dict[str, int],
    headers: dict[str, str],
    result: ShapeResult,
) -> bool:
    answer = httpx.post(running.url, json=request, headers=headers, timeout=60)
    result.answer_bytes = len(answer.content)
    json_answer = answer.headers.get("content-type", "").startswith("application/json")
    decoded = answer.json() if json_answer else {}
    found = [f"HTTP {answer.status_code}"] if answer.status_code != 200 else []
    found += problems(running.target.dialect, shape, decoded, expected)
    if found:
        result.correct, result.problems = False, found
        return False
    trips = (decoded.get("extensions") or {}).get("roundTrips")
    if trips is not None:
        result.round_trips = {"sql": trips["sql"], "mongo": trips["mongo"]}
    return True


def _settle(running: Running, pids: dict[str, int | None], limit: float = 60.0) -> None:
    """Wait until the server and the stores are idle: when wrk stops, the requests it left in
    flight are still being answered, and would be charged to the next run."""
    deadline = time.monotonic() + limit
    last = _cpu(running, pids)
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = _cpu(running, pids)
        if all(used < 0.02 for used in _used(last, now).values()):  # under 10% of a core
            return
        last = now


def _cpu(running: Running, pids: dict[str, int | None]) -> dict[str, TreeCpu]:
    return {
        "server": running.cpu(),
        "postgres": tree_cpu(pids.get("postgres")),
        "mongo": tree_cpu(pids.get("mongo")),
    }


def _used(before: dict[str, TreeCpu], after: dict[str, TreeCpu]) -> dict[str, float]:
    return {name: after[name].since(before[name]) for name in after}


def _fixed_rate(
    running: Running,
    body_file: Path,
    rate: float,
    plan: Plan,
    auth: str,
    shape: str,
    expected: dict[str, int],
) -> dict[str, Any]:
    command = ["taskset", "-c", "1"] if running.target.pinned else []
    command += [sys.executable, "-m", "bench.fixed_rate", "--url", running.url]
    command += ["--body-file", str(body_file), "--rate", str(rate)]
    command += ["--duration", str(plan.fixed_duration), "--authorization", auth]
    command += ["--dialect", running.target.dialect, "--shape", shape]
    command += [
        "--expected",
        json.dumps(expected),
        "--connections",
        str(min(64, max(8, int(rate)))),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"fixed-rate client failed: {done.stderr[-1500:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result

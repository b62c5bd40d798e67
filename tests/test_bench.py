"""The benchmark harness scores only right answers: its checker refuses wrong ones, and its
query shapes are valid against the schema (a renamed field fails here, not mid-run)."""

from __future__ import annotations

import gc
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from graphql import parse, validate
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from bench.check import problems
from bench.profile import callgrind_total
from bench.shapes import FLOWGATE
from bench.subscribers import GcPauses, gc_samples_of
from bench.targets import tree_cpu, wakeup_cost
from flowgate import gc_tuning
from schema import schema

EXPECTED_Q2 = {"agentsTotal": 51, "agents": 2, "executions": 3, "executionsTotal": 7}


def _agent(executions: int, total: int) -> dict[str, Any]:
    edges = [{"node": {"id": f"e{i}", "status": "SUCCEEDED"}} for i in range(executions)]
    executions_page = {"totalCount": total, "edges": edges}
    return {"node": {"id": "a", "name": "agent", "executions": executions_page}}


def _answer(*agents: dict[str, Any], total: int = 51) -> dict[str, Any]:
    return {"data": {"agents": {"totalCount": total, "edges": list(agents)}}}


def test_a_right_answer_passes() -> None:
    # given
    answer = _answer(_agent(2, 5), _agent(1, 2))
    # when
    found = problems("flowgate", "Q2", answer, EXPECTED_Q2)
    # then
    assert found == []


@pytest.mark.parametrize(
    ("answer", "complaint"),
    [
        (_answer(_agent(2, 5)), "agents: got 1, expected 2"),
        (_answer(_agent(2, 5), _agent(0, 2)), "executions: got 2, expected 3"),
        (_answer(_agent(2, 5), _agent(1, 2), total=50), "agentsTotal: got 50, expected 51"),
        ({"data": None, "errors": [{"message": "Authentication required"}]}, "errors:"),
        ({"data": {"agents": None}}, "unexpected shape"),
    ],
)
def test_a_wrong_answer_fails(answer: dict[str, Any], complaint: str) -> None:
    # when
    found = problems("flowgate", "Q2", answer, EXPECTED_Q2)
    # then
    assert any(complaint in problem for problem in found), found


def test_postgraphile_answers_are_counted_by_their_own_names() -> None:
    # given: PostGraphile's spelling of the same page
    answer = {
        "data": {
            "allAgents": {
                "totalCount": 51,
                "nodes": [
                    {"executionsByAgentId": {"totalCount": 5, "nodes": [{}, {}]}},
                    {"executionsByAgentId": {"totalCount": 2, "nodes": [{}]}},
                ],
            }
        }
    }
    # then
    assert problems("postgraphile", "Q2", answer, EXPECTED_Q2) == []


@pytest.mark.parametrize("shape", sorted(FLOWGATE))
def test_every_shape_is_valid_against_the_schema(shape: str) -> None:
    # when
    errors = validate(schema._schema, parse(FLOWGATE[shape]))
    # then
    assert errors == []


def test_gc_pauses_are_read_from_the_histogram_by_generation() -> None:
    # given: a registry with the gateway's histogram, before and after three pauses
    registry = CollectorRegistry()
    pauses = Histogram(
        "flowgate_gc_pause_seconds", "", ["generation"], buckets=(0.01, 0.1, 1), registry=registry
    )
    pauses.labels(generation="0").observe(0.004)
    before = gc_samples_of(generate_latest(registry).decode())
    pauses.labels(generation="0").observe(0.005)
    pauses.labels(generation="0").observe(0.05)
    pauses.labels(generation="2").observe(0.5)

    # when
    found = GcPauses.between(before, gc_samples_of(generate_latest(registry).decode()))

    # then: the window's counts and time per generation; the longest is under 1 s
    assert found.counts == (2, 0, 1)
    assert found.seconds == pytest.approx((0.055, 0.0, 0.5))
    assert found.longest == 1.0


def test_a_real_collection_is_seen_by_the_bench() -> None:
    # given: collections timed, as the gateway's lifespan does
    gc_tuning.time_pauses()
    before = gc_samples_of(generate_latest().decode())

    # when
    gc.collect()
    found = GcPauses.between(before, gc_samples_of(generate_latest().decode()))

    # then
    assert found.counts[2] >= 1
    assert found.seconds[2] > 0
    assert found.longest > 0


def test_a_server_that_waits_is_seen_going_to_sleep() -> None:
    # given: a process that sleeps 30 times once told to, then says so
    code = (
        "import sys, time\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"
        "for _ in range(30): time.sleep(0.005)\n"
        "print('done', flush=True)\n"
        "sys.stdin.readline()\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        assert process.stdout.readline() == "ready\n"
        before = tree_cpu(process.pid)

        # when
        process.stdin.write("go\n")
        process.stdin.flush()
        assert process.stdout.readline() == "done\n"
        after = tree_cpu(process.pid)
    finally:
        process.kill()
        process.wait()

    # then: its 30 sleeps, and the reads around them (a few more)
    assert 30 <= after.sleeps_since(before) < 40
    assert after.sleeps_since(after) == 0


def test_the_cost_of_a_wakeup_is_measured() -> None:
    # when: 3 ms idle waits, each charged what the machine charges for it (some charge
    # nothing: their CPU time is counted in ticks)
    cost = wakeup_cost(0.003)

    # then: in microseconds, and less than the wait itself
    assert 0 <= cost < 3000


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_callgrind_counts_are_read_from_a_real_dump(tmp_path: Path) -> None:
    # given: a program that loops a thousand times more than another, under callgrind
    def instructions(loops: int) -> int:
        out = tmp_path / f"callgrind.{loops}"
        code = f"for _ in range({loops}): pass"
        valgrind = ["valgrind", "--tool=callgrind", "--quiet", f"--callgrind-out-file={out}"]
        subprocess.run([*valgrind, sys.executable, "-S", "-c", code], check=True)
        return callgrind_total(out)

    # when
    few, many = instructions(1_000), instructions(1_001_000)

    # then: the loop's million more passes are counted (at module level a pass stores to
    # the globals' dict: a few hundred instructions)
    assert 50 < (many - few) / 1_000_000 < 1_000

"""The gateway as a user runs it: real processes, real signals, real store outages."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import httpx
import pytest

from tests.processes import gateway_process, processes_using, wait_for

pytestmark = pytest.mark.slow

FIRST_AGENTS = "{ agents(first: 5) { edges { node { name flowchart { nodes { id type } } } } } }"


def _demo_credential(log: Path) -> dict[str, str]:
    """The ready-to-paste credential the demo prints: a JSON headers object."""
    match = re.search(
        r'Demo credential \([^)]*\): (\{"Authorization": "Bearer [^"]+"\})', log.read_text()
    )
    assert match, "the demo prints a credential"
    headers: dict[str, str] = json.loads(match[1])
    return headers


def _first_agents(base_url: str, log: Path) -> list[dict[str, object]] | None:
    try:
        response = httpx.post(
            f"{base_url}/graphql",
            json={"query": FIRST_AGENTS},
            headers=_demo_credential(log),
            timeout=10,
        )
    except httpx.HTTPError:
        return None
    body = response.json()
    return body["data"]["agents"]["edges"] if body.get("data") else None


def test_demo_serves_seeded_data_stops_cleanly_and_keeps_its_data(tmp_path: Path) -> None:
    # given: a fresh data folder; the demo starts embedded PostgreSQL and SecantusDB in it
    data_dir = tmp_path / "demo"
    data_dir.mkdir()
    env = {"FLOWGATE_DATABASE_URL": "", "FLOWGATE_MONGODB_URL": "", "FLOWGATE_REDIS_URL": ""}
    with gateway_process("demo", env, data_dir=data_dir) as (process, base_url):
        # when: the seeded data is there
        first = _first_agents(base_url, data_dir / "demo.log")

        # then: five agents, each with its flowchart (how long the first start takes is
        # measured, not asserted: see the README)
        assert first is not None
        assert len(first) == 5
        assert all(edge["node"]["flowchart"]["nodes"] for edge in first)  # type: ignore[index]
        assert processes_using(data_dir), "the embedded stores run under the data folder"

        # when: the gateway is asked to stop
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

    # then: no postgres or secantus process outlives it
    wait_for(lambda: not processes_using(data_dir), 15)
    assert process.returncode == 0

    # when: it starts again on the same folder
    with gateway_process("demo", env, data_dir=data_dir) as (_, base_url):
        second = _first_agents(base_url, data_dir / "demo.log")

    # then: the same data, not a second seed
    assert second == first


# The store outages (readiness naming the store, degraded fields, recovery without a
# restart) are tests/test_degradation.py's.

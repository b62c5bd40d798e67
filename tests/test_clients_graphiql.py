"""GraphiQL as an analyst meets it: `flowgate demo` running, the page in headless Debian
Chromium driven by Playwright (`tests/clients/graphiql.mjs`), offline: every request that
does not go to the gateway is aborted. The page loads on the example operations from the
gateway's own files, the credential the demo printed goes into the Headers tab, the
dashboard example runs and shows its answer, and the live-executions subscription shows
events from the demo's simulated engine, signed in over the websocket with the same
credential; the credential stays out of localStorage, and no other site can frame the page.
With `FLOWGATE_GRAPHIQL_ASSETS=cdn` the same page loads the same files from the CDN
(`tests/clients/graphiql_cdn.mjs`), each passing its integrity check."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from flowgate.graphiql import examples
from flowgate.graphiql.assets import assets
from flowgate.graphiql.page import SCRIPTS, STYLES, source
from tests import stores
from tests.clients_setup import CLIENTS, node_command, node_result, require_chromium
from tests.processes import gateway_process
from tests.test_processes import _demo_credential

pytestmark = pytest.mark.slow

ACTIVE_AGENTS = "{ agents(filter: {status: [ACTIVE]}) { totalCount } }"
EXECUTION = "query ($id: ID!) { execution(id: $id) { id agent { name } } }"


@pytest.fixture
def demo_stores(test_stores: stores.TestStores) -> Any:
    """Environment for a demo on the session's servers, in databases of its own (the
    simulator writes, and the session's seed is read-only for tests)."""
    database_url = asyncio.run(test_stores.create_database("graphiql"))
    mongodb_database = f"flowgate_graphiql_{uuid.uuid4().hex[:8]}"
    yield {
        "FLOWGATE_DATABASE_URL": database_url,
        "FLOWGATE_MONGODB_URL": test_stores.mongodb_url,
        "FLOWGATE_MONGODB_DATABASE": mongodb_database,
        "FLOWGATE_REDIS_URL": "",  # its own in-process bus: no events on the session's Redis
        "FLOWGATE_SIMULATOR_INTERVAL": "1",
    }
    # The session's embedded SecantusDB goes with the session (dropping costs ~10 s there);
    # a real MongoDB keeps what is not dropped.
    if os.environ.get("FLOWGATE_MONGODB_URL"):
        with MongoClient(test_stores.mongodb_url, directConnection=True) as mongo:
            mongo.drop_database(mongodb_database)


def test_graphiql_runs_the_examples_and_shows_live_events(
    tmp_path: Path, demo_stores: dict[str, str]
) -> None:
    chromium = require_chromium()
    command = node_command("graphiql.mjs")

    with gateway_process("demo", demo_stores, data_dir=tmp_path) as (_, base_url):
        credential = _demo_credential(tmp_path / "demo.log")

        # when: a person opens GraphiQL, pastes the credential, runs the examples
        screenshot = tmp_path / "graphiql.png"
        finished = subprocess.run(
            command,
            cwd=CLIENTS,
            env={
                **os.environ,
                "FLOWGATE_URL": base_url,
                "FLOWGATE_HEADERS": json.dumps(credential),
                "CHROMIUM": str(chromium),
                "SCREENSHOT": str(screenshot),
            },
            capture_output=True,
            timeout=120,
            check=False,
        )
        seen = node_result("graphiql.mjs", finished.returncode, finished.stdout, finished.stderr)
        with httpx.Client(base_url=base_url, headers=credential, timeout=10) as api:
            agents = api.post("/graphql", json={"query": ACTIVE_AGENTS}).json()["data"]["agents"]
            live = [event["data"]["executionUpdates"] for event in seen["events"]]
            executions = [
                api.post(
                    "/graphql", json={"query": EXECUTION, "variables": {"id": e["id"]}}
                ).json()["data"]["execution"]
                for e in live
            ]

    # then: the page opened on one tab per example, from the gateway's files alone (it
    # asked for nothing elsewhere), each sent compressed, and the browser reported no error
    # (a Content-Security-Policy violation included)
    assert seen["tabs"] == [
        "Dashboard",
        "Search",
        "LiveExecutions",
        "Conversations",
        "Figures",
        "Board",
    ]
    assert len(seen["tabs"]) == len(examples())
    assert seen["blocked"] == []
    loaded = {path.rsplit("/", 1)[1]: (status, coding) for path, status, coding in seen["files"]}
    assert loaded == {name: (200, "gzip") for name in STYLES + SCRIPTS}
    assert seen["console"] == []
    # the dashboard ran and its answer is the gateway's
    assert "errors" not in seen["query"], seen["query"]
    assert seen["query"]["data"]["agents"]["totalCount"] == agents["totalCount"] > 0
    assert seen["query"]["data"]["dashboardStats"]["totalExecutions"] > 0
    # the subscription signed in with the pasted credential, typed in another tab
    assert seen["connectionInit"] == [credential]
    # and showed live events, each a real execution of the demo's engine
    assert len(live) >= 2, seen["events"]
    assert all(event["status"] in {"RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"} for event in live)
    assert [execution["id"] for execution in executions] == [event["id"] for event in live]
    assert all(execution["agent"]["name"] for execution in executions)
    # the credential was kept for the browser tab's session, never in localStorage
    token = credential["Authorization"].removeprefix("Bearer ")
    assert token in seen["storage"]["session"]
    assert token not in seen["storage"]["local"]
    # where an earlier version of the page had left one, it is gone (not shown in the Headers
    # editor either), history kept
    assert json.loads(seen["headersTyped"]) == credential
    assert "leftover-credential" not in seen["storage"]["local"]
    assert "{ me { id } }" in seen["storage"]["local"]
    # and a page of another origin that frames the IDE shows nothing of it
    assert seen["framed"] is False


def test_graphiql_loads_from_the_cdn_when_set_so(
    tmp_path: Path, demo_stores: dict[str, str]
) -> None:
    chromium = require_chromium()
    command = node_command("graphiql_cdn.mjs")
    # the CDN's URL of each vendored file -> where the gateway serves the same file
    cdn_files = {source(a, "cdn"): a.url for a in assets().values() if a.package}
    env = {**demo_stores, "FLOWGATE_GRAPHIQL_ASSETS": "cdn"}

    # when: a gateway set to the CDN serves the page
    with gateway_process("serve", env, data_dir=tmp_path) as (_, base_url):
        finished = subprocess.run(
            command,
            cwd=CLIENTS,
            env={
                **os.environ,
                "FLOWGATE_URL": base_url,
                "CDN_FILES": json.dumps(cdn_files),
                "CHROMIUM": str(chromium),
            },
            capture_output=True,
            timeout=120,
            check=False,
        )
    seen = node_result("graphiql_cdn.mjs", finished.returncode, finished.stdout, finished.stderr)

    # then: it loaded every vendored file from the CDN, each passing its integrity check and
    # the page's policy (a failure of either is a console error), and opened on the examples
    assert sorted(seen["fromCdn"]) == sorted(cdn_files)
    assert seen["blocked"] == []
    assert seen["console"] == []
    assert seen["tabs"] == [
        "Dashboard",
        "Search",
        "LiveExecutions",
        "Conversations",
        "Figures",
        "Board",
    ]

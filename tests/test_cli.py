"""The `flowgate` console script, run as a user runs it: a separate process, a real exit code,
and errors a user can fix printed as one line naming the variable, never a traceback."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from flowgate import migrate
from flowgate.settings import Settings
from flowgate.status import collect_status
from flowgate.stores.embedded import free_port

if TYPE_CHECKING:  # at run time, pytest would try to collect `TestStores` as tests
    from tests.stores import TestStores

FLOWGATE = Path(sys.executable).with_name("flowgate")
CLOSED_MONGODB_URL = "mongodb://127.0.0.1:1/?directConnection=true&serverSelectionTimeoutMS=500"
CLOSED_DATABASE_URL = "postgresql://postgres@127.0.0.1:1/flowgate"


@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str


async def run_flowgate(tmp_path: Path, *args: str, **env: str) -> Finished:
    """Run the console script with only the given FLOWGATE_* variables (none from the caller's
    environment), in an empty directory so no `.env` is read and nothing is left behind."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FLOWGATE_")}
    environment.update(FLOWGATE_STORE_TIMEOUT="2", FLOWGATE_DATA_DIR=str(tmp_path / "data"))
    environment.update(env)
    process = await asyncio.create_subprocess_exec(
        FLOWGATE,
        *args,
        env=environment,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Finished(process.returncode, stdout.decode(), stderr.decode())


def assert_one_line_error(finished: Finished, variable: str) -> None:
    assert finished.code == 1, finished
    assert "Traceback" not in finished.stderr + finished.stdout
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    assert variable in lines[0]


def status_row(stdout: str, store: str) -> str:
    """The state column of the status table's row for `store`."""
    match = re.search(
        rf"^[│|]?\s*{re.escape(store)}\s+[│|]\s*([^│|]*?)\s*[│|]", stdout, re.MULTILINE
    )
    assert match, stdout
    return match.group(1)


@pytest.mark.parametrize("command", ["serve", "demo", "migrate", "seed", "status"])
async def test_a_malformed_url_is_one_line_naming_the_variable(
    tmp_path: Path, command: str
) -> None:
    # when
    finished = await run_flowgate(tmp_path, command, FLOWGATE_DATABASE_URL="not-a-url")

    # then
    assert_one_line_error(finished, "FLOWGATE_DATABASE_URL")


async def test_status_shows_a_closed_mongodb_as_down(tmp_path: Path, settings: Settings) -> None:
    # given
    assert settings.database_url is not None

    # when
    finished = await run_flowgate(
        tmp_path,
        "status",
        FLOWGATE_DATABASE_URL=settings.database_url,
        FLOWGATE_MONGODB_URL=CLOSED_MONGODB_URL,
    )

    # then
    assert finished.code == 1, finished
    assert "Traceback" not in finished.stderr
    assert status_row(finished.stdout, "mongodb") == "down"
    assert status_row(finished.stdout, "postgresql") == "up"


async def test_status_of_healthy_stores_exits_zero(tmp_path: Path, settings: Settings) -> None:
    # given
    assert settings.database_url is not None
    assert settings.mongodb_url is not None
    redis = {"FLOWGATE_REDIS_URL": settings.redis_url} if settings.redis_url else {}

    # when
    finished = await run_flowgate(
        tmp_path,
        "status",
        FLOWGATE_DATABASE_URL=settings.database_url,
        FLOWGATE_MONGODB_URL=settings.mongodb_url,
        FLOWGATE_MONGODB_DATABASE=settings.mongodb_database,
        # The session's embedded MongoDB is one Python process that the other test worker
        # may keep busy for over 2 s (CI saw "down"): healthy means answering within 10 s.
        FLOWGATE_STORE_TIMEOUT="10",
        **redis,
    )

    # then
    assert finished.code == 0, finished.stdout
    assert status_row(finished.stdout, "postgresql") == "up"
    assert status_row(finished.stdout, "postgresql schema") == "current"
    assert status_row(finished.stdout, "mongodb") == "up"
    assert status_row(finished.stdout, "redis") == ("up" if redis else "not configured")


async def test_migrate_goes_to_head_and_back_to_base(
    tmp_path: Path, test_stores: TestStores
) -> None:
    # given
    database_url = await test_stores.create_database("cli_migrate")
    head = migrate.head_revision(Settings(database_url=database_url, _env_file=None))  # type: ignore[call-arg]
    urls = {"FLOWGATE_DATABASE_URL": database_url, "FLOWGATE_MONGODB_URL": test_stores.mongodb_url}

    # when
    up = await run_flowgate(tmp_path, "migrate", **urls)
    down = await run_flowgate(tmp_path, "migrate", "--downgrade", "--revision", "base", **urls)

    # then
    assert up.code == 0, up
    assert f"revision {head}" in up.stdout
    assert down.code == 0, down
    assert "revision base" in down.stdout


@pytest.mark.parametrize(
    ("command", "variable", "env"),
    [
        ("serve", "FLOWGATE_MONGODB_URL", {"FLOWGATE_MONGODB_URL": CLOSED_MONGODB_URL}),
        ("serve", "FLOWGATE_DATABASE_URL", {"FLOWGATE_DATABASE_URL": CLOSED_DATABASE_URL}),
        ("migrate", "FLOWGATE_DATABASE_URL", {"FLOWGATE_DATABASE_URL": CLOSED_DATABASE_URL}),
    ],
)
async def test_an_unreachable_store_is_one_line_naming_the_variable(
    tmp_path: Path, settings: Settings, command: str, variable: str, env: dict[str, str]
) -> None:
    # given: the other store is the session's, which is up
    assert settings.database_url is not None
    assert settings.mongodb_url is not None
    urls = {
        "FLOWGATE_DATABASE_URL": settings.database_url,
        "FLOWGATE_MONGODB_URL": settings.mongodb_url,
        "FLOWGATE_MONGODB_DATABASE": settings.mongodb_database,
        "FLOWGATE_PORT": str(free_port()),
    }

    # when
    finished = await run_flowgate(tmp_path, command, **{**urls, **env})

    # then
    assert_one_line_error(finished, variable)


async def test_status_of_an_unmigrated_database_says_behind(
    test_stores: TestStores, settings: Settings
) -> None:
    # given: the session's stores, but a database no migration has touched
    database_url = await test_stores.create_database("status_behind")

    # when
    report = await collect_status(settings.model_copy(update={"database_url": database_url}))

    # then
    states = {store: state for store, state, _ in report.rows}
    assert states["postgresql"] == "up"
    assert states["postgresql schema"] == "behind"
    assert states["mongodb"] == "up"
    assert not report.healthy


async def test_status_probes_a_configured_elasticsearch(settings: Settings) -> None:
    # given: Elasticsearch configured at an address where nothing listens, and not at all
    unreachable = settings.model_copy(
        update={"elasticsearch_url": f"http://127.0.0.1:{free_port()}", "store_timeout": 2.0}
    )

    # when
    down = {store: (state, details) for store, state, details in
            (await collect_status(unreachable)).rows}  # fmt: skip
    without = settings.model_copy(update={"elasticsearch_url": None})
    unset = {store: state for store, state, _ in (await collect_status(without)).rows}

    # then: probed (down, with the reason) and unhealthy; unset, it is not a store to check
    assert down["elasticsearch"][0] == "down"
    assert "cannot reach the cluster" in down["elasticsearch"][1]
    assert down["postgresql"][0] == "up"
    assert unset["elasticsearch"] == "not configured"


@pytest.mark.skipif(
    not os.environ.get("FLOWGATE_ELASTICSEARCH_URL"),
    reason="FLOWGATE_ELASTICSEARCH_URL is not set: no Elasticsearch to test against",
)
async def test_status_of_a_reachable_elasticsearch_is_up_or_empty(settings: Settings) -> None:
    configured = settings.model_copy(
        update={"elasticsearch_url": os.environ["FLOWGATE_ELASTICSEARCH_URL"]}
    )
    states = {store: state for store, state, _ in (await collect_status(configured)).rows}
    assert states["elasticsearch"] in {"up", "empty"}

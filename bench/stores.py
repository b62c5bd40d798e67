"""The benchmark's own stores: a dedicated database, seeded once with `--size large`.

By default embedded PostgreSQL and SecantusDB keep their data in `bench/.cache/stores`, so a
second run finds the seeded data (about 95 s to seed) and only starts the servers. With
`FLOWGATE_DATABASE_URL` / `FLOWGATE_MONGODB_URL` set, the harness creates a database of its
own on those servers (`flowgate_bench`) and never touches the one the URL names."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import psutil
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"
BENCH_DATABASE = "flowgate_bench"
ADMIN_EMAIL = "admin@acme.example"
# A member of the same organization: reads only the workflows shared with them (and public
# ones), so every query reading executions first asks MongoDB which those are.
MEMBER_EMAIL = "user@acme.example"
ADMIN_PASSWORD = "flowgate-demo"  # noqa: S105 - every seeded user's, published in the README
LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    __typename ... on LoginPayload { accessToken }
  }
}"""


@dataclass
class Stores:
    database_url: str  # postgresql://... as libpq, asyncpg and node-postgres read it
    mongodb_url: str
    mongodb_database: str
    described: str
    secantus_pid: int | None

    def env(self, **settings: str) -> dict[str, str]:
        """The environment of a gateway (or a `flowgate` command) on these stores."""
        env = {
            **os.environ,
            "FLOWGATE_DATABASE_URL": self.database_url,
            "FLOWGATE_MONGODB_URL": self.mongodb_url,
            "FLOWGATE_MONGODB_DATABASE": self.mongodb_database,
            "PYTHONPATH": str(ROOT),
        }
        env.update({f"FLOWGATE_{name.upper()}": value for name, value in settings.items()})
        return env

    async def postgres_pid(self) -> int | None:
        """The postmaster: the parent of a backend we connect to (if it runs on this machine)."""
        connection = await asyncpg.connect(self.database_url)
        try:
            backend = await connection.fetchval("SELECT pg_backend_pid()")
            # While connected: a closed connection's backend may be gone already.
            with contextlib.suppress(psutil.Error):
                parent = psutil.Process(backend).parent()
                return parent.pid if parent is not None else None
            return None
        finally:
            await connection.close()


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _dedicated_database(url: str) -> str:
    """`flowgate_bench` on the server `url` names, created when missing."""
    parsed = make_url(url).set(drivername="postgresql")
    connection = await asyncpg.connect(parsed.render_as_string(hide_password=False))
    try:
        exists = await connection.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", BENCH_DATABASE
        )
        if not exists:
            await connection.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    finally:
        await connection.close()
    return parsed.set(database=BENCH_DATABASE).render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def bench_stores(data_dir: Path) -> AsyncIterator[Stores]:
    """The stores named by the environment (a dedicated database on them), or embedded ones
    in `data_dir`, running for as long as the context lasts."""
    from flowgate.settings import load_settings
    from flowgate.stores.embedded import embedded_stores

    settings = load_settings(data_dir=data_dir)
    external = []
    if settings.database_url is not None:
        settings = settings.model_copy(
            update={"database_url": await _dedicated_database(settings.database_url)}
        )
        external.append("PostgreSQL from FLOWGATE_DATABASE_URL (database flowgate_bench)")
    if settings.mongodb_url is not None:
        external.append("MongoDB from FLOWGATE_MONGODB_URL (database flowgate_bench)")
    mongodb_database = BENCH_DATABASE if settings.mongodb_url else settings.mongodb_database
    async with embedded_stores(settings) as resolved:
        assert resolved.database_url is not None
        assert resolved.mongodb_url is not None
        embedded = [
            name
            for name, url in (
                ("PostgreSQL", settings.database_url),
                ("SecantusDB", settings.mongodb_url),
            )
            if url is None
        ]
        described = "; ".join(
            external + ([f"embedded {' + '.join(embedded)} in {data_dir}"] if embedded else [])
        )
        yield Stores(
            database_url=_libpq_url(resolved.database_url),
            mongodb_url=resolved.mongodb_url,
            mongodb_database=mongodb_database,
            described=described,
            secantus_pid=_secantus_pid(resolved.mongodb_url)
            if settings.mongodb_url is None
            else None,
        )


def _secantus_pid(url: str) -> int | None:
    port = make_url(url.replace("mongodb://", "postgresql://", 1)).port
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "secantus" in cmdline and str(port) in cmdline:
            pid: int = process.pid
            return pid
    return None


def flowgate(*args: str) -> list[str]:
    return [sys.executable, "-m", "flowgate.cli", *args]


async def seed(stores: Stores, *, reset: bool) -> str:
    """`flowgate seed --size large` (migrating first), then the search index built; data
    already there is kept as it is unless `reset`."""
    command = flowgate("seed", "--size", "large", *(["--reset"] if reset else []))
    done = await asyncio.to_thread(
        subprocess.run, command, env=stores.env(), cwd=ROOT, capture_output=True, text=True
    )
    output = done.stdout + done.stderr
    if done.returncode == 0:
        seeded = " ".join(output.split())[-200:]
    elif "already hold" in output:
        await _run(stores, "migrate")  # migrations may have moved on since the data was seeded
        seeded = "reused the data already seeded"
    else:
        raise SystemExit(f"flowgate seed failed:\n{output[-3000:]}")
    return seeded + await _indexed(stores)


async def _indexed(stores: Stores) -> str:
    """The search index caught up with the data (`flowgate reindex`), unless it already is.

    A seed queues every object for the search indexer, which drains the queue in the
    gateway's own process: a target measured while it did (tens of thousands of executions,
    a few hundred per pass) was charged the indexing's CPU, in its process and in
    PostgreSQL's (about a tenth of `{ __typename }`'s), and the numbers moved with how far
    the backlog had got. A deployment reaches that steady state too; the benchmark measures
    it."""
    connection = await asyncpg.connect(stores.database_url)
    try:
        pending = await connection.fetchval("SELECT count(*) FROM search_outbox")
    finally:
        await connection.close()
    if not pending:
        return ""
    await _run(stores, "reindex")
    return f"; search index rebuilt ({pending:,} objects were queued)"


async def _run(stores: Stores, *args: str) -> None:
    await asyncio.to_thread(
        subprocess.run, flowgate(*args), env=stores.env(), cwd=ROOT, check=True, capture_output=True
    )


def api_key(stores: Stores, email: str = ADMIN_EMAIL) -> str | None:
    """A bearer credential of `email`'s from `flowgate api-key create`, or None while that
    command does not exist yet (requests then go without an Authorization header)."""
    done = subprocess.run(
        flowgate("api-key", "create", "--email", email, "--name", "bench"),
        env=stores.env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    secret = done.stdout.strip().splitlines()[-1].strip() if done.stdout.strip() else ""
    if done.returncode != 0 or not secret or " " in secret:
        return None
    return secret


def login(url: str) -> str | None:
    """An access token from the `login` mutation of a running gateway (the seeded admin)."""
    import httpx

    variables = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    try:
        answer = httpx.post(url, json={"query": LOGIN, "variables": variables}, timeout=30).json()
        token: str = answer["data"]["login"]["accessToken"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None
    return token

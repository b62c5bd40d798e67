"""Session-wide stores and per-test isolation.

One PostgreSQL server and one MongoDB-wire server serve the session (real ones when
`FLOWGATE_DATABASE_URL` / `FLOWGATE_MONGODB_URL` are set, embedded otherwise). The seeded demo
data is written once, into its own database, and is read-only for tests; a test that writes
gets a fresh organization of its own (every read is scoped by organization, so it sees only
what it wrote) that is deleted from both stores when the test ends."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import structlog
from fastapi import FastAPI
from pymongo.errors import PyMongoError

from flowgate import migrate
from flowgate.app import create_app
from flowgate.logs import console_renderer
from flowgate.seed import SeedSummary, seed
from flowgate.services import Services
from flowgate.settings import Settings
from flowgate.stores.mongo import long_operations
from tests.auth import ADMIN, api_key_for, bearer
from tests.scratch import Scratch
from tests.stores import TestStores

# Fixtures of a domain, shared by its test modules, live beside its helpers.
pytest_plugins = ("tests.conversations", "tests.notifications", "tests.compiled")


def _own_redis_database() -> None:
    """Under pytest-xdist each worker takes its own database of the shared Redis (1, 2, ...;
    a plain run keeps the URL's): rate-limit counters and the event bus's channel (named after
    the database, `flowgate.bus.redis.channel_for`) are then private to the worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", ...
    url = os.environ.get("FLOWGATE_REDIS_URL")
    if worker is None or not url:
        return
    database = int(worker.removeprefix("gw")) + 1
    os.environ["FLOWGATE_REDIS_URL"] = urlsplit(url)._replace(path=f"/{database}").geturl()


_own_redis_database()


def _plain_tracebacks() -> None:
    """structlog's default console renderer draws each logged exception with rich, every
    frame's locals included: seconds for each masked error. A change that made many requests
    fail kept both workers inside rich for more than ten minutes, and the suite looked hung.
    The tests log as `flowgate serve` does in development instead."""
    processors = [*structlog.get_config()["processors"]]
    processors[-1] = console_renderer()  # the default chain ends with its renderer
    structlog.configure(processors=processors)


_plain_tracebacks()


@pytest.fixture(scope="session")
def test_stores() -> Iterator[TestStores]:
    with tempfile.TemporaryDirectory(prefix="flowgate-test-") as tmp:
        stores = TestStores.start(Path(tmp))
        try:
            yield stores
        finally:
            stores.stop()


@pytest.fixture(scope="session")
async def settings(test_stores: TestStores) -> AsyncIterator[Settings]:
    """Settings for the session's migrated (and, via `seeded`, seeded) databases."""
    database_url = await test_stores.create_database("main")
    settings = Settings(
        database_url=database_url,
        mongodb_url=test_stores.mongodb_url,
        mongodb_database=f"flowgate_test_{os.getpid()}",
        redis_url=os.environ.get("FLOWGATE_REDIS_URL"),
        debug_round_trips=True,
        store_timeout=5.0,
        # Tests deliver the outbox themselves (or test the relay on its own): a relay pass at
        # a random moment would race the consistency tests' "before" and "after".
        relay_interval=3600,
        # Likewise the timeout sweeper: tests sweep themselves (tests/test_execution_settings.py
        # runs the background loop on apps of its own).
        timeout_sweep_interval=3600,
        # The suite sends thousands of requests a minute from one address and one admin; the
        # limits are tested on apps of their own (tests/test_rate_limit.py).
        rate_limit_per_address=0,
        rate_limit_per_principal=0,
        login_attempts_per_address=0,
        # Likewise the search indexer: tests drain the search outbox themselves.
        search_indexer_interval=3600,
        # And the webhook deliverer: tests run its passes themselves (tests/test_webhooks.py).
        webhook_interval=3600,
        # Its receiver listens on 127.0.0.1 (tests/test_webhook_targets.py turns this off).
        webhook_allow_private=True,
        _env_file=None,  # type: ignore[call-arg]
    )
    await migrate.upgrade(settings)
    try:
        yield settings
    finally:
        await test_stores.drop_databases()


@pytest.fixture(scope="session")
async def services(settings: Settings) -> AsyncIterator[Services]:
    services = await Services.open(settings)
    try:
        yield services
    finally:
        await _drop_database(services, settings.mongodb_database)
        await services.close()


async def _drop_database(services: Services, name: str, attempts: int = 3) -> None:
    """The session's MongoDB database dropped. In a session where a test killed and restarted
    a SecantusDB of its own (tests/test_store_faults.py) and another served the demo
    (tests/test_processes.py), the first drop was cancelled by the client itself ('operation
    cancelled': its connection pool was reset under it), failing the session's teardown
    whenever xdist put both on one worker; a second attempt succeeds."""
    for attempt in range(attempts):
        try:
            with long_operations():
                await services.mongo.client.drop_database(name)
            return
        except PyMongoError:
            if attempt == attempts - 1:
                raise


@pytest.fixture(scope="session")
async def seeded(services: Services) -> SeedSummary:
    """The small demo data set (seed 42), written once per session. Read-only for tests:
    `tests/test_seed.py` reseeds it, and puts back exactly the same data."""
    return await seed(services, size="small", seed=42, reset=True)


@pytest.fixture(scope="session")
async def app(settings: Settings, services: Services) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def admin_key(seeded: SeedSummary, services: Services) -> str:
    """An API key of the first organization's admin (`admin@acme.example`): the credential
    that `client` sends."""
    secret, _ = await api_key_for(services, ADMIN, "tests")
    return secret


@pytest.fixture
def admin_payload(admin_key: str) -> dict[str, str]:
    """The `connection_init` payload that signs a websocket (`tests.ws.connect`) in as the
    admin of `admin_key`."""
    return bearer(admin_key)


@pytest.fixture
async def client(app: FastAPI, admin_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app, signed in as the first organization's admin."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://flowgate.test", headers=bearer(admin_key)
    ) as http:
        yield http


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app that sends no credential."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://flowgate.test") as http:
        yield http


@pytest.fixture
async def scratch(
    services: Services, app: FastAPI, client: httpx.AsyncClient, seeded: SeedSummary
) -> AsyncIterator[Scratch]:
    """What a test writes, named with a prefix of its own and hard-deleted when it ends
    (`tests.scratch`). Modules that need more (workflows, an index) define their own."""
    async with Scratch.open(services, app, client) as made:
        yield made


@pytest.fixture(scope="session")
async def live_server(app: FastAPI, admin_key: str) -> AsyncIterator[str]:
    """The session's app on a real port, for websocket clients; its base URL (no scheme).
    `tests.ws.connect` signs in with the payload it is given (`admin_payload`)."""
    from tests.serving import serving

    async with serving(app) as port:
        yield f"127.0.0.1:{port}"

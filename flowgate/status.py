"""`flowgate status`: is each store reachable, how fast, is the schema at head, how much data.

Every check is a real round trip with a deadline. A store that cannot be reached becomes a row
saying "down" with the driver's one-line error, so one dead store never hides the others."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from redis.asyncio import Redis
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

import models.sql
from flowgate import migrate
from flowgate.search.base import SearchUnavailableError
from flowgate.search.elastic import ElasticsearchIndex
from flowgate.settings import Settings
from flowgate.stores.embedded import embedded_stores
from flowgate.stores.mongo import Mongo
from flowgate.stores.postgres import Postgres, describe
from models.documents import ALL_DOCUMENTS

Row = tuple[str, str, str]

# States that make `flowgate status` exit 1: the gateway cannot work correctly on them.
UNHEALTHY_STATES = frozenset({"down", "behind", "unknown"})


@dataclass
class StatusReport:
    rows: list[Row] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return all(state not in UNHEALTHY_STATES for _, state, _ in self.rows)


async def collect_status(settings: Settings) -> StatusReport:
    """Check every store (embedded ones started for the occasion where no URL is set)."""
    async with embedded_stores(settings) as resolved:
        checks: list[tuple[str, Callable[[Settings], Awaitable[list[Row]]]]] = [
            ("postgresql", _postgres_rows),
            ("mongodb", _mongo_rows),
            ("redis", _redis_rows),
        ]
        if resolved.elasticsearch_url is not None:
            checks.append(("elasticsearch", _elasticsearch_rows))
        results = await asyncio.gather(*(_guarded(name, check, resolved) for name, check in checks))
    rows = [row for rows in results for row in rows]
    if resolved.elasticsearch_url is None:
        rows.append(("elasticsearch", "not configured", "search uses PostgreSQL full-text search"))
    return StatusReport(rows)


async def _guarded(
    name: str, check: Callable[[Settings], Awaitable[list[Row]]], settings: Settings
) -> list[Row]:
    # A second deadline on top of the drivers' own, so that a store that accepts the
    # connection and then hangs still turns into a row.
    try:
        async with asyncio.timeout(settings.store_timeout * 2):
            return await check(settings)
    except Exception as error:  # any driver or network failure means "down"
        return [(name, "down", describe(error))]


async def _postgres_rows(settings: Settings) -> list[Row]:
    postgres = Postgres(settings)
    try:
        latency = await postgres.ping()
        async with postgres.engine.connect() as connection:
            existing = set(
                (
                    await connection.execute(
                        text(
                            "SELECT table_name FROM information_schema.tables "
                            "WHERE table_schema = current_schema()"
                        )
                    )
                ).scalars()
            )
            tables = [t for t in models.sql.Base.metadata.sorted_tables if t.name in existing]
            counts: dict[str, int] = {}
            if tables:
                # One round trip for every count.
                query = select(
                    *(
                        select(func.count()).select_from(t).scalar_subquery().label(t.name)
                        for t in tables
                    )
                )
                counts = dict((await connection.execute(query)).one()._mapping)
    finally:
        await postgres.close()
    current = await migrate.current_revision(settings)
    head = migrate.head_revision(settings)
    return [
        ("postgresql", "up", f"{latency:.1f} ms, {_postgres_location(settings)}"),
        _schema_row(settings, current, head),
        ("postgresql rows", "", _describe_counts(counts) or "no tables"),
    ]


def _postgres_location(settings: Settings) -> str:
    url = make_url(settings.database_url or "")
    host = url.host or str(url.query.get("host", "local socket"))
    port = f":{url.port}" if url.port else ""
    return f"database {url.database} on {host}{port}"


def _schema_row(settings: Settings, current: str | None, head: str | None) -> Row:
    if current == head:
        return ("postgresql schema", "current", f"at revision {current} (head)")
    if current is None:
        return (
            "postgresql schema",
            "behind",
            f"not migrated, head is {head}: run `flowgate migrate`",
        )
    scripts = ScriptDirectory.from_config(migrate.alembic_config(settings))
    try:
        scripts.get_revision(current)
    except CommandError:
        # Migrated by newer code (or by another app): these models may not match it.
        return ("postgresql schema", "unknown", f"at {current}, which this code does not know")
    return ("postgresql schema", "behind", f"at {current}, head is {head}: run `flowgate migrate`")


async def _mongo_rows(settings: Settings) -> list[Row]:
    mongo = Mongo(settings)
    try:
        latency = await mongo.ping()
        counts: dict[str, int] = {}
        for document in ALL_DOCUMENTS:
            name = document.Settings.name
            counts[name] = await mongo.database[name].count_documents({})
    finally:
        await mongo.close()
    return [
        ("mongodb", "up", f"{latency:.1f} ms, database {settings.mongodb_database}"),
        ("mongodb documents", "", _describe_counts(counts)),
    ]


async def _redis_rows(settings: Settings) -> list[Row]:
    if settings.redis_url is None:
        return [("redis", "not configured", "events use the in-process bus")]
    client = Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.store_timeout,
        socket_connect_timeout=settings.store_timeout,
    )
    try:
        started = time.perf_counter()
        await client.ping()
        latency = (time.perf_counter() - started) * 1000
    finally:
        await client.aclose()
    return [("redis", "up", f"{latency:.1f} ms")]


async def _elasticsearch_rows(settings: Settings) -> list[Row]:
    """The index the gateway searches (its alias): reachable, how fast, how many documents.
    An alias not created yet is "empty": the first indexer pass creates it."""
    index = ElasticsearchIndex(
        settings.elasticsearch_url or "", settings.search_index_name, timeout=settings.store_timeout
    )
    try:
        started = time.perf_counter()
        if not await index.exists():
            latency = time.perf_counter() - started
            return [("elasticsearch", "empty", f"{latency * 1000:.1f} ms, no index yet")]
        documents = await index.count()
        latency = time.perf_counter() - started
    except SearchUnavailableError as error:
        return [("elasticsearch", "down", error.reason)]
    finally:
        await index.close()
    return [("elasticsearch", "up", f"{latency * 1000:.1f} ms, {documents} documents")]


def _describe_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items())

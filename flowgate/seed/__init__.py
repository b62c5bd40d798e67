"""Realistic, deterministic demo data for both stores.

`generate()` builds every row and document from a seed number without touching a store;
`seed()` writes them: PostgreSQL first (one transaction), then MongoDB. The same seed gives
the same ids, names and counts; timestamps are relative to midnight UTC of the current day.
Every demo user's password is `flowgate-demo`."""

from __future__ import annotations

import asyncio
import time

from argon2 import PasswordHasher
from rich.console import Console
from sqlalchemy import exists, select

from flowgate.search.outbox import mark_all_stale
from flowgate.seed.conversations import write_conversations
from flowgate.seed.dataset import SIZES, SeedData, generate
from flowgate.seed.progress import SeedProgress
from flowgate.seed.summary import SeedError, SeedSummary
from flowgate.seed.writer import describe_existing_data, write_mongo, write_postgres
from flowgate.services import Services
from flowgate.stores.mongo import long_operations
from models.sql import Organization

__all__ = [
    "DEMO_PASSWORD",
    "SeedData",
    "SeedError",
    "SeedSummary",
    "generate",
    "seed",
    "seed_if_empty",
]

DEMO_PASSWORD = "flowgate-demo"  # noqa: S105 - the published password of the demo accounts


async def seed(
    services: Services,
    *,
    size: str = "small",
    seed: int = 42,
    reset: bool = False,
    console: Console | None = None,
) -> SeedSummary:
    """Fill both stores. Without `reset`, refuse (SeedError) when either already holds data;
    with it, empty every table and collection first."""
    started = time.perf_counter()
    if size not in SIZES:
        raise SeedError(f"unknown size {size!r}; expected one of: {', '.join(SIZES)}")
    if not reset:
        existing = await describe_existing_data(services)
        if existing:
            raise SeedError(
                f"the stores already hold data ({existing}); "
                "use `flowgate seed --reset` to delete it and seed again"
            )
    progress = SeedProgress(console)
    # Index builds may outlast a gateway client's per-operation bound (Beanie's documents
    # use the process's last-opened client).
    with progress.running(), long_operations():
        phase = progress.phase("Generating", 1)
        data = await asyncio.to_thread(_generate, size, seed)
        phase.advance()
        await write_postgres(services, data, progress, reset=reset)
        await write_mongo(services, data, progress, reset=reset)
        conversations = await write_conversations(services, seed)
        # Searchable once a gateway's indexer (or `flowgate reindex`) has caught up.
        await mark_all_stale(services)
    return SeedSummary(
        organizations=len(data.organizations),
        users=len(data.users),
        agents=len(data.agents),
        flowcharts=len(data.flowcharts),
        workflows=len(data.workflows),
        executions=len(data.executions),
        traces=len(data.executions),
        events=data.event_count(),
        seconds=time.perf_counter() - started,
        size=size,
        seed=seed,
        workflow_versions=len(data.workflow_versions),
        conversations=conversations,
    )


async def seed_if_empty(
    services: Services, *, console: Console | None = None
) -> SeedSummary | None:
    """Seed the small data set when there is no organization yet (`flowgate demo`)."""
    async with services.postgres.engine.connect() as connection:
        has_organization = await connection.scalar(select(exists().select_from(Organization)))
    if has_organization:
        if console is not None:
            console.print("Demo data already present: not seeding.")
        return None
    summary = await seed(services, size="small", console=console)
    if console is not None:
        console.print(summary.describe())
    return summary


def _generate(size: str, seed_number: int) -> SeedData:
    # Hashed once for every user: argon2 is slow on purpose.
    password_hash = PasswordHasher().hash(DEMO_PASSWORD)
    return generate(size=size, seed=seed_number, password_hash=password_hash)

"""The PostgreSQL pool keeps its connections (`Settings.database_pool_size`): a burst of
concurrent requests never opens more than the pool holds, and the next burst opens none.

With 10 connections and 10 of overflow, every burst over 10 opened overflow connections and
closed them again as they came back: PostgreSQL started a process for each (several ms of
its CPU), one every ~10 requests of the benchmark's 16 concurrent ones (issue 16)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event

from flowgate.settings import Settings
from flowgate.stores.postgres import Postgres

POOL = 3
CONCURRENT = 8


async def test_bursts_over_the_pool_size_wait_and_open_nothing_new(settings: Settings) -> None:
    # given: a pool of 3 and every connection it opens, counted as PostgreSQL sees it
    postgres = Postgres(settings.model_copy(update={"database_pool_size": POOL}), bounded=True)
    opened: list[Any] = []
    event.listen(postgres.engine.sync_engine, "connect", lambda dbapi, record: opened.append(1))
    try:

        async def burst() -> set[int]:
            # Each statement holds its connection a while: the 8 overlap.
            pids = await asyncio.gather(
                *(
                    postgres.fetch_value("SELECT pg_backend_pid() FROM pg_sleep(0.05)", ())
                    for _ in range(CONCURRENT)
                )
            )
            return set(pids)

        # when: two bursts of 8 concurrent statements
        first = await burst()
        opened_by_first = len(opened)
        second = await burst()

        # then: the first waited for the pool's 3 rather than opening more; the second ran on
        # the same 3 backends and opened none
        assert opened_by_first == POOL
        assert len(first) == POOL
        assert len(opened) == POOL
        assert second == first
    finally:
        await postgres.close()


@pytest.mark.parametrize("wrong", [0, 1001])
def test_the_pool_size_is_bounded(wrong: int) -> None:
    # a pool of no connection cannot answer; the error names the field
    with pytest.raises(ValueError, match="database_pool_size"):
        Settings(database_pool_size=wrong, _env_file=None)  # type: ignore[call-arg]

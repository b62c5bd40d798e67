"""A request's reads take turns on one autocommit connection (`flowgate.stores.reads`), which
goes back to the pool as soon as none of them is running or waiting."""

from __future__ import annotations

import asyncio
import contextvars

import pytest
from sqlalchemy import text

from flowgate.services import Services
from flowgate.stores.reads import RequestReads, current_reads


async def _backend(services: Services) -> int:
    async with services.postgres.read_session() as session:
        pid: int = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        await asyncio.sleep(0.01)  # overlap with the other reads
        return pid


async def _in_a_request(services: Services, reads: int) -> tuple[set[int], int]:
    services.postgres.start_request_reads()
    # as loader batches do: tasks that copy the request's context
    pids = await asyncio.gather(*(_backend(services) for _ in range(reads)))
    return set(pids), services.postgres.engine.pool.checkedout()  # type: ignore[attr-defined]


async def test_concurrent_reads_of_a_request_share_one_connection(services: Services) -> None:
    # when: four concurrent reads within one request's context
    pids, checked_out = await asyncio.create_task(
        _in_a_request(services, 4), context=contextvars.Context()
    )

    # then: one backend served them all, and it is back in the pool
    assert len(pids) == 1
    assert checked_out == 0


async def test_reads_outside_a_request_take_connections_of_their_own(services: Services) -> None:
    async def outside() -> set[int]:
        assert current_reads.get() is None
        return set(await asyncio.gather(*(_backend(services) for _ in range(3))))

    # when
    pids = await asyncio.create_task(outside(), context=contextvars.Context())

    # then: each read had a connection to itself while they overlapped
    assert len(pids) == 3


async def test_a_read_waiting_on_its_own_request_fails_within_the_timeout(
    services: Services,
) -> None:
    # given: a lease with a short bound on the wait for a turn
    reads = RequestReads(services.postgres.read_engine, timeout=0.2)

    # when: a read holds the session and waits for another read of the same request
    async def nested() -> None:
        async with reads.session(), reads.session():
            pass

    # then: a timeout (answered as STORE_UNAVAILABLE), not a hang
    with pytest.raises(TimeoutError):
        await nested()
    assert services.postgres.engine.pool.checkedout() == 0  # type: ignore[attr-defined]

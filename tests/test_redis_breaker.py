"""A paused Redis under the rate limits and the persisted queries: the first call that finds
it failing waits its bounded timeout, the calls after it take the in-process fallback at
once (the limits still hold, per replica), and the counts go back to Redis once it answers.
On a private `redis-server` paused with SIGSTOP, never the shared one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi import FastAPI

from flowgate.auth.rate_limit import RateLimited, RateLimiter, RedisCounter
from flowgate.stores.redis import CALL_TIMEOUT, redis_client
from schema.extensions.persisted import RedisQueryStore
from tests.redis_server import RedisServer
from tests.test_fanout import _private_redis, needs_redis_server
from tests.test_protection import TYPENAME, variant

pytestmark = needs_redis_server

COOLDOWN = 0.5  # seconds; short, so the test sees the breaker close again


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with _private_redis(tmp_path) as running:
        yield running


def _stored_counts(server: RedisServer) -> dict[str, int]:
    client = redis.Redis(port=server.port)
    try:
        return {key.decode(): int(client.get(key)) for key in client.keys("flowgate:ratelimit:*")}
    finally:
        client.close()


async def _timed(call: Any) -> float:
    began = time.monotonic()
    await call
    return time.monotonic() - began


async def test_a_paused_redis_costs_one_timeout_and_the_limits_still_hold(
    server: RedisServer,
) -> None:
    # given: 3 requests per window per address, counted in Redis, which then stops answering
    counter = RedisCounter(server.url)
    counter.breaker.cooldown = COOLDOWN
    limiter = RateLimiter(counter, per_principal=0, per_address=3, window=60)
    try:
        await limiter.check("address", "10.0.0.1")
        assert list(_stored_counts(server).values()) == [1]
        server.pause()
        try:
            # when: the same address asks three more times while Redis is paused
            first = await _timed(limiter.check("address", "10.0.0.1"))
            rest = await _timed(limiter.check("address", "10.0.0.1"))
            refused = limiter.check("address", "10.0.0.1")

            # then: the first call waited the bound, the second did not wait at all, and
            # the fourth request of the window is refused from the replica's own count
            # (it counted from 1 again: Redis's count is out of reach)
            assert CALL_TIMEOUT * 0.9 < first < CALL_TIMEOUT * 3
            assert rest < CALL_TIMEOUT / 4
            await refused  # 1, 2 in memory: still allowed
            with pytest.raises(RateLimited):
                await limiter.check("address", "10.0.0.1")
            assert counter.breaker.open
        finally:
            server.resume()

        # and when Redis answers again, after the cooldown the count goes back to it
        await asyncio.sleep(COOLDOWN * 1.5)
        await limiter.check("address", "10.0.0.2")
        assert not counter.breaker.open
        counts = _stored_counts(server)
        assert [counts[key] for key in counts if ":10.0.0.2:" in key] == [1]
        # the call that timed out may still have landed once Redis resumed; the ones
        # counted in memory never reach it
        assert [counts[key] for key in counts if ":10.0.0.1:" in key] in ([1], [2])
    finally:
        await limiter.close()


async def test_persisted_queries_are_kept_in_the_process_while_redis_is_paused(
    server: RedisServer,
) -> None:
    # given: two replicas on one Redis; the first registered a query, the second has read
    # another once
    one = RedisQueryStore(server.url, fallback_size=10)
    two = RedisQueryStore(server.url, fallback_size=10)
    two.breaker.cooldown = COOLDOWN
    try:
        await one.put("stored-before", "{ a }")
        await one.put("read-before", "{ c }")
        assert await two.get("read-before") == "{ c }"
        server.pause()
        try:
            # when: the second registers a hash and reads hashes while Redis is paused
            await two.put("registered-during", "{ b }")
            during = await two.get("registered-during")
            read = await two.get("read-before")
            before = await two.get("stored-before")
        finally:
            server.resume()
        await asyncio.sleep(COOLDOWN * 1.5)
        after = await two.get("stored-before")
    finally:
        await one.close()
        await two.close()

    # then: nothing failed; the replica answered from its own memory what it had seen (a
    # hash names its text, which never changes), the hash only Redis held was out of reach
    # (the client is asked for the query, as after an eviction), and Redis serves again once
    # it answers
    assert (during, read, before, after) == ("{ b }", "{ c }", None, "{ a }")


async def test_a_persisted_query_seen_once_is_read_without_redis(server: RedisServer) -> None:
    # given: a replica that registered one query and read another
    store, other, new = (RedisQueryStore(server.url, fallback_size=10) for _ in range(3))
    redis = redis_client(server.url)
    try:
        await store.put("registered", "{ a }")
        await other.put("read", "{ b }")
        assert await store.get("read") == "{ b }"
        # when: Redis forgets both (an eviction, a flush)
        await redis.flushdb()
        # then: this replica answers both from memory, without Redis; a replica that had
        # not seen them asks Redis, which has forgotten them
        assert (await store.get("registered"), await store.get("read")) == ("{ a }", "{ b }")
        assert await new.get("read") is None
    finally:
        for each in (store, other, new):
            await each.close()
        await redis.aclose()


async def test_requests_through_a_paused_redis_wait_at_most_one_timeout(
    app: FastAPI, server: RedisServer, seeded: object
) -> None:
    # given: a gateway whose rate limits and persisted queries are kept in that Redis
    async with variant(app, redis_url=server.url, rate_limit_per_address=600) as client:
        assert (await client.post("/graphql", json={"query": TYPENAME})).status_code == 200
        server.pause()
        try:
            # when: ten requests (two rate-limit counts each) while it is paused
            began = time.monotonic()
            responses = [await client.post("/graphql", json={"query": TYPENAME}) for _ in range(10)]
            took = time.monotonic() - began
        finally:
            server.resume()

    # then: every request was answered, and all ten together waited about one call's
    # timeout (the first count), not twenty
    assert {response.status_code for response in responses} == {200}
    assert took < CALL_TIMEOUT * 3, f"{took:.1f}s"

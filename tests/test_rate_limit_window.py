"""The sliding window of the rate limits, on both counters (in-process and Redis), with an
injected clock: bursts across a window boundary, counts ageing out, `Retry-After`, and the
fallback to memory when Redis cannot be reached."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis

from flowgate.auth.rate_limit import Counter, MemoryCounter, RateLimited, RateLimiter, RedisCounter
from flowgate.stores.embedded import free_port
from tests.test_rate_limit import redis_url  # noqa: F401  # a fixture: Redis for this module too

WINDOW = 60.0
LIMIT = 10
# The start of some fixed window (a multiple of WINDOW), far from the real time, so a key of
# this module never meets the key of a real request.
START = 1_000_000 * WINDOW


class Clock:
    """Time stands still until a test moves it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture(params=["memory", "redis"])
async def counter(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[Counter]:
    made: Counter
    if request.param == "memory":
        made = MemoryCounter(clock)
    else:
        made = RedisCounter(request.getfixturevalue("redis_url"), clock)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
def limiter(counter: Counter) -> RateLimiter:
    return RateLimiter(counter, per_principal=LIMIT, per_address=LIMIT, window=WINDOW)


@pytest.fixture
def address() -> str:
    """A fresh identity: Redis keeps counts across tests."""
    return f"test-{uuid.uuid4().hex}"


async def served(limiter: RateLimiter, address: str, tries: int) -> int:
    """How many of `tries` requests at once were let through."""
    count = 0
    for _ in range(tries):
        try:
            await limiter.check("address", address)
        except RateLimited:
            continue
        count += 1
    return count


async def retry_after(limiter: RateLimiter, address: str) -> int:
    with pytest.raises(RateLimited) as refused:
        await limiter.check("address", address)
    return refused.value.retry_after


async def served_only_after(
    limiter: RateLimiter, clock: Clock, address: str, wait: int
) -> tuple[int, int]:
    """How many of one request are served a second before `wait` has passed, then at it."""
    clock.now += wait - 1
    early = await served(limiter, address, 1)
    clock.now += 1
    return early, await served(limiter, address, 1)


async def test_a_burst_across_a_window_boundary_is_held_to_the_limit(
    limiter: RateLimiter, clock: Clock, address: str
) -> None:
    # given: the limit spent in the last second of a window
    clock.now = START + 59
    assert await served(limiter, address, LIMIT + 5) == LIMIT

    # when: a second burst two seconds later, in the next fixed window
    clock.now = START + 61
    after_the_boundary = await served(limiter, address, LIMIT)

    # then: refused (a fixed window served the limit again: twice it in two seconds)
    assert after_the_boundary == 0


async def test_counts_age_out_gradually(limiter: RateLimiter, clock: Clock, address: str) -> None:
    # when: the limit spent at the end of a window, and bursts later on, each as large as it may be
    bursts = []
    for now in (START + 59, START + 66, START + 90, START + 119):
        clock.now = now
        bursts.append(await served(limiter, address, 2 * LIMIT))
    clock.now = START + 180  # the end of the full window, and a whole window more
    bursts.append(await served(limiter, address, 2 * LIMIT))

    # then: a tenth of the next window gone frees one request (10 x 0.9 = 9 still count),
    # half of it five in all, its last second four more (the previous window weighs 1/6 by
    # then, this one 5); two windows on, the whole limit
    assert bursts == [LIMIT, 1, 4, 4, LIMIT]


async def test_retry_after_says_when_the_next_request_fits_in_the_next_window(
    limiter: RateLimiter, clock: Clock, address: str
) -> None:
    # given: the limit spent a second before the end of a window
    clock.now = START + 59
    assert await served(limiter, address, LIMIT) == LIMIT

    # when
    wait = await retry_after(limiter, address)

    # then: 1 s to the boundary, then a tenth of the next window (10 x 0.9 + 1 fits)
    assert wait == 7
    assert await served_only_after(limiter, clock, address, wait) == (0, 1)


async def test_retry_after_says_when_the_next_request_fits_in_this_window(
    limiter: RateLimiter, clock: Clock, address: str
) -> None:
    # given: the limit spent in one window, and half the next one gone, with 5 more served
    clock.now = START + 30
    assert await served(limiter, address, LIMIT) == LIMIT
    clock.now = START + 90
    assert await served(limiter, address, LIMIT) == 5

    # when: one more (refused, and asked again and again: refusals are not counted)
    waits = [await retry_after(limiter, address) for _ in range(3)]

    # then: once the previous window weighs 4 (0.6 of it gone), 6 s on
    assert waits == [6, 6, 6]
    assert await served_only_after(limiter, clock, address, 6) == (0, 1)


async def test_retry_after_is_at_least_a_second(
    limiter: RateLimiter, clock: Clock, address: str
) -> None:
    # given: the limit spent at the start of a window; a request just before a tenth of the
    # next one is gone (6 ms before the estimate falls to 9 + 1)
    clock.now = START
    assert await served(limiter, address, LIMIT) == LIMIT
    clock.now = START + 66 - 0.006

    # when / then
    assert await retry_after(limiter, address) == 1


async def test_a_limit_of_zero_is_off(counter: Counter, clock: Clock, address: str) -> None:
    # given
    limiter = RateLimiter(counter, per_principal=0, per_address=0, window=WINDOW)

    # when / then: never refused, however many
    assert await served(limiter, address, 100) == 100


async def test_redis_keeps_two_windows_and_not_the_refused(
    redis_url: str,  # noqa: F811  # the fixture imported above
    clock: Clock,
    address: str,
) -> None:
    # given
    limiter = RateLimiter(RedisCounter(redis_url, clock), 0, LIMIT, WINDOW)
    client = redis.Redis.from_url(redis_url)
    try:
        # when: three more than the limit
        clock.now = START + 10
        assert await served(limiter, address, LIMIT + 3) == LIMIT
        [key] = client.keys(f"flowgate:ratelimit:address:{address}:*")
        ttl = client.ttl(key)
        stored = client.get(key)
    finally:
        client.close()
        await limiter.close()

    # then: the served ones counted, kept until the next window has ended (real seconds)
    assert stored == str(LIMIT).encode()
    assert 2 * WINDOW - 5 < ttl <= 2 * WINDOW + 1


async def test_an_unreachable_redis_still_limits_with_a_sliding_window(
    clock: Clock, address: str
) -> None:
    # given: a counter whose Redis refuses connections
    counter = RedisCounter(f"redis://127.0.0.1:{free_port()}/0", clock)
    limiter = RateLimiter(counter, 0, LIMIT, WINDOW)
    try:
        # when: the limit spent at a window's end, then a burst just after it
        clock.now = START + 59
        before = await served(limiter, address, LIMIT + 5)
        clock.now = START + 61
        after = await served(limiter, address, LIMIT)
        wait = await retry_after(limiter, address)
    finally:
        await limiter.close()

    # then: counted in memory, by the same rule
    assert (before, after, wait) == (LIMIT, 0, 5)
    assert counter.breaker.open


async def test_the_memory_counter_keeps_two_windows_of_keys(clock: Clock) -> None:
    # given: a hundred addresses in one window, one in the next
    counter = MemoryCounter(clock)
    for n in range(100):
        await counter.hit(f"address:{n}", WINDOW)
    clock.now += WINDOW
    await counter.hit("address:late", WINDOW)
    assert counter.held == 101

    # when: a hit two windows after the first
    clock.now += WINDOW
    hits = await counter.hit("address:0", WINDOW)

    # then: the first window is forgotten
    assert (hits.current, hits.previous) == (1, 0)
    assert counter.held == 2

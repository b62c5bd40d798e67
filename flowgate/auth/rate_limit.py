"""Rate limits per principal and per client address: requests in a sliding window.

Each hit is counted in its fixed window and checked against the sliding-window estimate of
`flowgate.auth.sliding_window` (this window's count plus the previous one's, weighted), so a
burst across a window boundary is held to the limit too. A refused request is given back:
the limit bounds the requests served, so a client that keeps asking too fast still gets its
limit's worth, and `Retry-After` stays true however often it asks meanwhile.

Counted in Redis when one is configured (one pipelined round trip per hit: INCR + EXPIRE of
this window's key, GET of the previous window's; shared by every gateway replica), else in
this process. A client over its limit gets HTTP 429 with a GraphQL error (code RATE_LIMITED)
and a `Retry-After` header (`flowgate.protection.refusals`). If Redis cannot be reached,
each replica counts in its own memory until Redis answers again
(`flowgate.stores.redis.Breaker`): an outage of the counter must become neither an outage of
the gateway nor a pause in every request, and the limits still hold per replica."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from flowgate.auth.sliding_window import Hits, Position
from flowgate.metrics import RATE_LIMITED
from flowgate.settings import Settings
from flowgate.stores.redis import Breaker, redis_client

Clock = Callable[[], float]


class Counter(Protocol):
    async def hit(self, key: str, window: float) -> Hits:
        """Count one request under `key`; the counts of this window and the previous one."""
        ...

    async def give_back(self, key: str, window: float, hits: Hits) -> None:
        """Uncount the request of `hits` (it was refused)."""
        ...

    async def close(self) -> None: ...


class MemoryCounter:
    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._index: int | None = None
        # Only this window's counts and the previous one's are kept: the dicts hold the keys
        # of two windows at most.
        self._current: dict[str, int] = {}
        self._previous: dict[str, int] = {}

    @property
    def held(self) -> int:
        """Keys counted now, in this window and the previous one together."""
        return len(self._current) + len(self._previous)

    async def hit(self, key: str, window: float) -> Hits:
        position = Position.at(self._clock(), window)
        if self._index is not None and position.index < self._index:
            # The clock stepped back: count on in the newest window rather than drop it.
            position = Position(self._index, 0.0)
        elif position.index != self._index:
            follows = self._index is not None and position.index == self._index + 1
            self._previous = self._current if follows else {}
            self._current = {}
            self._index = position.index
        count = self._current[key] = self._current.get(key, 0) + 1
        return Hits(position, count, self._previous.get(key, 0))

    async def give_back(self, key: str, window: float, hits: Hits) -> None:
        if self._index is None:
            return
        counts = {self._index: self._current, self._index - 1: self._previous}
        held = counts.get(hits.position.index, {})
        if held.get(key, 0) > 0:  # gone already when the hit was counted elsewhere (Redis)
            held[key] -= 1

    async def close(self) -> None:
        self._current.clear()
        self._previous.clear()


class RedisCounter:
    def __init__(self, url: str, clock: Clock = time.time) -> None:
        self._redis = redis_client(url)  # bounded: a paused Redis must not hold requests
        self._clock = clock
        self._fallback = MemoryCounter(clock)
        self.breaker = Breaker("rate limits")

    async def hit(self, key: str, window: float) -> Hits:
        return await self.breaker.call(
            lambda: self._hit(key, window), lambda: self._fallback.hit(key, window)
        )

    async def give_back(self, key: str, window: float, hits: Hits) -> None:
        await self.breaker.call(
            lambda: self._give_back(key, window, hits),
            lambda: self._fallback.give_back(key, window, hits),
        )

    async def _hit(self, key: str, window: float) -> Hits:
        position = Position.at(self._clock(), window)
        name = _key(key, position.index)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.incr(name)
            pipe.expire(name, _ttl(window))
            pipe.get(_key(key, position.index - 1))
            count, _, previous = await pipe.execute()
        return Hits(position, int(count), int(previous or 0))

    async def _give_back(self, key: str, window: float, hits: Hits) -> None:
        name = _key(key, hits.position.index)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.decr(name)
            # Bounded even if the hit was counted in memory and this key did not exist.
            pipe.expire(name, _ttl(window))
            await pipe.execute()

    async def close(self) -> None:
        await self._redis.aclose()
        await self._fallback.close()


def _key(key: str, index: int) -> str:
    return f"flowgate:ratelimit:{key}:{index}"


def _ttl(window: float) -> int:
    # A window's count is read until the end of the window after it.
    return math.ceil(2 * window) + 1


@dataclass
class RateLimited(Exception):  # noqa: N818  # an answer to the client, not a failure of ours
    scope: str
    limit: int
    window: float
    retry_after: int

    def describe(self) -> str:
        return (
            f"Rate limit exceeded: {self.limit} requests per {self.window:g} s per "
            f"{self.scope}; retry in {self.retry_after} s"
        )


@dataclass
class RateLimiter:
    counter: Counter
    per_principal: int
    per_address: int
    window: float

    async def check(self, scope: str, identity: str, limit: int | None = None) -> None:
        """Raise `RateLimited` when `identity` (an address, a principal, ...) is over its
        limit: `limit`, or the setting of its scope."""
        if limit is None:
            limit = self.per_principal if scope == "principal" else self.per_address
        if limit <= 0:
            return
        key = f"{scope}:{identity}"
        hits = await self.counter.hit(key, self.window)
        if hits.over(limit):
            await self.counter.give_back(key, self.window, hits)
            RATE_LIMITED.labels(scope=scope).inc()
            raise RateLimited(scope, limit, self.window, hits.retry_after(limit, self.window))

    async def close(self) -> None:
        await self.counter.close()


def create_rate_limiter(settings: Settings) -> RateLimiter:
    counter: Counter = RedisCounter(settings.redis_url) if settings.redis_url else MemoryCounter()
    return RateLimiter(
        counter,
        per_principal=settings.rate_limit_per_principal,
        per_address=settings.rate_limit_per_address,
        window=settings.rate_limit_window,
    )

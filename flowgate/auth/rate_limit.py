"""Rate limits per principal and per client address: a fixed window of requests.

Counted in Redis when one is configured (one INCR + EXPIRE round trip per key, shared by every
gateway replica), else in this process. A client over its limit gets HTTP 429 with a GraphQL
error (code RATE_LIMITED) and a `Retry-After` header (`flowgate.protection.refusals`). If
Redis cannot be reached, each replica counts in its own memory until Redis answers again
(`flowgate.stores.redis.Breaker`): an outage of the counter must become neither an outage of
the gateway nor a pause in every request, and the limits still hold per replica."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol

from flowgate.metrics import RATE_LIMITED
from flowgate.settings import Settings
from flowgate.stores.redis import Breaker, redis_client


class Counter(Protocol):
    async def hit(self, key: str, window: float) -> int:
        """Count one request under `key` in the current window; the count so far."""
        ...

    async def close(self) -> None: ...


class MemoryCounter:
    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._window_index: int | None = None

    async def hit(self, key: str, window: float) -> int:
        index = int(time.time() // window)
        if index != self._window_index:
            # A new window: the old counts can go, which keeps the dict small.
            self._counts.clear()
            self._window_index = index
        self._counts[key] = self._counts.get(key, 0) + 1
        return self._counts[key]

    async def close(self) -> None:
        self._counts.clear()


class RedisCounter:
    def __init__(self, url: str) -> None:
        self._redis = redis_client(url)  # bounded: a paused Redis must not hold requests
        self._fallback = MemoryCounter()
        self.breaker = Breaker("rate limits")

    async def hit(self, key: str, window: float) -> int:
        return await self.breaker.call(
            lambda: self._hit(key, window), lambda: self._fallback.hit(key, window)
        )

    async def _hit(self, key: str, window: float) -> int:
        index = int(time.time() // window)
        name = f"flowgate:ratelimit:{key}:{index}"
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.incr(name)
            pipe.expire(name, math.ceil(window) + 1)
            count, _ = await pipe.execute()
        return int(count)

    async def close(self) -> None:
        await self._redis.aclose()
        await self._fallback.close()


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
        count = await self.counter.hit(f"{scope}:{identity}", self.window)
        if count > limit:
            RATE_LIMITED.labels(scope=scope).inc()
            remaining = self.window - time.time() % self.window
            raise RateLimited(scope, limit, self.window, max(1, math.ceil(remaining)))

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

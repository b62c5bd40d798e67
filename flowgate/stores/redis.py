"""Redis clients whose every call is bounded, and a breaker that stops paying the bound on
every request while Redis is failing.

A Redis that is paused (not down: it accepts connections and never answers) must cost a
request a short wait, not the operating system's TCP timeout; and once one call has found
it failing, the calls after it must not each wait that short time again: requests call
Redis several times (the rate limits of the address and of the principal, persisted
queries), so a bounded wait per call still adds up to seconds per request."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)

# Seconds a connect or one call may take; the callers treat a timeout as Redis unavailable.
CALL_TIMEOUT = 1.0
# Seconds a breaker skips Redis after a failed call before one call tries it again.
BREAKER_COOLDOWN = 5.0

T = TypeVar("T")


def redis_client(url: str, *, timeout: float | None = CALL_TIMEOUT) -> Redis:
    """A client for `url`; `timeout=None` only for a connection that blocks on purpose (a
    pub/sub listener). No retries inside redis-py: callers decide what a failure means."""
    return Redis.from_url(
        url,
        socket_connect_timeout=CALL_TIMEOUT,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


class Breaker:
    """Runs calls to Redis, or their in-process fallback while Redis is failing.

    Closed, every call goes to Redis. A failed call (an error or a timeout) opens it: for
    `cooldown` seconds every call takes the fallback at once. Then the next call tries Redis
    again (the others keep taking the fallback meanwhile); its success closes the breaker,
    its failure opens it for another cooldown. So a failing Redis costs one request one
    `CALL_TIMEOUT` per cooldown instead of every request a timeout per call."""

    def __init__(self, name: str, cooldown: float = BREAKER_COOLDOWN) -> None:
        self.name = name
        self.cooldown = cooldown
        self._open_until = 0.0
        self._failing = False

    @property
    def open(self) -> bool:
        return time.monotonic() < self._open_until

    async def call(
        self, primary: Callable[[], Awaitable[T]], fallback: Callable[[], Awaitable[T]]
    ) -> T:
        if self.open:
            return await fallback()
        if self._failing:
            # This call is the trial: the calls that come while it waits skip Redis.
            self._open_until = time.monotonic() + self.cooldown
        try:
            result = await primary()
        except (RedisError, OSError) as error:  # a timeout is an OSError
            if not self._failing:
                log.warning("redis_unavailable", use=self.name, error=str(error) or "timed out")
            self._failing = True
            self._open_until = time.monotonic() + self.cooldown
            return await fallback()
        if self._failing:
            log.info("redis_available_again", use=self.name)
            self._failing, self._open_until = False, 0.0
        return result

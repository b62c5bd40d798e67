"""Redis clients whose every call is bounded: a Redis that is paused (not down: it accepts
connections and never answers) must cost a request a short wait, not the operating
system's TCP timeout."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

# Seconds a connect or one call may take; the callers treat a timeout as Redis unavailable.
CALL_TIMEOUT = 1.0


def redis_client(url: str, *, timeout: float | None = CALL_TIMEOUT) -> Redis:
    """A client for `url`; `timeout=None` only for a connection that blocks on purpose (a
    pub/sub listener). No retries inside redis-py: callers decide what a failure means."""
    return Redis.from_url(
        url,
        socket_connect_timeout=CALL_TIMEOUT,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )

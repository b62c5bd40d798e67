"""Counts the round trips each GraphQL request makes to each store.

The counter lives in a context variable, so every task a request spawns (dataloader batches
included: asyncio copies the context into new tasks) adds to the request's own counter, and
concurrent requests never see each other's counts.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pymongo import monitoring
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass
class RoundTrips:
    sql: int = 0
    mongo: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"sql": self.sql, "mongo": self.mongo}


current_round_trips: ContextVar[RoundTrips | None] = ContextVar("round_trips", default=None)


def start_counting() -> RoundTrips:
    """Give the current context (a request) a fresh counter and return it."""
    counter = RoundTrips()
    current_round_trips.set(counter)
    return counter


def count_sql() -> None:
    """One SQL statement sent: the engine's (below) or one sent to the driver directly
    (`Postgres.fetch_value`)."""
    counter = current_round_trips.get()
    if counter is not None:
        counter.sql += 1


def instrument_engine(engine: AsyncEngine) -> None:
    """Count every statement the engine sends; `executemany` counts once, as it is one trip."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(*_: Any) -> None:
        count_sql()


class MongoCommandCounter(monitoring.CommandListener):
    """Counts MongoDB commands (find, aggregate, getMore, ...) against the current request.

    pymongo's async client calls `started` in the task that issued the command, so the
    context variable is the request's own."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        counter = current_round_trips.get()
        if counter is not None:
            counter.mongo += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None

"""Running a compiled statement: one round trip on a pooled connection without a transaction
(a read of one statement needs no BEGIN/ROLLBACK), through the engine so that round-trip
counting, tracing and the JSON decoder apply as to every other statement."""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine

_autocommit: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()


def autocommit(engine: AsyncEngine) -> AsyncEngine:
    """The engine's autocommit twin (same pool), made once."""
    twin = _autocommit.get(engine)
    if twin is None:
        twin = _autocommit[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return twin


async def fetch_json(engine: AsyncEngine, statement: Select[Any]) -> Any:
    """The one value the statement returns, decoded from JSON (None for SQL NULL)."""
    async with autocommit(engine).connect() as connection:
        return (await connection.execute(statement)).scalar_one()

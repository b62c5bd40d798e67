"""Running a compiled statement: one round trip on a pooled connection without a transaction
(`Postgres.read_engine`: no BEGIN/ROLLBACK), through the engine so that round-trip counting,
tracing and the JSON decoder apply as to every other statement."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine


async def fetch_json(
    engine: AsyncEngine, statement: Select[Any], values: dict[str, Any] | None = None
) -> Any:
    """The one value the statement returns, decoded from JSON (None for SQL NULL)."""
    async with engine.connect() as connection:
        return (await connection.execute(statement, values or {})).scalar_one()

"""Running a compiled statement: one round trip on a pooled connection without a transaction
(`Postgres.read_engine`: no BEGIN/ROLLBACK), through the engine so that round-trip counting,
tracing, timeouts and the JSON decoder apply as to every other statement.

A compiled statement is large (a correlated subquery per nested list) and is run again and
again (`schema.compiled.executor` keeps it per operation and variables): SQLAlchemy would
walk its whole tree on every run to find it in its compiled cache (about a tenth of the CPU
of a one-agent query, more for larger ones; issue 16). So each statement is compiled once,
here, to its SQL text and parameter order, and run as that text through
`exec_driver_sql`: the engine's events (round trips, spans) and the driver's prepared
statement cache still see every run. A statement the text cannot express (parameters
expanded at run time) runs as the statement, as before."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.compiler import SQLCompiler

from resolvers.compiled.cache import BoundedCache

COMPILED_SIZE = 1024


@dataclass(frozen=True)
class _Text:
    """A statement compiled once: its SQL, and how to make its positional parameters."""

    sql: str
    names: tuple[str, ...]
    processors: Mapping[str, Callable[[Any], Any]]
    compiled: SQLCompiler

    def parameters(self, values: dict[str, Any]) -> tuple[Any, ...]:
        bound = self.compiled.construct_params(values)
        processors = self.processors
        return tuple(
            processors[name](bound[name]) if name in processors else bound[name]
            for name in self.names
        )


# id(statement) -> (the statement, its text or None when it has none); the statement is held
# so that its id cannot be reused by another while the entry lives.
_texts: BoundedCache[tuple[Select[Any], _Text | None]] = BoundedCache(COMPILED_SIZE)


async def fetch_json(
    engine: AsyncEngine, statement: Select[Any], values: dict[str, Any] | None = None
) -> Any:
    """The one value the statement returns, decoded from JSON (None for SQL NULL)."""
    text = _text(statement, engine.dialect)
    async with engine.connect() as connection:
        if text is None:
            return (await connection.execute(statement, values or {})).scalar_one()
        parameters = text.parameters(values or {})
        return (await connection.exec_driver_sql(text.sql, parameters)).scalar_one()


def _text(statement: Select[Any], dialect: Dialect) -> _Text | None:
    entry = _texts.get(id(statement))
    if entry is not None and entry[0] is statement:
        return entry[1]
    compiled = statement.compile(dialect=dialect)
    text = None
    if isinstance(compiled, SQLCompiler) and _plain(compiled) and compiled.positiontup:
        processors = {
            name: processor
            for name, processor in compiled._bind_processors.items()
            if callable(processor)
        }
        text = _Text(compiled.string, tuple(compiled.positiontup), processors, compiled)
    _texts.put(id(statement), (statement, text))
    return text


def _plain(compiled: SQLCompiler) -> bool:
    """Whether the text is final: no parameter expanded into it at run time (`IN` lists,
    literals), none renamed (the processors are keyed by the names as written)."""
    return not (
        compiled.post_compile_params
        or compiled.literal_execute_params
        or compiled.escaped_bind_names
        or "POSTCOMPILE" in compiled.string
    )

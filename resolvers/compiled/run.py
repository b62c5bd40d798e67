"""Running a compiled statement: one round trip on a pooled connection without a transaction,
counted, traced and bounded in time as every other statement.

A compiled statement is large (a correlated subquery per nested list) and is run again and
again (`schema.compiled.executor` keeps it per operation and variables): SQLAlchemy would
walk its whole tree on every run to find it in its compiled cache (about a tenth of the CPU
of a one-agent query, more for larger ones; issue 16). So each statement is compiled once,
here, to its SQL text and parameter order, and that text goes to the driver
(`Postgres.fetch_value`: the engine's pool, round-trip count, span and timeout, without
SQLAlchemy's connection and result around it). A statement the text cannot express
(parameters expanded at run time) runs through the engine, as a statement.

A compiled statement carries its page sizes (`sql.number`) and its organization
(`organization_inlined`) as literals: a statement is kept per operation, variables and
organization (`schema.compiled.executor`), so they never vary between its runs. As
parameters they made PostgreSQL plan every run again: it keeps a generic plan for a prepared
statement only when its estimate is near the custom plans', and with `LIMIT $n` (estimated
at a tenth of the rows) and the organization unknown it never was (Q2: 304 custom plans,
no generic one). Planning was a third of PostgreSQL's CPU on 10 agents x 10 executions
(issue 16). A statement with no parameter left is planned once per connection."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson
from sqlalchemy import BindParameter, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.cache_key import CacheKey
from sqlalchemy.sql.compiler import SQLCompiler

from flowgate.stores.postgres import Postgres
from resolvers.compiled.cache import BoundedCache

COMPILED_SIZE = 1024


@dataclass(frozen=True)
class _Text:
    """A statement compiled once: its SQL, and how to make its positional parameters."""

    sql: str
    names: tuple[str, ...]
    processors: Mapping[str, Callable[[Any], Any]]
    compiled: SQLCompiler
    # The values of a statement of the same structure that this text serves too (its cache
    # key's parameters, in the compiled statement's order); None: the compiled statement's.
    extracted: Sequence[BindParameter[Any]] | None = None

    @property
    def as_text(self) -> str:
        """The statement with its one JSON value as text (not decoded by the driver)."""
        return f"SELECT ({self.sql})::text"

    def parameters(self, values: dict[str, Any]) -> tuple[Any, ...]:
        bound = self.compiled.construct_params(values, extracted_parameters=self.extracted)
        processors = self.processors
        return tuple(
            processors[name](bound[name]) if name in processors else bound[name]
            for name in self.names
        )


# id(statement) -> (the statement, its text or None when it has none); the statement is held
# so that its id cannot be reused by another while the entry lives.
_texts: BoundedCache[tuple[Select[Any], _Text | None]] = BoundedCache(COMPILED_SIZE)
# A statement's structure (its cache key without its parameters' values) and organization ->
# the text compiled for the first such statement, and which of its parameters held the
# organization (written in as a literal; see `_shared_text`).
_by_structure: BoundedCache[tuple[_Text, tuple[int, ...]]] = BoundedCache(COMPILED_SIZE)


async def fetch_json(
    postgres: Postgres,
    statement: Select[Any],
    values: dict[str, Any] | None = None,
    *,
    encoded: bool = False,
) -> Any:
    """The one value the statement returns (None for SQL NULL), decoded from JSON; with
    `encoded`, the JSON text PostgreSQL built as an `orjson.Fragment`, which orjson writes
    into the answer as it is: an answer only ever written out as JSON is not decoded into
    Python objects to be encoded again (most of the gateway's CPU on a 100-agent page)."""
    if not encoded:
        text = _text(statement, postgres.engine.dialect)
        if text is None:
            return await _through_engine(postgres, statement, values)
        return await postgres.fetch_value(text.sql, text.parameters(values or {}))
    json_text = await fetch_json_text(postgres, statement, values)
    return None if json_text is None else orjson.Fragment(json_text)


async def fetch_json_text(
    postgres: Postgres, statement: Select[Any], values: dict[str, Any] | None = None
) -> str | None:
    """The JSON text of the one value the statement returns (None for SQL NULL), as
    PostgreSQL wrote it (a statement the text cannot express: as orjson writes it)."""
    text = _text(statement, postgres.engine.dialect)
    if text is None:
        value = await _through_engine(postgres, statement, values)
        return None if value is None else orjson.dumps(value).decode()
    json_text: str | None = await postgres.fetch_value(text.as_text, text.parameters(values or {}))
    return json_text


async def _through_engine(
    postgres: Postgres, statement: Select[Any], values: dict[str, Any] | None
) -> Any:
    async with postgres.read_engine.connect() as connection:
        return (await connection.execute(statement, values or {})).scalar_one()


def _text(statement: Select[Any], dialect: Dialect) -> _Text | None:
    entry = _texts.get(id(statement))
    if entry is not None and entry[0] is statement:
        return entry[1]
    text = _shared_text(statement, dialect)
    _texts.put(id(statement), (statement, text))
    return text


def _shared_text(statement: Select[Any], dialect: Dialect) -> _Text | None:
    """The statement's text: that of an earlier statement of the same structure if there is
    one, else compiled now.

    A statement kept by the executor is built again for every value of what it does not take
    as a run-time parameter (a filter's value, a nested page's cursor): the same tree with
    other values in its parameters. Compiling it again was a third of the CPU of such a
    request, and its new text a new statement for PostgreSQL to prepare and plan; SQLAlchemy's
    cache key tells the structure apart from the values, as its own compiled cache does. A
    parameter holding the organization is written in as a literal: the text serves another
    statement only where the same parameters hold it (a client's value that happened to
    equal it would otherwise be read as written in)."""
    key = statement._generate_cache_key()
    if key is None:  # an element that cannot say its structure: compiled for itself
        return _compiled_text(statement, dialect, None)
    organization = statement._execution_options.get(_ORGANIZATION)
    inlined = _holding(key.bindparams, organization)
    structure = (key.key, None if organization is None else organization.int)
    shared = _by_structure.get(structure)
    if shared is not None and shared[1] == inlined:
        return replace(shared[0], extracted=key.bindparams)
    text = _compiled_text(statement, dialect, key)
    if text is not None:
        _by_structure.put(structure, (text, inlined))
    return text


def _compiled_text(statement: Select[Any], dialect: Dialect, key: CacheKey | None) -> _Text | None:
    compiled = _compiler(dialect.statement_compiler)(dialect, statement, cache_key=key)
    if not (_plain(compiled) and compiled.positiontup is not None):
        return None
    processors = {
        name: processor
        for name, processor in compiled._bind_processors.items()
        if callable(processor)
    }
    return _Text(compiled.string, tuple(compiled.positiontup), processors, compiled)


def _holding(parameters: Sequence[BindParameter[Any]], organization: Any) -> tuple[int, ...]:
    """The positions of the parameters the organization is written in for."""
    if organization is None:
        return ()
    return tuple(
        i for i, parameter in enumerate(parameters) if _is_organization(parameter, organization)
    )


def _is_organization(parameter: BindParameter[Any], organization: uuid.UUID) -> bool:
    return (
        not (parameter.required or parameter.expanding or parameter.callable)
        and isinstance(parameter.value, uuid.UUID)  # asyncpg's own subclass too
        and parameter.value.int == organization.int
    )


# The execution option naming the organization a statement writes in as a literal.
_ORGANIZATION = "flowgate_organization"


def organization_inlined(statement: Select[Any], organization_id: uuid.UUID) -> Select[Any]:
    """`statement`, compiled with the organization's id written as a literal wherever it is
    a parameter (the tenancy terms of every table it reads): the one id every run of a
    statement kept per organization binds (`schema.compiled.executor`). Any other value
    stays a parameter: ids and text from a client vary between requests, and a new text
    would be a new statement to prepare.

    Written in as the statement compiles (`_InlineOrganization`), not by copying the
    statement with literals in place of those parameters: a copy walks and clones the whole
    tree, a quarter of the CPU of building a statement (issue 16: every new cursor of a
    nested page, every new filter value). The statement is the same as ever; only its
    options name the organization, so run through the engine it binds it as a parameter."""
    return statement.execution_options(**{_ORGANIZATION: organization_id})


class _InlineOrganization(SQLCompiler):
    """A statement compiler that writes the organization named by the statement's options
    (`organization_inlined`) as a literal in place of each parameter holding it."""

    def visit_bindparam(self, bindparam: BindParameter[Any], *args: Any, **kw: Any) -> Any:
        organization = self.execution_options.get(_ORGANIZATION)
        if organization is not None and _is_organization(bindparam, organization):
            return f"'{uuid.UUID(int=organization.int)}'::UUID"
        return super().visit_bindparam(bindparam, *args, **kw)  # type: ignore[no-untyped-call]


_compilers: dict[object, type[SQLCompiler]] = {}


def _compiler(statement_compiler: type[SQLCompiler]) -> type[SQLCompiler]:
    """The dialect's statement compiler, writing the organization in."""
    compiler = _compilers.get(statement_compiler)
    if compiler is None:
        name = f"Inlining{statement_compiler.__name__}"
        compiler = _compilers[statement_compiler] = type(
            name, (_InlineOrganization, statement_compiler), {}
        )
    return compiler


def _plain(compiled: SQLCompiler) -> bool:
    """Whether the text is final: no parameter expanded into it at run time (`IN` lists,
    literals), none renamed (the processors are keyed by the names as written)."""
    return not (
        compiled.post_compile_params
        or compiled.literal_execute_params
        or compiled.escaped_bind_names
        or "POSTCOMPILE" in compiled.string
    )

"""SQL expressions that render a value in PostgreSQL exactly as the resolver path serializes
it in Python, so that the compiled answer parses into the same JSON values.

- global ids: `base64url("Type:<uuid>")` without padding (`resolvers.ids.to_global_id`);
- DateTime: `datetime.isoformat()` of an aware UTC value (microseconds only when non-zero);
- Float: a JSON number that parses as a float (`1234.0`, never `1234`);
- enums: the GraphQL name of the stored value;
- cursors: `resolvers.pagination.encode_cursor` of the sort value and the id.

Constant text is inlined as SQL literals (GraphQL names and our own formats only, never user
input): a bind parameter in `json_build_object` has no type PostgreSQL could infer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    case,
    cast,
    func,
    literal_column,
    null,
)
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION, JSON

Expression = ColumnElement[Any]


def lit(value: str) -> Expression:
    """A SQL string literal of trusted text (a GraphQL name, a format)."""
    return literal_column("'" + value.replace("'", "''") + "'", Text)


def number(value: int) -> Expression:
    """An integer of our own (a page size, bounded by `max_page_size`) written into the
    statement's text: PostgreSQL then plans with it (`LIMIT $n` it estimates at a tenth of
    the rows) and plans once (`resolvers.compiled.run`). Bounded, so the texts it makes are
    few; never a value a client sends unbounded."""
    text = str(int(value))
    return literal_column(text if value >= 0 else f"({text})", Integer)


def json_object(pairs: list[tuple[str, Expression]]) -> Expression:
    """`json_build_object` of (key, value) pairs, keys in the order given (`json` keeps it)."""
    arguments: list[Expression] = []
    for key, value in pairs:
        arguments += [lit(key), value]
    return func.json_build_object(*arguments, type_=JSON)


def empty_array() -> Expression:
    return literal_column("'[]'::json", JSON)


def base64url(text: Expression) -> Expression:
    # PostgreSQL's base64 breaks lines every 76 characters; Python's urlsafe form has none.
    encoded = func.encode(func.convert_to(text, lit("UTF8")), lit("base64"))
    unwrapped = func.replace(encoded, literal_column("E'\\n'"), lit(""))
    return func.rtrim(func.translate(unwrapped, lit("+/"), lit("-_")), lit("="))


# PostgreSQL's base64 breaks lines after this many bytes of input (76 characters out).
_BASE64_LINE_BYTES = 57
_UUID_TEXT_BYTES = 36


def global_id(type_name: str, id_column: Expression) -> Expression:
    """`base64url` of `Type:<uuid>`, whose length is known here: no line to unwrap under
    57 bytes, and the padding's length fixed (cut, not trimmed). A fifth of PostgreSQL's
    time on a page of 10 agents x 10 executions went to the ids (issue 16)."""
    prefix = f"{type_name}:"
    size = len(prefix.encode()) + _UUID_TEXT_BYTES
    if size > _BASE64_LINE_BYTES:
        return base64url(lit(prefix).op("||")(cast(id_column, Text)))
    # ASCII without a backslash: the text's bytes as they are (no conversion looked up).
    data = cast(lit(prefix).op("||")(cast(id_column, Text)), LargeBinary)
    encoded = func.translate(func.encode(data, lit("base64")), lit("+/"), lit("-_"))
    padding = -size % 3
    return func.left(encoded, number(-padding)) if padding else encoded


def iso_datetime(column: Expression) -> Expression:
    """`isoformat()` of a timestamptz read as UTC; NULL stays NULL. Microseconds are
    written always, then taken out when they are all zero (`isoformat` leaves them out
    then): one `to_char` instead of two and a comparison."""
    utc = func.timezone(lit("UTC"), column)
    written = func.to_char(utc, lit('YYYY-MM-DD"T"HH24:MI:SS.US+00:00'))
    return func.replace(written, lit(".000000+"), lit("+"))


def float_text(column: Expression) -> Expression:
    """The float's shortest text, with `.0` on integral values (as Python's `repr`)."""
    text = cast(cast(column, DOUBLE_PRECISION), Text)
    integral = text.op("~")(lit("^-?[0-9]+$"))
    return text.op("||")(case((integral, lit(".0")), else_=lit("")))


def float_json(column: Expression, *, nullable: bool) -> Expression:
    rendered = cast(float_text(column), JSON)
    return case((column.is_(None), null()), else_=rendered) if nullable else rendered


def enum_name(column: Expression, names_by_value: Mapping[str, str]) -> Expression:
    return case(*((column == lit(value), lit(name)) for value, name in names_by_value.items()))


def cursor(sort_value: Expression, id_column: Expression) -> Expression:
    """`encode_cursor(value, id)`: base64url of the JSON array `[value, "id"]` as orjson
    writes it (no spaces)."""
    return base64url(
        lit("[")
        .op("||")(json_value_text(sort_value))
        .op("||")(lit(',"'))
        .op("||")(cast(id_column, Text))
        .op("||")(lit('"]'))
    )


def json_value_text(value: Expression) -> Expression:
    """The JSON text of a sort value as `encode_cursor` writes it."""
    kind = value.type
    if isinstance(kind, DateTime):
        return lit('"').op("||")(iso_datetime(value)).op("||")(lit('"'))
    if isinstance(kind, String):
        return cast(func.to_json(value), Text)
    if isinstance(kind, Integer):
        return cast(value, Text)
    if isinstance(kind, Numeric):
        return _orjson_float_text(value)
    raise TypeError(f"no cursor rendering for a sort key of type {kind!r}")


def _orjson_float_text(value: Expression) -> Expression:
    """A NUMERIC value as orjson writes `float(value)`: plain decimals from 1e-5 on (with
    `.0` when integral), an exponent without leading zeros below (`9e-6`). The decimal is
    the NUMERIC's own text, trimmed: exact for the 14 significant digits our NUMERIC columns
    hold, which a float's shortest form keeps."""
    trimmed = func.rtrim(func.rtrim(cast(value, Text), lit("0")), lit("."))
    decimal = trimmed.op("||")(case((trimmed.op("~")(lit("\\.")), lit("")), else_=lit(".0")))
    exponent = func.regexp_replace(float_text(value), lit("e([-+])0*"), lit("e\\1"))
    return case(
        (value == 0, lit("0.0")),
        (func.abs(value) < literal_column("0.00001"), exponent),
        else_=decimal,
    )

"""Where a compiled statement's answer leaves room for a MongoDB field's value, both ways: the
SQL that writes the place (`site`) and the split of the answer's JSON text at the places
(`split`), so that the values are put in as text (`schema.compiled.stitch`) and PostgreSQL's
answer is never decoded into Python objects and encoded again (the most part of the CPU
that a page with MongoDB fields cost beyond the same page without them; issue 16).

A place is a JSON array between two strings holding one NUL character,

    ["\\u0000", <field>, <key>, <carried columns>..., "\\u0000"]

and nothing stored can forge it: PostgreSQL's text cannot hold NUL, `jsonb` refuses
`\\u0000`, and no table has a `json` column (held by a test). Wherever stored text holds a
quote it is written `\\"` (preceded by a backslash, never followed by `\\u0000`), wherever
it holds a backslash `\\\\`; so the seven characters `"\\u0000` occur in the answer only where
a site wrote them. The field is its position in the statement's `Bound.documents`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, literal_column
from sqlalchemy.dialects.postgresql import JSON

from resolvers.compiled.sql import Expression

# `json`, which keeps its text as written (the input checks only its syntax); an escape
# string, read the same whatever `standard_conforming_strings` says.
_NUL = "E'\"\\\\u0000\"'::json"

# Where a place starts and ends. Found by `str.split` and `str.index` (a fast substring
# search) rather than a regular expression, which read the whole answer character by
# character: a ninth of the CPU of Q5 (issue 16).
_START = '["\\u0000",'
_END = '"\\u0000"]'
# Between the items: PostgreSQL writes ", ", orjson (a statement run through the engine,
# `resolvers.compiled.run`) ",". No JSON value starts or ends with a space or a comma (a
# string starts and ends with its quote).
_BETWEEN = ", "


def site(field: int, key: Expression, carried: Sequence[Expression] = ()) -> Expression:
    """The place of field `field`'s value, for the document of `key` (null: none) and the
    parent row's `carried` columns."""
    nul = literal_column(_NUL, JSON)
    return func.json_build_array(nul, literal_column(str(int(field))), key, *carried, nul)


def split(text: str) -> list[str]:
    """`text` split at its sites: the text between them at even positions, each site's
    contents (`<field>, <key>, <carried columns>...`, JSON array items) at odd ones."""
    first, *rest = text.split(_START)
    parts = [first]
    for chunk in rest:
        end = chunk.index(_END)
        parts += (chunk[:end].strip(_BETWEEN), chunk[end + len(_END) :])
    return parts

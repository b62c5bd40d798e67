"""Opaque cursors and Relay ids, one home: their format, the error for a bad one, its message.

Every kind is the unpadded URL-safe base64 of a short payload; the payloads are those handed
out so far, byte for byte, so a client's saved cursor keeps working:

- a global id (`resolvers.ids`): `<Type>:<uuid>`
- a page cursor (`resolvers.pagination`, and the compiled path's SQL `resolvers.compiled.sql`):
  the JSON array `[<sort value>, "<uuid>"]`
- a search cursor (`resolvers.search`): the JSON array `[<score>, "<Type>:<uuid>"]`
- an event cursor (`resolvers.subscriptions`): `seq:<n>`
- an audit log cursor (`resolvers.audit_log`): `audit:<entry id>`

Each decoder checks its whole payload, so that a cursor of one kind sent where another is
expected is refused (`BadInputError` naming the argument), never a 500 and never a page that
continues after the wrong thing. What a page cursor's sort value must be depends on the
ordering; the sort keys check it (`resolvers.sorting`) and raise the same error."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any, Final

import orjson

from flowgate.search.base import DocumentType
from resolvers.errors import BadInputError

MALFORMED: Final = "malformed cursor"
# Sequence numbers and entry ids are BSON int64s or PostgreSQL bigints: a larger one is no
# cursor (and would fail in the store, not here).
MAX_SEQ: Final = 2**63 - 1
_SEARCH_TYPES: Final = frozenset(DocumentType)


class MalformedCursorError(BadInputError):
    """A cursor that is not one this gateway handed out for this argument."""

    def __init__(self, argument: str) -> None:
        super().__init__(argument, MALFORMED)


def _pack(payload: bytes) -> str:
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def _unpack(text: str) -> bytes:
    """The payload; raises `ValueError` (or `binascii.Error`, one) when `text` is no base64."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _typed_id(text: str) -> tuple[str, uuid.UUID]:
    type_name, _, local = text.partition(":")
    return type_name, uuid.UUID(local)


# -- global ids --------------------------------------------------------------------------------


def encode_id(type_name: str, local_id: uuid.UUID) -> str:
    return _pack(f"{type_name}:{local_id}".encode())


def decode_id(global_id: str, *, argument: str = "id") -> tuple[str, uuid.UUID]:
    """(type name, uuid) of a global id, or `BadInputError` naming `argument`."""
    try:
        return _typed_id(_unpack(global_id).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadInputError(argument, f"{global_id!r} is not a valid id") from None


# -- page cursors: keyset pagination over (sort value, row id) ------------------------------------


def encode_page(sort_value: Any, row_id: uuid.UUID) -> str:
    value = sort_value.isoformat() if isinstance(sort_value, datetime) else sort_value
    return _pack(orjson.dumps([value, str(row_id)]))


def decode_page(cursor: str, argument: str) -> tuple[Any, uuid.UUID]:
    """(sort value, row id); the sort value is checked by the ordering's sort key."""
    try:
        value, row_id = orjson.loads(_unpack(cursor))
        return value, uuid.UUID(row_id)
    except (binascii.Error, orjson.JSONDecodeError, ValueError, TypeError):
        raise MalformedCursorError(argument) from None


# -- search cursors: (score, document key) -------------------------------------------------------


def encode_search(sort: tuple[float, str]) -> str:
    return _pack(orjson.dumps(list(sort)))


def decode_search(cursor: str, argument: str = "after") -> tuple[float, str]:
    try:
        score, key = orjson.loads(_unpack(cursor))
        if isinstance(score, int | float) and not isinstance(score, bool):
            type_name, _ = _typed_id(key)
            if type_name in _SEARCH_TYPES:
                return float(score), key
    except (binascii.Error, orjson.JSONDecodeError, ValueError, TypeError, AttributeError):
        pass
    raise MalformedCursorError(argument)


# -- numbered cursors: an event's sequence number, an audit entry's id -----------------------


def encode_event(seq: int) -> str:
    return _pack(f"seq:{seq}".encode())


def decode_event(cursor: str, argument: str = "after") -> int:
    return _decode_numbered(cursor, argument, "seq", lowest=0)


def encode_audit(entry_id: int) -> str:
    return _pack(f"audit:{entry_id}".encode())


def decode_audit(cursor: str, argument: str = "after") -> int:
    return _decode_numbered(cursor, argument, "audit", lowest=1)


def _decode_numbered(cursor: str, argument: str, mark: str, *, lowest: int) -> int:
    try:
        prefix, _, number = _unpack(cursor).decode().partition(":")
        value = int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise MalformedCursorError(argument) from None
    if prefix != mark or not lowest <= value <= MAX_SEQ:
        raise MalformedCursorError(argument)
    return value

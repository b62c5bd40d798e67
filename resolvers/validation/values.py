"""Checks of single values: strings, JSON objects, ids. Each returns the cleaned value, or
`None` after recording why it could not."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from resolvers.errors import BadInputError
from resolvers.ids import parse_id
from resolvers.validation.issues import IssueCode, Issues


def text(
    issues: Issues,
    path: str,
    value: object,
    *,
    max_length: int,
    required: bool = False,
    trim: bool = True,
) -> str | None:
    """A string of at most `max_length` characters; `required` ones must not be blank."""
    if not isinstance(value, str):
        issues.add(path, IssueCode.INVALID, "must be a string")
        return None
    cleaned = value.strip() if trim else value
    if required and not cleaned.strip():
        issues.add(path, IssueCode.REQUIRED, "must not be blank")
        return None
    if len(cleaned) > max_length:
        issues.add(
            path, IssueCode.TOO_LONG, f"must be at most {max_length} characters, got {len(cleaned)}"
        )
        return None
    if "\x00" in cleaned:
        # PostgreSQL text cannot hold NUL, and MongoDB keys cannot either.
        issues.add(path, IssueCode.INVALID, "must not contain NUL characters")
        return None
    return cleaned


def strings(
    issues: Issues, path: str, value: object, *, max_items: int, max_length: int
) -> list[str] | None:
    """A list of at most `max_items` strings, each as `text` with `required` checks it."""
    if not isinstance(value, list):
        issues.add(path, IssueCode.INVALID, "must be a list of strings")
        return None
    if len(value) > max_items:
        issues.add(
            path, IssueCode.TOO_MANY, f"must have at most {max_items} items, got {len(value)}"
        )
        return None
    found = issues.total
    cleaned = [
        text(issues, f"{path}[{index}]", item, max_length=max_length, required=True)
        for index, item in enumerate(value)
    ]
    if issues.total > found:
        return None
    return [item for item in cleaned if item is not None]


def json_object(
    issues: Issues, path: str, value: object, *, max_bytes: int | None
) -> dict[str, Any] | None:
    """A JSON object of at most `max_bytes` serialized, storable in both stores."""
    if not isinstance(value, dict):
        issues.add(path, IssueCode.INVALID, "must be a JSON object")
        return None
    if not within_bytes(issues, path, value, max_bytes=max_bytes):
        return None
    bad_key = _unstorable_key(value)
    if bad_key is not None:
        issues.add(path, IssueCode.INVALID, bad_key)
        return None
    return value


def within_bytes(issues: Issues, path: str, value: object, *, max_bytes: int | None) -> bool:
    """Whether `value` serializes to JSON, in at most `max_bytes` when that is given."""
    try:
        size = len(orjson.dumps(value))
    except TypeError as error:  # integers beyond 64 bits, for instance
        issues.add(path, IssueCode.INVALID, f"is not storable as JSON: {error}")
        return False
    if max_bytes is not None and size > max_bytes:
        issues.add(path, IssueCode.TOO_LARGE, f"must be at most {max_bytes} bytes, got {size}")
        return False
    return True


def _unstorable_key(value: object) -> str | None:
    """Why `value` cannot be stored as it is, or `None`. NUL breaks PostgreSQL JSONB and BSON
    keys; MongoDB reserves keys starting with `$` and treats `.` as a path separator."""
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key or key.startswith("$") or "." in key:
                return f"key {key[:50]!r} must not start with `$` or contain `.` or NUL"
            found = _unstorable_key(item)
            if found is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _unstorable_key(item)
            if found is not None:
                return found
    elif isinstance(value, str) and "\x00" in value:
        return "strings must not contain NUL characters"
    return None


def global_id(issues: Issues, path: str, value: object, type_name: str) -> uuid.UUID | None:
    """The local id inside a global id of a `type_name`."""
    if isinstance(value, str):
        try:
            return parse_id(value, type_name, argument=path)
        except BadInputError:
            pass
    issues.add(path, IssueCode.INVALID_ID, f"{str(value)[:100]!r} is not an id of a {type_name}")
    return None


def agent_reference(issues: Issues, path: str, value: object) -> uuid.UUID | None:
    """An agent named inside JSON data: its global id, or the bare UUID that stored node data
    carries (so that a flowchart read from the API can be saved back unchanged)."""
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    return global_id(issues, path, value, "Agent")

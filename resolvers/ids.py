"""Relay global ids: `base64("Agent:<uuid>")`, opaque to clients, decoded only here."""

from __future__ import annotations

import base64
import binascii
import uuid

from resolvers.errors import BadInputError


def to_global_id(type_name: str, local_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{local_id}".encode()).decode().rstrip("=")


def from_global_id(global_id: str, *, argument: str = "id") -> tuple[str, uuid.UUID]:
    """Decode a global id into (type name, uuid), or raise BadInputError naming `argument`."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, local = base64.urlsafe_b64decode(padded).decode().partition(":")
        return type_name, uuid.UUID(local)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadInputError(argument, f"{global_id!r} is not a valid id") from None


def parse_id(global_id: str, expected_type: str, *, argument: str = "id") -> uuid.UUID:
    """Decode a global id that must name `expected_type`."""
    type_name, local_id = from_global_id(global_id, argument=argument)
    if type_name != expected_type:
        raise BadInputError(argument, f"expected an id of a {expected_type}, got a {type_name}")
    return local_id

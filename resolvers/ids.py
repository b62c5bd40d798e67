"""Relay global ids: `base64("Agent:<uuid>")`, opaque to clients; their format is kept with
the cursors' (`resolvers.cursors`)."""

from __future__ import annotations

import uuid

from resolvers import cursors
from resolvers.errors import BadInputError

# The codec (`resolvers.cursors`) under the names the callers know.
to_global_id = cursors.encode_id
from_global_id = cursors.decode_id


def parse_id(global_id: str, expected_type: str, *, argument: str = "id") -> uuid.UUID:
    """Decode a global id that must name `expected_type`."""
    type_name, local_id = from_global_id(global_id, argument=argument)
    if type_name != expected_type:
        raise BadInputError(argument, f"expected an id of a {expected_type}, got a {type_name}")
    return local_id

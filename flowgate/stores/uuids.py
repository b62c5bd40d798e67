"""UUIDs between MongoDB's BSON and PostgreSQL's text, without `uuid.UUID` in between.

The client stores UUIDs in the standard representation (binary subtype 4). Going through
`uuid.UUID` costs Python calls for each value: pymongo's decoder builds a `Binary`, then a
`uuid.UUID` from it (`Binary.as_uuid`), and its encoder goes back through `Binary.from_uuid`.
For the readable workflows of a member (one `distinct` per request) and the keys of a
MongoDB field of a compiled query, that was most of the CPU outside pymongo (issue 16).
Here a value goes between its 16 bytes and its text directly."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Final

import bson
from bson.binary import UUID_SUBTYPE, Binary, UuidRepresentation
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

# Decodes binary subtype 4 as `Binary`, not `uuid.UUID`. It cannot encode a `uuid.UUID`: a
# command read under it carries its UUIDs already encoded (see `encoded`).
UUIDS_AS_BINARY: Final[CodecOptions[Any]] = CodecOptions(
    uuid_representation=UuidRepresentation.UNSPECIFIED
)


def uuid_text(value: object) -> str | None:
    """A standard-representation UUID as PostgreSQL writes it (lower-case, hyphenated);
    None for any other value."""
    if not (isinstance(value, Binary) and value.subtype == UUID_SUBTYPE and len(value) == 16):
        return None
    h = value.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uuid_binaries(texts: Collection[str]) -> list[Binary]:
    """UUIDs written as text (hyphenated or not), as the standard representation stores
    them, in sorted order (the same command text for the same set)."""
    return [Binary(bytes.fromhex(text.replace("-", "")), UUID_SUBTYPE) for text in sorted(texts)]


def encoded(document: Mapping[str, Any], options: CodecOptions[Any]) -> RawBSONDocument:
    """`document` encoded under `options` (the client's), to go into a command read under
    `UUIDS_AS_BINARY`: the encoder copies a raw document's bytes as they are."""
    return RawBSONDocument(bson.encode(document, codec_options=options))

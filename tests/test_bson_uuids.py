"""UUIDs between BSON and text without `uuid.UUID` (`flowgate.stores.uuids`): the same text
PostgreSQL writes and `str(uuid.UUID)` gives, and nothing for what is not a standard UUID."""

from __future__ import annotations

import random
import uuid

import bson
from bson import ObjectId
from bson.binary import Binary, UuidRepresentation
from bson.codec_options import CodecOptions

from flowgate.stores.uuids import UUIDS_AS_BINARY, encoded, uuid_binaries, uuid_text

STANDARD = CodecOptions(uuid_representation=UuidRepresentation.STANDARD)


def _uuids(count: int) -> list[uuid.UUID]:
    generator = random.Random(16)  # seeded: a failure is reproducible
    edges = [uuid.UUID(int=0), uuid.UUID(int=(1 << 128) - 1), uuid.UUID(int=1 << 124)]
    return edges + [uuid.UUID(int=generator.getrandbits(128)) for _ in range(count)]


def test_a_standard_uuid_reads_as_the_text_of_its_uuid() -> None:
    for value in _uuids(500):
        # as the client decodes it under UUIDS_AS_BINARY
        stored = bson.decode(bson.encode({"v": value}, codec_options=STANDARD), UUIDS_AS_BINARY)
        assert uuid_text(stored["v"]) == str(value)


def test_what_is_not_a_standard_uuid_has_no_text() -> None:
    legacy = Binary.from_uuid(uuid.uuid4(), UuidRepresentation.PYTHON_LEGACY)  # subtype 3
    short = Binary(b"\x01" * 15, 4)
    for value in (legacy, short, Binary(b"\x01" * 16, 0), "a-text", ObjectId(), None, 7):
        assert uuid_text(value) is None, value


def test_texts_become_the_binaries_the_client_would_store_in_order() -> None:
    values = _uuids(50)
    texts = [str(value) for value in values]
    expected = [Binary.from_uuid(value) for value in sorted(values)]
    assert uuid_binaries(texts) == expected
    assert uuid_binaries([text.replace("-", "") for text in texts]) == expected


def test_an_encoded_filter_keeps_its_uuids_under_the_binary_codec() -> None:
    value = uuid.uuid4()
    command = {"find": "x", "filter": encoded({"_id": value}, STANDARD)}
    # the command is encoded under UUIDS_AS_BINARY, which refuses a uuid.UUID itself
    round_trip = bson.decode(bson.encode(command, codec_options=UUIDS_AS_BINARY), STANDARD)
    assert round_trip["filter"] == {"_id": value}

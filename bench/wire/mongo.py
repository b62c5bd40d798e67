"""MongoDB's wire protocol, read just enough to count commands by name.

Every message starts with a 16-byte header (length, request id, response to, op code). An
OP_MSG (2013) carries its command as the body document of its first section, whose first key
is the command's name (`find`, `getMore`, `aggregate`, ...); the legacy OP_QUERY (2004) that
drivers still use for their first handshake carries it likewise after the collection name.

The driver's monitors send `hello` (`isMaster`) and `ping` on their own schedule, whatever
the requests do: those are counted under `heartbeat:<name>` and left out of `round_trips`."""

from __future__ import annotations

import struct
from collections import Counter

OP_QUERY = 2004
OP_MSG = 2013
HEARTBEATS = frozenset({"hello", "ismaster", "ping"})


class MongoReader:
    def __init__(self, counts: Counter[str]) -> None:
        self.counts = counts
        self.buffer = b""

    def feed(self, data: bytes) -> tuple[bytes, bytes]:
        self.buffer += data
        forward = bytearray()
        while len(self.buffer) >= 16:
            (length, _, _, op_code) = struct.unpack("<iiii", self.buffer[:16])
            if len(self.buffer) < length:
                break
            message, self.buffer = self.buffer[:length], self.buffer[length:]
            self._count(op_code, message[16:])
            forward += message
        return bytes(forward), b""

    def _count(self, op_code: int, body: bytes) -> None:
        if op_code == OP_MSG:
            # flag bits (4 bytes), then sections; kind 0 is the command document.
            offset = 4
            while offset < len(body) and body[offset] != 0:
                (size,) = struct.unpack("<i", body[offset + 1 : offset + 5])
                offset += 1 + size
            name = _first_key(body, offset + 1)
        elif op_code == OP_QUERY:
            collection_end = body.index(b"\0", 4)
            name = _first_key(body, collection_end + 1 + 8)
        else:
            name = f"op{op_code}"
        if name.lower() in HEARTBEATS:
            self.counts[f"heartbeat:{name}"] += 1
            return
        self.counts["round_trips"] += 1
        self.counts[f"command:{name}"] += 1


def _first_key(body: bytes, document: int) -> str:
    """The first element's name of the BSON document at `document`: int32 length, type
    byte, then the name as a C string."""
    start = document + 5
    return body[start : body.index(b"\0", start)].decode(errors="replace")

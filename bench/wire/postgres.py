"""PostgreSQL's frontend protocol, read just enough to count round trips.

After the startup message, every frontend message is a type byte and a length. A client
waits for the server at each Sync (`S`: the end of an extended-protocol exchange), at each
Flush (`H`: asyncpg prepares a statement with Parse, Describe, Flush and waits for the
description before it binds) and at each simple Query (`Q`: asyncpg sends BEGIN, ROLLBACK
and COMMIT this way). All three count as `round_trips` (and as `sync`, `flush`, `query:<WORD>`);
besides, `parse` counts statement preparations and the simple queries are counted by
their first word, so a test can say what the trips were.

SSL and GSS encryption requests are refused by the proxy itself ('N'), so the rest of the
conversation is readable; the client then goes on in clear, as against a server without SSL."""

from __future__ import annotations

import struct
from collections import Counter

SSL_REQUEST = 80877103
GSS_REQUEST = 80877104


class PostgresReader:
    def __init__(self, counts: Counter[str]) -> None:
        self.counts = counts
        self.buffer = b""
        self.started = False

    def feed(self, data: bytes) -> tuple[bytes, bytes]:
        self.buffer += data
        forward = bytearray()
        answer = bytearray()
        while True:
            if not self.started:
                if len(self.buffer) < 8:
                    break
                (length, code) = struct.unpack("!ii", self.buffer[:8])
                if len(self.buffer) < length:
                    break
                message, self.buffer = self.buffer[:length], self.buffer[length:]
                if code in (SSL_REQUEST, GSS_REQUEST):
                    answer += b"N"
                    continue
                self.started = True  # the startup message (or a cancel request)
                forward += message
                continue
            if len(self.buffer) < 5:
                break
            kind = self.buffer[:1]
            (length,) = struct.unpack("!i", self.buffer[1:5])
            if len(self.buffer) < 1 + length:
                break
            message, self.buffer = self.buffer[: 1 + length], self.buffer[1 + length :]
            self._count(kind, message[5:])
            forward += message
        return bytes(forward), bytes(answer)

    def _count(self, kind: bytes, body: bytes) -> None:
        if kind in (b"S", b"H"):
            self.counts["round_trips"] += 1
            self.counts["sync" if kind == b"S" else "flush"] += 1
        elif kind == b"Q":
            self.counts["round_trips"] += 1
            text = body.split(b"\0", 1)[0].decode(errors="replace").strip().rstrip(";")
            self.counts[f"query:{(text.split() or [''])[0].upper()}"] += 1
        elif kind == b"P":
            self.counts["parse"] += 1

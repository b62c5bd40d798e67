"""A grouped item written straight to a subscriber's socket, from the group's own loop.

Fan-out costs per delivery, not per item: the profile of `bench/subscribers.py` at 1,000
subscribers showed each delivery waking the member's task, resuming two async generators and
walking Starlette's and our middlewares' `send` wrappers into uvicorn's, about as much CPU as
the socket write itself. A member whose task is idle (`groups.Member`) gets its frame here
instead: the frame's bytes are the member's `head` and the item's encoded bytes, the same
bytes uvicorn would write, with no task hop and no wrapper.

This bypasses Starlette and the `send` wrappers of the middlewares, so it is kept to one case:
uvicorn's `websockets-sansio` protocol (what `flowgate serve` runs, `flowgate.workers`), its
handshake done, nothing closing, the transport not paused, no extension negotiated
(permessage-deflate would compress the frame) and no fragmented message under way. In every
other case `write` answers False and the member's task sends the item as before, so
backpressure and SLOW_CONSUMER stay where they were: a paused transport queues items.
None of the wrappers changes a websocket message (they add a header to HTTP answers)."""

from __future__ import annotations

import contextlib
import struct
import weakref
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import OPEN

from flowgate.sockets.groups import Rendered, Sink

# Where `KeepRawSend` leaves the owner of uvicorn's own `send` in a websocket's scope.
RAW_SENDER = "flowgate.raw_sender"


class KeepRawSend:
    """Keeps the object whose method uvicorn's `send` of each websocket is (its protocol) in
    the websocket's scope, for `sink`.

    Weakly: the protocol holds the scope, and a strong reference back would make a cycle
    that only a collection frees, never once `gc.freeze` has frozen it: every closed
    subscriber's protocol, handler and queues would stay (tests/test_gc_tuning.py).

    Added last, so it runs first of our middlewares: Starlette's ServerErrorMiddleware, the
    only one before it, hands a websocket's `send` on as it is."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        owner = getattr(send, "__self__", None)  # None: not a bound method, not uvicorn's
        if scope["type"] == "websocket" and owner is not None:
            with contextlib.suppress(TypeError):  # an owner that cannot be referred to weakly
                scope[RAW_SENDER] = weakref.ref(owner)
        await self.app(scope, receive, send)


class Writer:
    """Writes one operation's items (after its `head`) to one socket, when it safely can."""

    __slots__ = ("head", "protocol")

    def __init__(self, protocol: WebSocketsSansIOProtocol, head: str) -> None:
        self.protocol = protocol
        self.head = head.encode()

    def write(self, item: Rendered) -> bool:
        """Write `item`'s frame now; False (nothing written) where uvicorn must send it."""
        protocol = self.protocol
        connection = protocol.conn
        if (
            not item.tail
            or protocol.close_sent
            or protocol.disconnected
            or not protocol.handshake_complete
            or protocol.initial_response is not None
            or not protocol.writable.is_set()  # paused: the member's queue takes it
            or connection.state is not OPEN
            or connection.extensions  # permessage-deflate: websockets compresses it
            or connection.expect_continuation_frame
            or connection.writes
            or protocol.transport.is_closing()
        ):
            return False
        frame = (_header(len(self.head) + len(item.tail)), self.head, item.tail)
        try:
            protocol.transport.write(b"".join(frame))
        except Exception:
            return False  # the member's task sends it, and meets the error where it is handled
        return True


def sink(websocket: Any, head: str) -> Sink | None:
    """What writes one operation's items to the websocket of a Strawberry handler
    (`Writer.write`), or None where only the usual path may send (another server, or a
    `send` wrapped before ours)."""
    sender = websocket.ws.scope.get(RAW_SENDER)
    protocol = sender() if sender is not None else None
    if type(protocol) is not WebSocketsSansIOProtocol:
        return None
    return Writer(protocol, head).write


def _header(length: int) -> bytes:
    """A server's unmasked, final text frame header (RFC 6455 5.2), as websockets writes it."""
    if length < 126:
        return bytes((0x81, length))
    if length < 65536:
        return struct.pack("!BBH", 0x81, 126, length)
    return struct.pack("!BBQ", 0x81, 127, length)

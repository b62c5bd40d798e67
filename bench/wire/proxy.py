"""A TCP proxy that forwards bytes both ways and shows the client's bytes to a protocol reader.

The reader sees only the client-to-server direction: a round trip is something the client
asks for and then waits on, so counting requests is enough, and the server's answers (which
may be large) are forwarded untouched. The reader may answer the client itself (PostgreSQL's
SSL negotiation, see `postgres`), in which case those bytes are not forwarded."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class Reader(Protocol):
    """One connection's parser of client messages."""

    def feed(self, data: bytes) -> tuple[bytes, bytes]:
        """Consume client bytes; return (bytes to forward to the server, bytes to answer
        the client directly)."""
        ...


@dataclass
class Upstream:
    """Where the proxy connects: a TCP address, or a unix socket (`path`)."""

    host: str = "127.0.0.1"
    port: int = 0
    path: str | None = None

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.path is not None:
            return await asyncio.open_unix_connection(self.path)
        return await asyncio.open_connection(self.host, self.port)


@dataclass
class WireProxy:
    """Listens on 127.0.0.1:`port` (a free one once started); every accepted connection gets
    its own upstream connection and its own reader, and all of them add to `counts`."""

    upstream: Upstream
    reader_for: Callable[[Counter[str]], Reader]
    counts: Counter[str] = field(default_factory=Counter)
    port: int = 0
    connections: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> WireProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    def snapshot(self) -> Counter[str]:
        return Counter(self.counts)

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            server_in, server_out = await self.upstream.open()
            reader = self.reader_for(self.counts)
            upward = asyncio.ensure_future(self._upward(reader, client_in, client_out, server_out))
            downward = asyncio.ensure_future(_pipe(server_in, client_out))
            try:
                await asyncio.wait((upward, downward), return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pipe in (upward, downward):
                    pipe.cancel()
                    with contextlib.suppress(asyncio.CancelledError, OSError):
                        await pipe
                for writer in (server_out, client_out):
                    writer.close()
        finally:
            self._tasks.discard(task)

    async def _upward(
        self,
        reader: Reader,
        client_in: asyncio.StreamReader,
        client_out: asyncio.StreamWriter,
        server_out: asyncio.StreamWriter,
    ) -> None:
        while data := await client_in.read(65536):
            forward, answer = reader.feed(data)
            if answer:
                client_out.write(answer)
                await client_out.drain()
            if forward:
                server_out.write(forward)
                await server_out.drain()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    while data := await source.read(65536):
        sink.write(data)
        await sink.drain()

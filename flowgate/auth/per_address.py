"""Open websockets per client address, counted in this process."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager


class SocketsPerAddress:
    """A client may hold at most `limit` websockets at once: each holds a task, a context
    and its subscriptions, and nothing else bounds how many one address opens."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    @property
    def held(self) -> int:
        """Sockets open now, all addresses together."""
        return sum(self._open.values())

    @contextmanager
    def holding(self, address: str | None) -> Iterator[bool]:
        """Whether one more socket of `address` may stay open; counted while it does."""
        key = address or ""
        if self._open[key] >= self.limit:
            yield False
            return
        self._open[key] += 1
        try:
            yield True
        finally:
            self._open[key] -= 1
            if not self._open[key]:
                del self._open[key]

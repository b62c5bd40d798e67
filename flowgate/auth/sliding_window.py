"""The sliding-window estimate behind every rate limit: one home for the rule, whatever keeps
the counts (`flowgate.auth.rate_limit`: Redis or this process).

Counts are kept per fixed window (time // window), but a limit is checked against the last
`window` seconds: the current window's count plus the previous window's, weighted by the
share of the previous window still inside the sliding one (the previous window's requests
are taken as spread evenly over it). A fixed window alone let a client send twice its limit
across a boundary: its limit at the end of one window, its limit again at the start of the
next."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Float rounding: a count (or a wait) that is exactly at its bound must not read as a hair
# over it.
_SLACK = 1e-6


@dataclass(frozen=True)
class Position:
    """Where `now` falls: the fixed window's index and the share of it already gone."""

    index: int
    elapsed: float  # in [0, 1)

    @classmethod
    def at(cls, now: float, window: float) -> Position:
        index = math.floor(now / window)
        # Measured from the window's start, not as a fraction of `now`: an epoch time divided
        # by the window keeps too few digits after the point for a wait to the second.
        offset = now - index * window
        if offset < 0:  # `now / window` was rounded up to a whole number
            index, offset = index - 1, offset + window
        elif offset >= window:  # or down to one
            index, offset = index + 1, offset - window
        return cls(index, offset / window)


@dataclass(frozen=True)
class Hits:
    """The counts one hit saw: this window's (the hit included) and the previous window's."""

    position: Position
    current: int
    previous: int

    def estimate(self) -> float:
        """Requests in the last window, the hit included."""
        return self.current + self.previous * (1.0 - self.position.elapsed)

    def over(self, limit: int) -> bool:
        return self.estimate() > limit + _SLACK

    def seconds_until_allowed(self, limit: int, window: float) -> float:
        """Seconds until one more request fits under `limit` (`limit` >= 1), if this hit is
        not counted and no other request is: the estimate only falls while nothing is sent."""
        served = self.current - 1  # this hit is refused, so it is not counted
        elapsed = self.position.elapsed
        room = limit - 1 - served  # the previous window's weight that may remain
        if room >= 0:
            if self.previous * (1.0 - elapsed) <= room + _SLACK:
                return 0.0
            # Within this window, once the previous window's weight has shrunk to `room`.
            return (1.0 - room / self.previous - elapsed) * window
        # This window is already too full on its own: once it is the previous window, its
        # weight must shrink to `limit - 1`.
        return (1.0 - elapsed + 1.0 - (limit - 1) / served) * window

    def retry_after(self, limit: int, window: float) -> int:
        """`seconds_until_allowed` in whole seconds, at least 1 (what `Retry-After` says)."""
        return max(1, math.ceil(self.seconds_until_allowed(limit, window) - _SLACK))

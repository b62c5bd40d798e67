"""When things happen in the 30 days before the anchor: quiet nights and weekends, busy
working hours.

Generators never draw a datetime. They draw a *share* of the period's load (0 is its start,
1 its end) and let the timeline turn it into a moment for the anchor's calendar. Every
decision that compares two moments compares their shares instead, so the sequence of draws,
and with it every id, name and count, is the same whatever day the data is generated on;
only the timestamps follow the calendar."""

from __future__ import annotations

import bisect
import itertools
from datetime import datetime, timedelta

from flowgate.seed.entities import shift

HISTORY_DAYS = 30
HOUR_MS = 3_600_000
# Load by UTC hour of day.
HOUR_LOAD = (
    0.15, 0.12, 0.1, 0.1, 0.12, 0.2, 0.35, 0.6, 0.85, 1.0, 1.0, 0.95,
    0.85, 0.95, 1.0, 1.0, 0.9, 0.75, 0.55, 0.4, 0.3, 0.25, 0.2, 0.18,
)  # fmt: skip
WEEKEND_LOAD = 0.35


class Timeline:
    def __init__(self, anchor: datetime, days: int = HISTORY_DAYS) -> None:
        self.anchor = anchor
        self.start = anchor - timedelta(days=days)
        self._loads = [
            HOUR_LOAD[hour.hour] * (WEEKEND_LOAD if hour.weekday() >= 5 else 1.0)
            for hour in (self.start + timedelta(hours=h) for h in range(days * 24))
        ]
        self._cumulative = list(itertools.accumulate(self._loads))

    def moment(self, share: float) -> datetime:
        """The moment by which `share` of the period's load has happened (monotonic)."""
        point = share * self._cumulative[-1]
        hour = min(bisect.bisect_right(self._cumulative, point), len(self._loads) - 1)
        before = self._cumulative[hour - 1] if hour else 0.0
        fraction = min(1.0, max(0.0, (point - before) / self._loads[hour]))
        return shift(self.start, (hour + fraction) * HOUR_MS)

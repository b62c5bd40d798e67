"""The event bus: how a stored execution event reaches every subscriber on every replica.

One process-wide subscription to the bus feeds an in-memory hub (`flowgate.bus.hub`) that
fans each message out to the local subscribers. The bus carries notifications only: the
MongoDB event log is the source of truth, so a subscriber that misses a message (a Redis
outage, a coalesced tick) reads what it missed from the log."""

from flowgate.bus.base import EventBus, LiveUpdatesUnavailableError
from flowgate.bus.hub import Hub

__all__ = ["EventBus", "Hub", "LiveUpdatesUnavailableError"]

"""The bus interface and the in-process implementation (the embedded default)."""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod

from flowgate.bus.hub import Hub
from flowgate.bus.message import BusMessage


class LiveUpdatesUnavailableError(Exception):
    """The bus cannot deliver live updates right now (Redis is unreachable)."""


class EventBus(ABC):
    """Publishes execution events; delivers every published message, from any replica, to
    this process's hub."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._publishing: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    @abstractmethod
    async def publish(self, message: BusMessage) -> None:
        """Send a message to every replica. Must not raise for a bus outage: the event is
        already stored, and subscribers catch up from the log."""

    def publish_soon(self, message: BusMessage) -> None:
        """Queue a message to be published, without waiting: a request whose event is
        stored has its answer; the outbox and the log, not the bus, guarantee delivery."""
        task = asyncio.get_running_loop().create_task(self.publish(message))
        self._publishing.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._publishing.discard)

    @property
    def degraded(self) -> bool:
        """Whether publishes are being dropped or delayed (the bus is stalled or down)."""
        return False

    def check_available(self) -> None:
        """Raise `LiveUpdatesUnavailableError` when a new subscription could not be fed."""
        return

    @property
    def connected(self) -> bool:
        """Whether live updates can be delivered now (`flowgate_event_bus_connected`)."""
        return True

    @property
    def description(self) -> str:
        return type(self).__name__


class InProcessBus(EventBus):
    """One gateway process: publishing is handing the message to the local hub."""

    async def publish(self, message: BusMessage) -> None:
        self.hub.dispatch(message.stamped(time.time()))

    def publish_soon(self, message: BusMessage) -> None:
        # No I/O: handing over now keeps one process's messages in order.
        self.hub.dispatch(message.stamped(time.time()))

    @property
    def description(self) -> str:
        return "in-process"

"""What a live stream says about the item it yields next, for whoever delivers it.

A stream rendered once for a group of subscribers (`flowgate.sockets.groups`) hands the same
bytes to every member, each with a queue of its own. To coalesce those queues under
backpressure, the deliverer must know which execution an item is about and whether it is a
lifecycle change (never dropped) or a merged state (a newer one replaces it). The
subscription knows; the rendered GraphQL answer does not (the client picks the fields). So
the stream notes it here just before yielding, and the group reads it once the item is
rendered.

The note travels in a box held by a context variable: graphql-core may run the stream's
`__anext__` in a task of its own (a copy of the context), which still shares the box."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class DeliveryNote:
    """About the last item yielded: the key it merges under (None: never merged) and
    whether it is a lifecycle change."""

    key: str | None = None
    lifecycle: bool = True

    def take(self) -> tuple[str | None, bool]:
        """The note, reset: an item that says nothing is a lifecycle change (kept)."""
        noted = (self.key, self.lifecycle)
        self.key, self.lifecycle = None, True
        return noted


_NOTE: ContextVar[DeliveryNote | None] = ContextVar("flowgate_delivery_note", default=None)


def listen() -> DeliveryNote:
    """Give the streams run from this context a box to note their items in."""
    note = DeliveryNote()
    _NOTE.set(note)
    return note


def note(key: str, *, lifecycle: bool) -> None:
    """Say what the item about to be yielded is (a no-op outside a rendered group)."""
    box = _NOTE.get()
    if box is not None:
        box.key, box.lifecycle = key, lifecycle

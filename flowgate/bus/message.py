"""The one message the bus carries, typed.

A publisher hands the bus the body of its event (an execution event, a conversation event,
a notification's wake-up: JSON-ready values); the fields every reader needs are read from it
once, here, into attributes: the kind, the organization, the stream it belongs to (an
execution, a conversation or a notified person), its sequence number, and, for the
dashboards' filters, the status, agent and workflow. The body travels unchanged: what goes on
the wire is the body as JSON (plus `published_at`), exactly what replicas of earlier versions
publish and read, so old and new replicas share one channel."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

# The kind of a message that tells subscribers "you may have missed messages: read the
# log". A resync sent after an outage also says since when (`since`, epoch seconds).
RESYNC_TYPE = "__resync__"
# When a message was published (epoch seconds, set by the bus): its delivery lag is measured
# against it. Wall clocks, since replicas compare across processes (and hosts).
PUBLISHED_AT = "published_at"
SINCE = "since"


class MalformedMessageError(ValueError):
    """Not a message of ours: the channel is shared by every database of a Redis."""


@dataclass(frozen=True, slots=True)
class BusMessage:
    """A message as readers use it. Built by `from_body` or `from_wire`, never by hand, so
    that the attributes always agree with the body."""

    type: str
    organization_id: uuid.UUID | None = None
    execution_id: uuid.UUID | None = None
    conversation_id: uuid.UUID | None = None
    recipient_id: uuid.UUID | None = None
    # 0 for a message without one (a resync).
    seq: int = 0
    status: str | None = None
    agent_id: uuid.UUID | None = None
    workflow_id: uuid.UUID | None = None
    created_at: datetime | None = None
    published_at: float | None = None
    since: float | None = None
    # The whole message as published: the domain's own fields (a step, a payload) are read
    # by the domain's type (`ExecutionEvent`, `StreamEvent`), not here.
    body: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_resync(self) -> bool:
        return self.type == RESYNC_TYPE

    @property
    def stream_id(self) -> uuid.UUID | None:
        """The stream it belongs to: an execution, a conversation or a notified person
        (their ids are UUIDs, never equal)."""
        return self.execution_id or self.conversation_id or self.recipient_id

    @classmethod
    def resync(cls, since: float | None) -> BusMessage:
        return cls(RESYNC_TYPE, since=since, body={"type": RESYNC_TYPE, SINCE: since})

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> BusMessage:
        """The typed message of a body; `MalformedMessageError` when it is not one of ours
        (no kind, or an event without its organization and stream, or a field of the wrong
        type)."""
        kind = body.get("type")
        if not isinstance(kind, str):
            raise MalformedMessageError("no type")
        if kind == RESYNC_TYPE:
            since = body.get(SINCE)
            return cls(kind, since=since if isinstance(since, float | int) else None, body=body)
        try:
            message = cls(
                kind,
                organization_id=_uuid(body["organization_id"]),
                execution_id=_uuid(body.get("execution_id")),
                conversation_id=_uuid(body.get("conversation_id")),
                recipient_id=_uuid(body.get("recipient_id")),
                seq=int(body.get("seq") or 0),
                status=_text(body.get("status")),
                agent_id=_uuid(body.get("agent_id")),
                workflow_id=_uuid(body.get("workflow_id")),
                created_at=_time(body.get("created_at")),
                published_at=_seconds(body.get(PUBLISHED_AT)),
                body=body,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise MalformedMessageError(str(error)) from None
        if message.organization_id is None or message.stream_id is None:
            raise MalformedMessageError("no organization or stream")
        return message

    @classmethod
    def from_wire(cls, data: bytes | str) -> BusMessage | None:
        """The message of a Redis payload, or `None` for one that is not ours: a bad message
        must not end the process's one subscription."""
        try:
            body = orjson.loads(data)
            return cls.from_body(body) if isinstance(body, dict) else None
        except (orjson.JSONDecodeError, MalformedMessageError):
            return None

    def to_wire(self) -> bytes:
        return orjson.dumps(self.body)

    def stamped(self, published_at: float) -> BusMessage:
        """This message with the time it is published, for `flowgate_event_bus_lag_seconds`."""
        return dataclasses.replace(
            self, published_at=published_at, body={**self.body, PUBLISHED_AT: published_at}
        )


def _uuid(value: object) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        raise TypeError(f"not an id: {value!r}")
    return uuid.UUID(value)


def _text(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"not text: {value!r}")
    return value


def _time(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"not a time: {value!r}")
    return datetime.fromisoformat(value)


def _seconds(value: object) -> float | None:
    # Only a float counts, as the bus writes it (`time.time()`).
    return value if isinstance(value, float) else None

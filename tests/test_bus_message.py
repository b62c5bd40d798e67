"""The bus's typed message: what goes on the wire is the JSON the previous version (a bus of
plain dicts) published and read, so replicas of both versions share one channel."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from redis.asyncio import Redis

from flowgate.bus.hub import Hub
from flowgate.bus.message import BusMessage, MalformedMessageError
from flowgate.bus.redis import RedisBus, channel_for

ORGANIZATION = "3f1c2a8e-5b7d-4c1e-9a2f-0d6e8b4c7a10"
EXECUTION = "9b2e4c6a-1d3f-4e5a-8b7c-2f0a1e3d5c79"
AGENT = "5c7e9a1b-3d5f-4a6c-8e0b-1f2a3b4c5d6e"
WORKFLOW = "7d9f1b3c-5e7a-4b8d-9f1c-3a5b7c9d1e2f"
PUBLISHED_AT = 1796292000.25

# One body of each kind, as their publishers build them (the outbox's execution event,
# a conversation event, a notification's wake-up).
EXECUTION_EVENT: dict[str, Any] = {
    "organization_id": ORGANIZATION,
    "execution_id": EXECUTION,
    "seq": 7,
    "type": "status_changed",
    "status": "running",
    "step": None,
    "created_at": "2026-12-03T10:00:00.123000Z",
    "agent_id": AGENT,
    "workflow_id": WORKFLOW,
}
CONVERSATION_EVENT: dict[str, Any] = {
    "conversation_id": EXECUTION,
    "organization_id": ORGANIZATION,
    "agent_id": AGENT,
    "seq": 3,
    "type": "message_created",
    "message_id": None,
    "payload": {"role": "user", "text": "héllo"},
    "created_at": "2026-12-03T10:00:00.123000+00:00",
}
NOTIFICATION: dict[str, Any] = {
    "type": "notification_added",
    "recipient_id": AGENT,
    "organization_id": ORGANIZATION,
    "seq": 12,
}
BODIES = [EXECUTION_EVENT, CONVERSATION_EVENT, NOTIFICATION]


def previous_wire(body: dict[str, Any]) -> bytes:
    """What the previous version put on the channel: the dict, stamped, as JSON."""
    return orjson.dumps({**body, "published_at": PUBLISHED_AT})


@pytest.mark.parametrize("body", BODIES, ids=["execution", "conversation", "notification"])
def test_the_wire_is_what_the_previous_version_published(body: dict[str, Any]) -> None:
    # when
    wire = BusMessage.from_body(body).stamped(PUBLISHED_AT).to_wire()

    # then: byte for byte
    assert wire == previous_wire(body)


@pytest.mark.parametrize("since", [None, 1796291990.5])
def test_a_resync_is_on_the_wire_as_before(since: float | None) -> None:
    # when
    wire = BusMessage.resync(since).to_wire()

    # then
    assert wire == orjson.dumps({"type": "__resync__", "since": since})
    read = BusMessage.from_wire(wire)
    assert read is not None and read.is_resync and read.since == since


def test_a_message_of_the_previous_version_is_read_into_attributes() -> None:
    # given
    wire = previous_wire(EXECUTION_EVENT)

    # when
    message = BusMessage.from_wire(wire)

    # then
    assert message is not None
    assert message.type == "status_changed"
    assert message.organization_id == uuid.UUID(ORGANIZATION)
    assert message.execution_id == message.stream_id == uuid.UUID(EXECUTION)
    assert message.seq == 7
    assert message.status == "running"
    assert message.agent_id == uuid.UUID(AGENT)
    assert message.workflow_id == uuid.UUID(WORKFLOW)
    assert message.created_at is not None
    assert message.created_at.isoformat() == "2026-12-03T10:00:00.123000+00:00"
    assert message.published_at == PUBLISHED_AT
    assert not message.is_resync
    # The body is what was sent (the domain types read their own fields from it), and it
    # goes on unchanged: a replica relaying it says the same.
    assert message.body == orjson.loads(wire)
    assert message.to_wire() == wire


@pytest.mark.parametrize(
    ("body", "stream"),
    [(CONVERSATION_EVENT, "conversation_id"), (NOTIFICATION, "recipient_id")],
)
def test_each_kind_names_its_stream(body: dict[str, Any], stream: str) -> None:
    # when
    message = BusMessage.from_body(body)

    # then
    assert message.stream_id == uuid.UUID(body[stream])
    assert message.execution_id is None


NOT_OURS = [
    pytest.param(b"not json", id="not-json"),
    pytest.param(b"[1, 2]", id="not-an-object"),
    pytest.param(orjson.dumps({**EXECUTION_EVENT, "type": None}), id="no-type"),
    pytest.param(orjson.dumps({**EXECUTION_EVENT, "type": 3}), id="type-not-text"),
    pytest.param(orjson.dumps({**EXECUTION_EVENT, "execution_id": "x"}), id="bad-stream-id"),
    pytest.param(
        orjson.dumps({k: v for k, v in EXECUTION_EVENT.items() if k != "execution_id"}),
        id="no-stream",
    ),
    pytest.param(
        orjson.dumps({k: v for k, v in EXECUTION_EVENT.items() if k != "organization_id"}),
        id="no-organization",
    ),
    pytest.param(orjson.dumps({**EXECUTION_EVENT, "organization_id": 5}), id="organization-int"),
    pytest.param(orjson.dumps({**EXECUTION_EVENT, "seq": "seven"}), id="bad-seq"),
    pytest.param(orjson.dumps({**EXECUTION_EVENT, "status": ["running"]}), id="status-list"),
    pytest.param(orjson.dumps({**EXECUTION_EVENT, "agent_id": "nope"}), id="bad-agent"),
    pytest.param(orjson.dumps({**EXECUTION_EVENT, "created_at": "then"}), id="bad-time"),
]


@pytest.mark.parametrize("wire", NOT_OURS)
def test_a_message_that_is_not_ours_is_dropped(wire: bytes) -> None:
    # when / then: the listener skips it rather than ending its subscription
    assert BusMessage.from_wire(wire) is None
    body = orjson.loads(wire) if wire.startswith(b"{") else None
    if body is not None:
        with pytest.raises(MalformedMessageError):
            BusMessage.from_body(body)


def test_a_published_at_that_is_not_a_float_is_not_measured() -> None:
    # when: a lag the hub could not compute with
    message = BusMessage.from_body({**NOTIFICATION, "published_at": "yesterday"})

    # then: the message is delivered all the same
    assert message.published_at is None
    assert message.stream_id == uuid.UUID(AGENT)


# -- over Redis: a replica of the previous version on the same channel --------------------


def _redis_url() -> str:
    url = os.environ.get("FLOWGATE_REDIS_URL")
    if not url:
        pytest.skip("no Redis: FLOWGATE_REDIS_URL is unset")
    # A database number no test worker takes (they use 1, 2, ...: tests/conftest.py) and
    # that tests/test_bus_channels.py (14, 15) does not use either.
    return urlsplit(url)._replace(path="/13").geturl()


async def test_replicas_of_both_versions_hear_each_other() -> None:
    # given: this version's bus, and a raw client standing for a previous-version replica
    url = _redis_url()
    bus = RedisBus(Hub(), url)
    raw = Redis.from_url(url)
    pubsub = raw.pubsub(ignore_subscribe_messages=True)
    await bus.start()
    await pubsub.subscribe(channel_for(url))
    try:
        heard = bus.hub.subscribe(execution_id=uuid.UUID(EXECUTION))

        # when: the old replica publishes its dict as JSON
        await raw.publish(channel_for(url), previous_wire(EXECUTION_EVENT))
        received = await asyncio.wait_for(heard.next(), 5)

        # then: this version reads it
        assert received is not None
        assert received.seq == 7 and received.status == "running"
        assert received.body == {**EXECUTION_EVENT, "published_at": PUBLISHED_AT}

        # when: this version publishes
        await bus.publish(BusMessage.from_body(NOTIFICATION))
        for _ in range(5):  # bounded: the old replica hears its own publish first
            raw_message = await pubsub.get_message(timeout=5)
            if raw_message is not None and orjson.loads(raw_message["data"])["seq"] == 12:
                break
        else:
            pytest.fail("the previous-version replica did not hear this version's message")

        # then: the old replica reads the dict it knows, stamped
        sent = orjson.loads(raw_message["data"])
        assert isinstance(sent.pop("published_at"), float)
        assert sent == NOTIFICATION
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py
        await raw.aclose()
        await bus.close()

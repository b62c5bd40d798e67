"""Gateways on different database numbers of one Redis are separate deployments: Redis shares
pub/sub channels across its databases, so the bus names its channel after the number."""

from __future__ import annotations

import asyncio
import os
import uuid
from urllib.parse import urlsplit

import pytest

from flowgate.bus.hub import Hub
from flowgate.bus.message import BusMessage
from flowgate.bus.redis import CHANNEL, RedisBus, channel_for


def test_database_zero_keeps_the_channel_replicas_already_share() -> None:
    assert channel_for("redis://127.0.0.1:6379/0") == CHANNEL
    assert channel_for("redis://127.0.0.1:6379") == CHANNEL
    assert channel_for("redis://127.0.0.1:6379/3") == f"{CHANNEL}:3"
    assert channel_for("rediss://:secret@cache.internal/5") == f"{CHANNEL}:5"


async def test_a_bus_hears_its_own_database_only() -> None:
    url = os.environ.get("FLOWGATE_REDIS_URL")
    if not url:
        pytest.skip("no Redis: FLOWGATE_REDIS_URL is unset")

    def on(database: int) -> RedisBus:
        return RedisBus(Hub(), urlsplit(url)._replace(path=f"/{database}").geturl())

    # Numbers no test worker takes (they use 1, 2, ...: tests/conftest.py).
    sender, same, other = on(14), on(14), on(15)
    organization_id = uuid.uuid4()
    for bus in (sender, same, other):
        await bus.start()
    try:
        heard_same = same.hub.subscribe(organization_id=organization_id)
        heard_other = other.hub.subscribe(organization_id=organization_id)
        message = {
            "type": "EXECUTION_UPDATED",
            "execution_id": str(uuid.uuid4()),
            "organization_id": str(organization_id),
            "seq": 1,
        }
        await sender.publish(BusMessage.from_body(message))
        received = await asyncio.wait_for(heard_same.next(), 5)
        assert received is not None
        assert str(received.execution_id) == message["execution_id"]
        # The other database's bus is subscribed too, and stays silent.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(heard_other.next(), 0.5)
    finally:
        for bus in (sender, same, other):
            await bus.close()

from __future__ import annotations

from flowgate.bus.base import EventBus, InProcessBus
from flowgate.bus.hub import Hub
from flowgate.settings import Settings


def create_bus(settings: Settings) -> EventBus:
    """Redis when `FLOWGATE_REDIS_URL` is set (every replica sees every event), else the
    in-process bus (one gateway)."""
    hub = Hub(settings.subscriber_queue_limit)
    if settings.redis_url:
        from flowgate.bus.redis import RedisBus

        return RedisBus(hub, settings.redis_url)
    return InProcessBus(hub)

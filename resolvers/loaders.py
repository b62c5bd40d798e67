"""Per-request dataloaders, one class per access path, named for it.

Each `batch_load_fn` makes one round trip for all keys of a batch and returns values in key
order, `None` for a missing key. Every query is scoped to the principal's organization, so a
key from another tenant simply resolves to `None`. Batches of different loaders run
concurrently, so each opens its own session (an AsyncSession is not safe to share)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from aiodataloader import DataLoader

from flowgate.principal import Principal
from flowgate.services import Services
from models.documents import Flowchart


class FlowchartByAgentIdLoader(DataLoader[uuid.UUID, Flowchart | None]):
    def __init__(self, principal: Principal) -> None:
        super().__init__()
        self.principal = principal

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[Flowchart | None]:
        found = await Flowchart.find(
            {"organization_id": self.principal.organization_id, "agent_id": {"$in": list(keys)}}
        ).to_list()
        by_agent = {flowchart.agent_id: flowchart for flowchart in found}
        return [by_agent.get(key) for key in keys]


class Loaders:
    """The request's loaders, created together so each is built inside the running loop."""

    def __init__(self, services: Services, principal: Principal) -> None:
        self.flowchart_by_agent_id = FlowchartByAgentIdLoader(principal)

"""Reading flowcharts (MongoDB)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from models.documents import Flowchart

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context


async def flowchart_of_agent(info: Info[Context], agent_id: uuid.UUID) -> Flowchart | None:
    # No `await` before `.load()`: anything awaited first would split the batch.
    return await info.context.loaders.flowchart_by_agent_id.load(agent_id)


def node_agent_id(data: dict[str, object]) -> uuid.UUID | None:
    """The agent a node calls, from its `data.agentId`; `None` if absent or not an id."""
    value = data.get("agentId")
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None

"""Reading flowcharts (MongoDB)."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

from models.documents import Flowchart
from models.sql import Agent

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context


async def flowchart_of_agent(info: Info[Context], agent_id: uuid.UUID) -> Flowchart | None:
    """The flowchart of a live agent: a deleted agent's is kept (a restored agent gets it
    back) but not readable. Both loads start together: no `await` splits either batch."""
    loaders = info.context.loaders
    flowchart, agent = await asyncio.gather(
        loaders.flowchart_by_agent_id.load(agent_id), loaders.agent_by_id.load(agent_id)
    )
    return flowchart if agent is not None and agent.deleted_at is None else None


async def flowchart_of_loaded_agent(info: Info[Context], agent: Agent) -> Flowchart | None:
    """`flowchart_of_agent` for an agent already loaded (no second read of it)."""
    if agent.deleted_at is not None:
        return None
    # No `await` before `.load()`: anything awaited first would split the batch.
    return await info.context.loaders.flowchart_by_agent_id.load(agent.id)


def node_agent_id(data: dict[str, object]) -> uuid.UUID | None:
    """The agent a node calls, from its `data.agentId`; `None` if absent or not an id."""
    value = data.get("agentId")
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None

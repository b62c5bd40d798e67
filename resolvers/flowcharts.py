"""Reading flowcharts (MongoDB)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from models.documents import Flowchart

if TYPE_CHECKING:
    from strawberry import Info

    from flowgate.context import Context


async def flowchart_of_agent(info: Info[Context], agent_id: uuid.UUID) -> Flowchart | None:
    # No `await` before `.load()`: anything awaited first would split the batch.
    return await info.context.loaders.flowchart_by_agent_id.load(agent_id)

"""Relay `node(id)`: any object by its global id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from resolvers import agents
from resolvers.ids import from_global_id

if TYPE_CHECKING:
    from strawberry import Info

    from flowgate.context import Context


async def node_by_global_id(info: Info[Context], global_id: str) -> tuple[str, Any] | None:
    """(type name, model) for a global id, `None` for an unknown type or a missing object.
    Every type loads through its scoped loader, so another tenant's id is just missing."""
    type_name, local_id = from_global_id(global_id)
    loaders = info.context.loaders
    model: Any
    if type_name == "Agent":
        model = await agents.agent_by_id(info, local_id)
    elif type_name == "Execution":
        model = await loaders.execution_by_id.load(local_id)
    elif type_name == "Workflow":
        model = await loaders.workflow_by_id.load(local_id)
    elif type_name == "User":
        model = await loaders.user_by_id.load(local_id)
    elif type_name == "Flowchart":
        model = await _flowchart_by_id(info, local_id)
    else:
        return None
    return (type_name, model) if model is not None else None


async def _flowchart_by_id(info: Info[Context], flowchart_id: Any) -> Any:
    from models.documents import Flowchart

    return await Flowchart.find_one(
        {"_id": flowchart_id, "organization_id": info.context.principal.organization_id}
    )

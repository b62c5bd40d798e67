"""Relay `node(id)`: any object by its global id."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from models.documents import Flowchart
from resolvers import agents
from resolvers.ids import from_global_id

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context


async def _flowchart_by_id(info: Info[Context], flowchart_id: uuid.UUID) -> Flowchart | None:
    flowchart = await Flowchart.find_one(
        {"_id": flowchart_id, "organization_id": info.context.principal.organization_id}
    )
    # A deleted agent's flowchart is not readable (`resolvers.flowcharts`).
    if flowchart is None or await agents.agent_by_id(info, flowchart.agent_id) is None:
        return None
    return flowchart


# How each type that implements `Node` is found, by type name: the one list of them on this
# side (`schema.query` maps the same names to GraphQL types; tests/test_single_sources.py
# checks that the two and the schema's `Node` implementations agree). Each goes through a
# scoped loader or query, so another tenant's id is just missing.
_FIND: Final[dict[str, Callable[[Info[Context], uuid.UUID], Awaitable[Any]]]] = {
    "Agent": agents.agent_by_id,
    "Execution": lambda info, local_id: info.context.loaders.execution_by_id.load(local_id),
    "Workflow": lambda info, local_id: info.context.loaders.workflow_by_id.load(local_id),
    "User": lambda info, local_id: info.context.loaders.user_by_id.load(local_id),
    "Flowchart": _flowchart_by_id,
    # The conversation domain's loaders load only what the principal may see
    # (`resolvers.conversations.access`): as `project(id)`, `conversation(id)` answer.
    "Project": lambda info, local_id: info.context.loaders.project_by_id.load(local_id),
    "Conversation": lambda info, local_id: info.context.loaders.conversation_by_id.load(local_id),
    "Message": lambda info, local_id: info.context.loaders.message_by_id.load(local_id),
}
NODE_TYPES: Final = frozenset(_FIND)


async def node_by_global_id(info: Info[Context], global_id: str) -> tuple[str, Any] | None:
    """(type name, model) for a global id, `None` for an unknown type or a missing object."""
    type_name, local_id = from_global_id(global_id)
    find = _FIND.get(type_name)
    if find is None:
        return None
    model = await find(info, local_id)
    return (type_name, model) if model is not None else None

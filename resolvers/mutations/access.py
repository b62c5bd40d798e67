"""Refusals of mutations on particular objects, raised before anything is written.

Whether a role may change anything at all is declared on each mutation
(`schema.permissions.WRITERS`); the rules about which objects are in `resolvers.access`."""

from __future__ import annotations

from collections.abc import Callable

from flowgate.principal import Principal
from models.documents import Workflow
from models.sql import Agent
from resolvers import access
from resolvers.mutations.errors import ForbiddenError, NotFoundError


def require_agent_change(principal: Principal, agent: Agent) -> None:
    if not access.may_change_agent(principal, agent):
        raise ForbiddenError(
            "A user may change only the agents they own: ask the owner or an admin"
        )


def require_workflow(
    principal: Principal,
    workflow: Workflow | None,
    global_id: str,
    allowed: Callable[[Principal, Workflow], bool],
    action: str,
) -> Workflow:
    """`workflow`, if `principal` may read it and may do `action` to it. One it may not read
    is not found, so that its existence is not revealed."""
    if workflow is None or not access.may_read_workflow(principal, workflow):
        raise NotFoundError("Workflow", global_id)
    if not allowed(principal, workflow):
        raise ForbiddenError(
            f"You may not {action} this workflow: ask one of its owners or an admin"
        )
    return workflow

"""Refusals of mutations on particular objects, raised before anything is written.

Whether a role may change anything at all is declared on each mutation
(`schema.permissions.WRITERS`); the rules about which objects are in `resolvers.access`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import select

from flowgate.principal import Principal
from models.documents import Workflow
from models.sql import Agent, Execution
from resolvers import access
from resolvers.mutations.errors import ForbiddenError, NotFoundError

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context


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


async def require_execution_driver(
    info: Info[Context], execution_id: uuid.UUID, global_id: str
) -> None:
    """Refuse to report steps of, finish or cancel an execution the principal may not drive
    (`access.may_drive_execution`); one of a workflow it may not read is not found. Checked
    before the lifecycle transaction, so before an idempotency key can replay an answer."""
    principal = info.context.principal
    async with info.context.services.postgres.session() as session:
        row = (
            await session.execute(
                select(Execution, Agent.owner_id)
                .join(Agent, Agent.id == Execution.agent_id)
                .where(
                    Execution.id == execution_id,
                    Execution.organization_id == principal.organization_id,
                )
            )
        ).first()
    if row is None:
        raise NotFoundError("Execution", global_id)
    execution, agent_owner_id = row
    workflow = None
    if execution.workflow_id is not None:
        workflow = await Workflow.find_one(
            {"_id": execution.workflow_id, "organization_id": principal.organization_id}
        )
        if not access.is_admin(principal) and (
            workflow is None or not access.may_read_workflow(principal, workflow)
        ):
            raise NotFoundError("Execution", global_id)
    if not access.may_drive_execution(
        principal, execution, agent_owner_id=agent_owner_id, workflow=workflow
    ):
        raise ForbiddenError(
            "You may not drive this execution: it takes the workflow's run permission, or "
            "(without a workflow) being its starter or its agent's owner; or ask an admin"
        )

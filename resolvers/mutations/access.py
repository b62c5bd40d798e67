"""Refusals of mutations on particular objects, raised before anything is written.

Whether a role may change anything at all is declared on each mutation
(`schema.permissions.WRITERS`); the rules about which objects are in `resolvers.access`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from flowgate.principal import Principal
from flowgate.services import Services
from models.access import Action
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
    await require_execution_action(
        info.context.services, info.context.principal, execution_id, global_id, Action.RUN
    )


@dataclass(frozen=True)
class ExecutionAccess:
    """What the check read, for the caller to reuse: the row as it was, its workflow."""

    execution: Execution
    workflow: Workflow | None
    agent_owner_id: uuid.UUID | None


async def require_execution_action(
    services: Services,
    principal: Principal,
    execution_id: uuid.UUID,
    global_id: str,
    action: Action,
) -> ExecutionAccess:
    """Refuse `action` (RUN: drive; CHANGE: pause and resume) on an execution the principal
    may not do it to; one of a workflow it may not read is not found."""
    found = await readable_execution(services, principal, execution_id, global_id)
    if not access.may_drive_execution(
        principal,
        found.execution,
        agent_owner_id=found.agent_owner_id,
        workflow=found.workflow,
        action=action,
    ):
        raise ForbiddenError(_REFUSALS[action])
    return found


async def readable_execution(
    services: Services, principal: Principal, execution_id: uuid.UUID, global_id: str
) -> ExecutionAccess:
    """The execution with its workflow and agent owner; not found unless the principal may
    read it (`access.execution_visible`)."""
    async with services.postgres.session() as session:
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
    return ExecutionAccess(execution, workflow, agent_owner_id)


_REFUSALS = {
    Action.RUN: "You may not drive this execution: it takes the workflow's run permission, "
    "or (without a workflow) being its starter or its agent's owner; or ask an admin",
    Action.CHANGE: "You may not pause or resume this execution: it takes the workflow's "
    "change permission (owners, editors), or (without a workflow) being its starter or its "
    "agent's owner; or ask an admin",
}

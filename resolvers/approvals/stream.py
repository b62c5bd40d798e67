"""`executionCommands`: what engines must hear about the runs they execute (decisions,
pauses, resumes, cancellations), from the command log, each once and in order.

The log in PostgreSQL is the truth; the bus only wakes the stream. A subscriber is
registered with the hub before the log is read, so a change committed meanwhile still
wakes it; on each wake (and after `IDLE_CHECK_SECONDS` of silence, since a message can be
lost with the bus) it reads the log after its cursor. Ids commit in order within an
organization (`commands.record`), so reading "after the cursor" never skips one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from flowgate.bus.message import BusMessage
from models.enums import ExecutionEventType
from models.sql import ExecutionCommand
from resolvers import access
from resolvers.approvals import commands
from resolvers.errors import BadInputError
from resolvers.ids import parse_id
from resolvers.subscriptions import (
    NotFoundClientError,
    SlowConsumerError,
    decode_cursor,
    encode_cursor,
    next_or_idle,
    subscribe,
)

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context

# The events that come with a command: anything else cannot have added one.
WAKING = frozenset(
    {ExecutionEventType.STATUS_CHANGED.value, ExecutionEventType.APPROVAL_DECIDED.value}
)


async def execution_commands(
    info: Info[Context], *, agent_id: str | None, workflow_id: str | None, after: str | None
) -> AsyncIterator[ExecutionCommand]:
    """Commands for the runs of one agent or one workflow that the principal may read:
    those after `after` (from now when absent), then live ones. Never completes."""
    if (agent_id is None) == (workflow_id is None):
        raise BadInputError("agentId", "give exactly one of `agentId` and `workflowId`")
    principal = info.context.principal
    agent = parse_id(agent_id, "Agent", argument="agentId") if agent_id else None
    workflow = parse_id(workflow_id, "Workflow", argument="workflowId") if workflow_id else None
    last = decode_cursor(after) if after is not None else None
    loaders = info.context.loaders
    if agent is not None and await loaders.agent_by_id.load(agent) is None:
        raise NotFoundClientError(f"No agent with id {agent_id!r} in your organization")
    if workflow is not None and await loaders.workflow_by_id.load(workflow) is None:
        raise NotFoundClientError(f"No workflow with id {workflow_id!r} you may read")
    services = info.context.services
    readable = await access.readable_workflow_ids(services.mongo, principal)
    query = commands.scoped(
        principal.organization_id, agent, workflow, access.execution_visible(principal, readable)
    )

    def wakes(message: BusMessage) -> bool:
        if message.type not in WAKING:
            return False
        return message.agent_id == agent if agent is not None else message.workflow_id == workflow

    subscriber = subscribe(info, organization_id=principal.organization_id, accepts=wakes)
    try:
        if last is None:
            async with services.postgres.session() as session:
                last = await commands.newest(session, principal.organization_id)
        while True:
            async with services.postgres.session() as session:
                found = await commands.after(session, query, last)
            for command in found:
                yield command
                last = command.id
            if len(found) == commands.BATCH:
                continue  # more are waiting: read on before listening
            await next_or_idle(subscriber)
            if subscriber.overflowed:
                raise SlowConsumerError(encode_cursor(last) if last else None)
            subscriber.queue.clear()  # one read of the log answers every wake so far
    finally:
        services.bus.hub.unsubscribe(subscriber)


def command_cursor(command: ExecutionCommand) -> str:
    return encode_cursor(command.id)

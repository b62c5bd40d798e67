"""Root fields of approvals: `pendingApprovals` (my inbox) and the engines' subscription."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import partial
from typing import Annotated

import strawberry

from resolvers.approvals import inbox, stream
from resolvers.context import Context
from schema.approval import Approval, ExecutionCommand
from schema.connection import After, Connection, First, page_request, paginate
from schema.permissions import READERS, WRITERS


@strawberry.type
class ApprovalQuery:
    @strawberry.field(
        permission_classes=READERS,
        description="Approvals waiting on you: open, naming you, of paused runs you may "
        "read; oldest first.",
    )
    async def pending_approvals(
        self, info: strawberry.Info[Context], first: First = None, after: After = None
    ) -> Connection[Approval]:
        return await paginate(
            inbox.pending_approvals(info, page=page_request(info, first, after)),
            Approval.from_model,
            partial(inbox.count, info),
        )


@strawberry.type
class ApprovalSubscription:
    @strawberry.subscription(
        permission_classes=WRITERS,
        description="For engines: decisions, pauses, resumes and cancellations of the runs of "
        "one agent or one workflow (give exactly one) that you may read, each once and in "
        "order: those after `after` (from now when absent), then live ones. Never completes.",
    )
    async def execution_commands(
        self,
        info: strawberry.Info[Context],
        agent_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The agent's runs.")
        ] = None,
        workflow_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The workflow's runs.")
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="Resume after this command's cursor.")
        ] = None,
    ) -> AsyncGenerator[ExecutionCommand, None]:
        commands = stream.execution_commands(
            info, agent_id=agent_id, workflow_id=workflow_id, after=after
        )
        async for command in commands:
            info.context.refresh_loaders()
            yield ExecutionCommand.from_model(command)

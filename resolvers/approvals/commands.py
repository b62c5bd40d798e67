"""The command log engines follow (`executionCommands`): written in the transaction of the
change it reports, read back after a cursor."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, func, select

from models.enums import ExecutionCommandKind
from models.sql import Execution, ExecutionCommand

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from flowgate.principal import Actor

# Seeds the hash of the per-organization lock that orders command ids (see `record`).
LOCK_SEED = 0xC0D
BATCH = 200


async def record(
    session: AsyncSession,
    actor: Actor,
    execution: Execution,
    kind: ExecutionCommandKind,
    *,
    approval_id: uuid.UUID | None = None,
    **details: Any,
) -> None:
    """Add a command for `execution`'s engine to the caller's transaction.

    Its id is taken under an advisory lock of the organization held until commit: ids of
    one organization then commit in increasing order, so a reader that resumes after id N
    never misses a smaller id committed later. Commands are made by people (decisions,
    pauses, cancellations), so the lock is rarely contended."""
    lock = func.hashtextextended(f"commands:{execution.organization_id}", LOCK_SEED)
    await session.execute(select(func.pg_advisory_xact_lock(lock)))
    payload = {"by": str(actor.user_id), **{k: v for k, v in details.items() if v is not None}}
    session.add(
        ExecutionCommand(
            organization_id=execution.organization_id,
            execution_id=execution.id,
            agent_id=execution.agent_id,
            workflow_id=execution.workflow_id,
            kind=kind,
            approval_id=approval_id,
            payload=payload,
        )
    )
    await session.flush()  # the id is taken now, under the lock


def scoped(
    organization_id: uuid.UUID,
    agent_id: uuid.UUID | None,
    workflow_id: uuid.UUID | None,
    visible: ColumnElement[bool],
) -> Select[ExecutionCommand]:
    """An organization's commands for one agent's or one workflow's runs, of executions
    `visible` (the principal's `execution_visible`)."""
    query = (
        select(ExecutionCommand)
        .join(Execution, Execution.id == ExecutionCommand.execution_id)
        .where(ExecutionCommand.organization_id == organization_id, visible)
    )
    if agent_id is not None:
        query = query.where(ExecutionCommand.agent_id == agent_id)
    if workflow_id is not None:
        query = query.where(ExecutionCommand.workflow_id == workflow_id)
    return query


async def after(
    session: AsyncSession, query: Select[ExecutionCommand], last: int
) -> list[ExecutionCommand]:
    rows = await session.scalars(
        query.where(ExecutionCommand.id > last).order_by(ExecutionCommand.id).limit(BATCH)
    )
    return list(rows.all())


async def newest(session: AsyncSession, organization_id: uuid.UUID) -> int:
    """The organization's latest command id: where a subscriber without a cursor starts."""
    found = await session.scalar(
        select(func.max(ExecutionCommand.id)).where(
            ExecutionCommand.organization_id == organization_id
        )
    )
    return int(found or 0)

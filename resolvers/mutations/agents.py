"""Creating, changing, (softly) deleting and restoring agents. Each change and its audit
entry commit in one PostgreSQL transaction."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select

from models.sql import Agent
from models.sql.base import utcnow
from resolvers import audit
from resolvers.changes import record_change
from resolvers.drafts import apply_changes, given
from resolvers.drafts.agent import AgentChanges, AgentDraft
from resolvers.mutations.access import require_agent_change
from resolvers.mutations.errors import InvalidInputError, InvalidTransitionError, NotFoundError
from resolvers.validation import values
from resolvers.validation.agent import check_agent_fields
from resolvers.validation.issues import Issues

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from strawberry import Info

    from resolvers.context import Context


async def create_agent(info: Info[Context], *, draft: AgentDraft) -> Agent:
    """A new agent of the principal's organization, owned by the principal's user."""
    principal = info.context.principal
    issues = Issues()
    cleaned = check_agent_fields(issues, draft)
    if issues:
        raise InvalidInputError(issues)
    agent = Agent(
        id=uuid.uuid4(), organization_id=principal.organization_id, owner_id=principal.user_id
    )
    apply_changes(agent, cleaned)
    async with info.context.services.postgres.session() as session, session.begin():
        session.add(agent)
        record_change(
            session,
            info.context.actor,
            action="agent.create",
            object_type="Agent",
            object_id=agent.id,
            summary=audit.changes({}, given(cleaned)),
        )
    return agent


async def update_agent(info: Info[Context], *, agent_id: str, changes: AgentChanges) -> Agent:
    """Change exactly the fields given; the others keep their values."""
    issues = Issues()
    local_id = values.global_id(issues, "id", agent_id, "Agent")
    cleaned = check_agent_fields(issues, changes)
    if issues or local_id is None:
        raise InvalidInputError(issues)
    async with info.context.services.postgres.session() as session, session.begin():
        agent = await _live_agent_for_update(session, info, local_id, agent_id)
        before = apply_changes(agent, cleaned)
        record_change(
            session,
            info.context.actor,
            action="agent.update",
            object_type="Agent",
            object_id=agent.id,
            summary=audit.changes(before, given(cleaned)),
        )
    return agent


async def delete_agent(info: Info[Context], *, agent_id: str) -> Agent:
    """Mark the agent deleted: it leaves every list, but its executions still show it."""
    issues = Issues()
    local_id = values.global_id(issues, "id", agent_id, "Agent")
    if local_id is None:
        raise InvalidInputError(issues)
    async with info.context.services.postgres.session() as session, session.begin():
        agent = await _live_agent_for_update(session, info, local_id, agent_id)
        agent.deleted_at = utcnow()
        record_change(
            session,
            info.context.actor,
            action="agent.delete",
            object_type="Agent",
            object_id=agent.id,
            summary={
                **audit.changes({"deleted_at": None}, {"deleted_at": agent.deleted_at}),
                "name": agent.name,
            },
        )
    return agent


async def restore_agent(info: Info[Context], *, agent_id: str) -> Agent:
    """Bring a deleted agent back: into lists and `agent(id)` again, with its flowchart."""
    issues = Issues()
    local_id = values.global_id(issues, "id", agent_id, "Agent")
    if local_id is None:
        raise InvalidInputError(issues)
    async with info.context.services.postgres.session() as session, session.begin():
        agent = await session.scalar(
            select(Agent)
            .where(
                Agent.id == local_id,
                Agent.organization_id == info.context.principal.organization_id,
            )
            .with_for_update()
        )
        if agent is None:
            raise NotFoundError("Agent", agent_id)
        require_agent_change(info.context.principal, agent)
        if agent.deleted_at is None:
            raise InvalidTransitionError("The agent is not deleted")
        deleted_at, agent.deleted_at = agent.deleted_at, None
        record_change(
            session,
            info.context.actor,
            action="agent.restore",
            object_type="Agent",
            object_id=agent.id,
            summary={
                **audit.changes({"deleted_at": deleted_at}, {"deleted_at": None}),
                "name": agent.name,
            },
        )
    return agent


async def _live_agent_for_update(
    session: AsyncSession, info: Info[Context], local_id: uuid.UUID, global_id: str
) -> Agent:
    # FOR UPDATE: a concurrent change of the same agent waits, so the audit entry's "old"
    # values are the ones this change really replaced.
    agent = await session.scalar(
        select(Agent)
        .where(
            Agent.id == local_id,
            Agent.organization_id == info.context.principal.organization_id,
            Agent.deleted_at.is_(None),
        )
        .with_for_update()
    )
    if agent is None:
        raise NotFoundError("Agent", global_id)
    require_agent_change(info.context.principal, agent)
    return agent

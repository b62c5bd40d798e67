"""Projects: create, change, archive, delete (the status, so conversations keep their
project), and which agents are attached."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from flowgate.search.outbox import mark_project_conversations_stale
from models.enums import ProjectStatus
from models.sql import Agent, Project, ProjectAgent
from models.sql.base import utcnow
from resolvers import audit
from resolvers.changes import record_change
from resolvers.conversations.access import may_change_project, visible_projects
from resolvers.drafts import apply_changes, given, graphql_name
from resolvers.drafts.project import ProjectChanges, ProjectDraft
from resolvers.mutations.errors import ForbiddenError, InvalidInputError, NotFoundError
from resolvers.validation import values
from resolvers.validation.issues import IssueCode, Issues

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from strawberry import Info

    from resolvers.context import Context

# name: (max length, required)
_TEXT_FIELDS = {
    "name": (200, True),
    "description": (5000, False),
    "repository_url": (500, False),
    "local_path": (500, False),
    "framework": (100, False),
    "language": (100, False),
}


def _check(issues: Issues, draft: ProjectDraft | ProjectChanges) -> ProjectChanges:
    cleaned: dict[str, Any] = {}
    for name, value in given(draft).items():
        if name == "status":
            if value is None:
                issues.add("input.status", IssueCode.REQUIRED, "must not be null")
            cleaned[name] = value
            continue
        max_length, required = _TEXT_FIELDS[name]
        path = f"input.{graphql_name(name)}"
        if value is None:
            if required or name == "description":
                issues.add(path, IssueCode.REQUIRED, "must not be null")
            cleaned[name] = None
            continue
        cleaned[name] = values.text(issues, path, value, max_length=max_length, required=required)
    return ProjectChanges(**cleaned)


async def create_project(info: Info[Context], *, draft: ProjectDraft) -> Project:
    principal = info.context.principal
    issues = Issues()
    cleaned = _check(issues, draft)
    if issues:
        raise InvalidInputError(issues)
    project = Project(
        id=uuid.uuid4(),
        organization_id=principal.organization_id,
        owner_id=principal.user_id,
        status=ProjectStatus.ACTIVE,
    )
    apply_changes(project, cleaned)
    async with info.context.services.postgres.session() as session, session.begin():
        session.add(project)
        record_change(
            session,
            info.context.actor,
            action="project.create",
            object_type="Project",
            object_id=project.id,
            summary=audit.changes({}, given(cleaned)),
        )
    return project


async def change_project(
    info: Info[Context], *, project_id: str, changes: ProjectChanges, action: str = "update"
) -> Project:
    """Change the fields given (`archive` and `delete` set the status)."""
    issues = Issues()
    local_id = values.global_id(issues, "id", project_id, "Project")
    cleaned = _check(issues, changes)
    if issues or local_id is None:
        raise InvalidInputError(issues)
    async with info.context.services.postgres.session() as session, session.begin():
        project = await _project_for_update(session, info, local_id, project_id)
        before = apply_changes(project, cleaned)
        if before.get("status", project.status) != project.status:
            await mark_project_conversations_stale(session, project.id)
        project.updated_at = utcnow()
        record_change(
            session,
            info.context.actor,
            action=f"project.{action}",
            object_type="Project",
            object_id=project.id,
            summary=audit.changes(before, given(cleaned)),
        )
    return project


async def attach_agent(
    info: Info[Context], *, project_id: str, agent_id: str, attach: bool
) -> Project:
    """Attach (or detach) an agent; doing it twice is the same as once."""
    principal = info.context.principal
    issues = Issues()
    local_id = values.global_id(issues, "projectId", project_id, "Project")
    agent_local = values.global_id(issues, "agentId", agent_id, "Agent")
    if issues or local_id is None or agent_local is None:
        raise InvalidInputError(issues)
    async with info.context.services.postgres.session() as session, session.begin():
        project = await _project_for_update(session, info, local_id, project_id)
        agent = await session.scalar(
            select(Agent.id).where(
                Agent.id == agent_local,
                Agent.organization_id == principal.organization_id,
                Agent.deleted_at.is_(None),
            )
        )
        if agent is None:
            issues.add("agentId", IssueCode.NOT_FOUND, "names no agent in your organization")
            raise InvalidInputError(issues)
        if attach:
            await session.execute(
                insert(ProjectAgent)
                .values(
                    project_id=project.id,
                    agent_id=agent_local,
                    organization_id=principal.organization_id,
                )
                .on_conflict_do_nothing()
            )
        else:
            await session.execute(
                delete(ProjectAgent).where(
                    ProjectAgent.project_id == project.id, ProjectAgent.agent_id == agent_local
                )
            )
        project.updated_at = utcnow()
        record_change(
            session,
            info.context.actor,
            action="project.attach_agent" if attach else "project.detach_agent",
            object_type="Project",
            object_id=project.id,
            summary={"agent_id": str(agent_local)},
        )
    return project


async def _project_for_update(
    session: AsyncSession, info: Info[Context], local_id: uuid.UUID, global_id: str
) -> Project:
    principal = info.context.principal
    project = await session.scalar(
        select(Project)
        .where(Project.id == local_id, *visible_projects(principal))
        .with_for_update()
    )
    if project is None:
        raise NotFoundError("Project", global_id)
    if not may_change_project(principal, project):
        raise ForbiddenError("Only the project's owner (or an admin) may change it")
    return project

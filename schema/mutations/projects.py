"""Project mutations: creating, changing, archiving and deleting a project, and attaching
agents to it."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from models import enums
from resolvers.context import Context
from resolvers.conversations import projects
from resolvers.drafts.project import ProjectChanges, ProjectDraft
from schema.connection import Id
from schema.errors import Forbidden, NotFound, ValidationError
from schema.mutations.capture import capture_errors
from schema.mutations.drafts import kept
from schema.permissions import WRITERS
from schema.project import Project


@strawberry.input(description="A new project.")
class CreateProjectInput:
    name: str = strawberry.field(description="1 to 200 characters.")
    description: str = strawberry.field(default="", description="At most 5,000 characters.")
    repository_url: str | None = strawberry.field(default=None, description="At most 500.")
    local_path: str | None = strawberry.field(default=None, description="At most 500.")
    framework: str | None = strawberry.field(default=None, description="At most 100.")
    language: str | None = strawberry.field(default=None, description="At most 100.")

    def to_draft(self) -> ProjectDraft:
        return ProjectDraft(
            name=self.name,
            description=self.description,
            repository_url=self.repository_url,
            local_path=self.local_path,
            framework=self.framework,
            language=self.language,
        )


@strawberry.input(description="Changes to a project: only the fields given change.")
class UpdateProjectInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="1 to 200.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 5,000."
    )
    repository_url: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 500."
    )
    local_path: str | None = strawberry.field(default=strawberry.UNSET, description="At most 500.")
    framework: str | None = strawberry.field(default=strawberry.UNSET, description="At most 100.")
    language: str | None = strawberry.field(default=strawberry.UNSET, description="At most 100.")
    status: enums.ProjectStatus | None = strawberry.field(
        default=strawberry.UNSET, description="Active or archived (deleteProject deletes)."
    )

    def to_draft(self) -> ProjectChanges:
        # Omitted fields stay as they are; null clears an optional text.
        return ProjectChanges(
            name=kept(self.name),
            description=kept(self.description),
            repository_url=kept(self.repository_url),
            local_path=kept(self.local_path),
            framework=kept(self.framework),
            language=kept(self.language),
            status=kept(self.status),
        )


@strawberry.type(description="The project.")
class ProjectPayload:
    project: Project = strawberry.field(description="As it is now.")


ProjectResult = Annotated[
    ProjectPayload | ValidationError | NotFound | Forbidden,
    strawberry.union("ProjectResult", description="The project, or why not."),
]


async def _project(info: Any, id: str, changes: ProjectChanges, action: str) -> ProjectPayload:
    model = await projects.change_project(info, project_id=id, changes=changes, action=action)
    return ProjectPayload(project=Project.from_model(model))


@strawberry.type(description="Changes to projects.")
class ProjectMutations:
    @strawberry.mutation(permission_classes=WRITERS, description="Create a project.")
    @capture_errors
    async def create_project(
        self,
        info: strawberry.Info[Context],
        input: Annotated[CreateProjectInput, strawberry.argument(description="The project.")],
    ) -> ProjectResult:
        model = await projects.create_project(info, draft=input.to_draft())
        return ProjectPayload(project=Project.from_model(model))

    @strawberry.mutation(permission_classes=WRITERS, description="Change a project (owner, admin).")
    @capture_errors
    async def update_project(
        self,
        info: strawberry.Info[Context],
        id: Id,
        input: Annotated[UpdateProjectInput, strawberry.argument(description="What changes.")],
    ) -> ProjectResult:
        return await _project(info, id, input.to_draft(), "update")

    @strawberry.mutation(permission_classes=WRITERS, description="Archive a project.")
    @capture_errors
    async def archive_project(self, info: strawberry.Info[Context], id: Id) -> ProjectResult:
        return await _project(
            info, id, ProjectChanges(status=enums.ProjectStatus.ARCHIVED), "archive"
        )

    @strawberry.mutation(
        permission_classes=WRITERS,
        description="Delete a project: it leaves every list, and its conversations are no "
        "longer shared through it (they stay their users').",
    )
    @capture_errors
    async def delete_project(self, info: strawberry.Info[Context], id: Id) -> ProjectResult:
        return await _project(
            info, id, ProjectChanges(status=enums.ProjectStatus.DELETED), "delete"
        )

    @strawberry.mutation(permission_classes=WRITERS, description="Attach an agent to a project.")
    @capture_errors
    async def attach_agent_to_project(
        self, info: strawberry.Info[Context], project_id: Id, agent_id: Id
    ) -> ProjectResult:
        model = await projects.attach_agent(
            info, project_id=project_id, agent_id=agent_id, attach=True
        )
        return ProjectPayload(project=Project.from_model(model))

    @strawberry.mutation(permission_classes=WRITERS, description="Detach an agent from a project.")
    @capture_errors
    async def detach_agent_from_project(
        self, info: strawberry.Info[Context], project_id: Id, agent_id: Id
    ) -> ProjectResult:
        model = await projects.attach_agent(
            info, project_id=project_id, agent_id=agent_id, attach=False
        )
        return ProjectPayload(project=Project.from_model(model))

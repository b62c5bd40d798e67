"""Projects: organization-wide workspaces that agents are attached to and conversations are
held in (holding a conversation in a project shares it with the organization)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from models import enums, sql
from resolvers.context import Context
from resolvers.ids import to_global_id
from schema.connection import PAGE_SIZE_BOUNDS, Connection
from schema.node import Node
from schema.user import User

if TYPE_CHECKING:
    from schema.agent import Agent
    from schema.conversation import Conversation

strawberry.enum(enums.ProjectStatus, description="A project's lifecycle.")

NestedFirst = Annotated[
    int, strawberry.argument(description=f"How many per parent ({PAGE_SIZE_BOUNDS}).")
]


@strawberry.type(description="A workspace (a code repository, say) shared with the organization.")
class Project(Node):
    model: strawberry.Private[sql.Project]
    id: strawberry.ID = strawberry.field(description="The project's global id.")
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="What the project is.")
    repository_url: str | None = strawberry.field(description="Where its code lives.")
    local_path: str | None = strawberry.field(description="Its folder on the engine's machine.")
    framework: str | None = strawberry.field(description="Main framework (django, next, ...).")
    language: str | None = strawberry.field(description="Main programming language.")
    status: enums.ProjectStatus = strawberry.field(description="Active, archived or deleted.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @classmethod
    def from_model(cls, model: sql.Project) -> Project:
        return cls(
            model=model,
            id=strawberry.ID(to_global_id("Project", model.id)),
            name=model.name,
            description=model.description,
            repository_url=model.repository_url,
            local_path=model.local_path,
            framework=model.framework,
            language=model.language,
            status=model.status,
            created_at=model.created_at,
            updated_at=model.updated_at,
        )

    @strawberry.field(description="Who created it.")
    async def owner(self, info: strawberry.Info[Context]) -> User | None:
        if self.model.owner_id is None:
            return None
        user = await info.context.loaders.user_by_id.load(self.model.owner_id)
        return User.from_model(user) if user is not None else None

    @strawberry.field(description="The agents attached to it, by name.")
    async def agents(
        self, info: strawberry.Info[Context]
    ) -> list[Annotated[Agent, strawberry.lazy("schema.agent")]]:
        from schema.agent import Agent

        models = await info.context.loaders.agents_by_project.load(self.model.id)
        return [Agent.from_model(model) for model in models]

    @strawberry.field(description="Conversations held in it, most recently updated first.")
    async def conversations(
        self, info: strawberry.Info[Context], first: NestedFirst = 20
    ) -> Connection[Annotated[Conversation, strawberry.lazy("schema.conversation")]]:
        from schema.conversation import nested_conversations

        return await nested_conversations(
            info, info.context.loaders.conversation_page_by_project, self.model.id, first
        )

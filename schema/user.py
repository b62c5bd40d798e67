"""Users, as they appear as owners and creators, and as `me`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from models import sql
from resolvers.context import Context
from resolvers.identity import members
from resolvers.ids import to_global_id
from schema.connection import PAGE_SIZE_LIMIT, Connection
from schema.enums import UserRole
from schema.node import Node
from schema.preferences import Preferences

if TYPE_CHECKING:
    from schema.organization import Organization

if TYPE_CHECKING:
    from schema.conversation import Conversation


@strawberry.type(description="A person of your organization.")
class User(Node):
    model: strawberry.Private[sql.User]
    email: str = strawberry.field(description="Login email, unique across Flowgate.")
    name: str = strawberry.field(description="Display name.")
    role: UserRole = strawberry.field(description="What the user may do.")
    created_at: datetime = strawberry.field(description="When the account was created.")
    username: str | None = strawberry.field(
        description="A handle, unique in the organization; null until chosen."
    )
    first_name: str | None = strawberry.field(description="Given name; null if not given.")
    last_name: str | None = strawberry.field(description="Family name; null if not given.")
    is_active: bool = strawberry.field(
        description="False once an admin deactivated the account: it cannot log in or act."
    )
    last_login_at: datetime | None = strawberry.field(
        description="When the user last logged in with a password; null if never."
    )
    updated_at: datetime = strawberry.field(description="When the account was last changed.")

    @strawberry.field(description="The person's preferences; defaults where none was chosen.")
    def preferences(self) -> Preferences:
        return Preferences.from_stored(self.model.preferences)

    @strawberry.field(description="The organization the user belongs to.")
    async def organization(
        self, info: strawberry.Info[Context]
    ) -> Annotated[Organization, strawberry.lazy("schema.organization")] | None:
        from schema.organization import Organization

        model = await members.organization_of(info, self.model)
        return Organization.from_model(model) if model is not None else None

    @classmethod
    def from_model(cls, model: sql.User) -> User:
        return cls(
            model=model,
            id=strawberry.ID(to_global_id("User", model.id)),
            email=model.email,
            name=model.name,
            role=model.role,
            created_at=model.created_at,
            username=model.username,
            first_name=model.first_name,
            last_name=model.last_name,
            is_active=model.is_active,
            last_login_at=model.last_login_at,
            updated_at=model.updated_at,
        )

    @strawberry.field(description="Their conversations you can see, last updated first.")
    async def conversations(
        self,
        info: strawberry.Info[Context],
        first: Annotated[
            int, strawberry.argument(description=f"How many ({PAGE_SIZE_LIMIT}).")
        ] = 20,
    ) -> Connection[Annotated[Conversation, strawberry.lazy("schema.conversation")]]:
        from schema.conversation import nested_conversations

        loader = info.context.loaders.conversation_page_by_user
        return await nested_conversations(info, loader, self.model.id, first)

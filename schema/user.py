"""Users, as they appear as owners and creators."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from flowgate.context import Context
from models import sql
from resolvers.ids import to_global_id
from schema.connection import Connection
from schema.enums import UserRole
from schema.node import Node

if TYPE_CHECKING:
    from schema.conversation import Conversation


@strawberry.type(description="A person of your organization.")
class User(Node):
    model: strawberry.Private[sql.User]
    email: str = strawberry.field(description="Login email, unique across Flowgate.")
    name: str = strawberry.field(description="Display name.")
    role: UserRole = strawberry.field(description="What the user may do.")
    created_at: datetime = strawberry.field(description="When the account was created.")

    @classmethod
    def from_model(cls, model: sql.User) -> User:
        return cls(
            model=model,
            id=strawberry.ID(to_global_id("User", model.id)),
            email=model.email,
            name=model.name,
            role=model.role,
            created_at=model.created_at,
        )

    @strawberry.field(description="Their conversations you can see, last updated first.")
    async def conversations(
        self,
        info: strawberry.Info[Context],
        first: Annotated[int, strawberry.argument(description="How many (at most 100).")] = 20,
    ) -> Connection[Annotated[Conversation, strawberry.lazy("schema.conversation")]]:
        from schema.conversation import nested_conversations

        loader = info.context.loaders.conversation_page_by_user
        return await nested_conversations(info, loader, self.model.id, first)

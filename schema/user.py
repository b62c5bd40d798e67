"""Users, as they appear as owners and creators."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models import sql
from resolvers.ids import to_global_id
from schema.enums import UserRole
from schema.node import Node


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

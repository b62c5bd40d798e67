"""The organization (`me.organization`) and the list of its people (`users`, `members`)."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated

import strawberry

from models import sql
from resolvers.context import Context
from resolvers.identity import members
from schema.connection import PAGE_SIZE_BOUNDS, Connection, page_request, paginate
from schema.enums import UserRole
from schema.filters import filter_of
from schema.permissions import ADMINS
from schema.user import User


@strawberry.input(description="Which people; every condition given must hold.")
class UserFilter:
    roles: list[UserRole] | None = strawberry.field(default=None, description="Any of these roles.")
    is_active: bool | None = strawberry.field(
        default=None, description="Only active (true) or deactivated (false) people."
    )
    search: str | None = strawberry.field(
        default=None, description="Part of the email, name or username, any case."
    )

    def to_filter(self) -> members.UserFilter:
        return members.UserFilter(roles=self.roles, is_active=self.is_active, contains=self.search)


UsersFirst = Annotated[
    int | None, strawberry.argument(description=f"Page size ({PAGE_SIZE_BOUNDS}).")
]
UsersAfter = Annotated[str | None, strawberry.argument(description="Cursor to continue after.")]
UsersFilter = Annotated[UserFilter | None, strawberry.argument(description="Which people.")]


async def resolve_users(
    info: strawberry.Info[Context],
    first: UsersFirst = None,
    after: UsersAfter = None,
    filter: UsersFilter = None,
) -> Connection[User]:
    """The organization's people by email: for admins only (the field says so)."""
    return await paginate(
        members.list_users(info, page=page_request(info, first, after), filter_=filter_of(filter)),
        User.from_model,
        partial(members.count, info),
    )


@strawberry.type(description="How much the organization holds.")
class OrganizationFigures:
    members: int = strawberry.field(description="People, deactivated ones included.")
    active_members: int = strawberry.field(description="People who can log in.")
    agents: int = strawberry.field(description="Agents not deleted.")
    executions: int = strawberry.field(description="Executions ever started.")


@strawberry.type(description="Your organization: the tenant everything you see belongs to.")
class Organization:
    model: strawberry.Private[sql.Organization]
    name: str = strawberry.field(description="Display name.")
    slug: str = strawberry.field(description="Short unique name, lower-case, for URLs.")
    created_at: datetime = strawberry.field(description="When the organization was created.")

    members: Connection[User] = strawberry.field(
        resolver=resolve_users,
        permission_classes=ADMINS,
        description="The organization's people by email (admins only), like `users`.",
    )

    @strawberry.field(description="How many people, agents and executions it holds.")
    async def figures(self, info: strawberry.Info[Context]) -> OrganizationFigures:
        found = await info.context.loaders.figures_by_organization.load(self.model.id)
        if found is None:  # the organization is the principal's: it has figures
            raise RuntimeError("no figures for the principal's organization")
        return OrganizationFigures(
            members=found.members,
            active_members=found.active_members,
            agents=found.agents,
            executions=found.executions,
        )

    @classmethod
    def from_model(cls, model: sql.Organization) -> Organization:
        return cls(model=model, name=model.name, slug=model.slug, created_at=model.created_at)

"""The audit trail: `auditLog` for admins, and the `history` of an agent or a workflow."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from models import sql
from resolvers import audit_log
from resolvers.access import is_admin
from resolvers.context import Context
from resolvers.errors import BadInputError
from resolvers.ids import from_global_id
from resolvers.pagination import DEFAULT_PAGE_SIZE
from schema.connection import PAGE_SIZE_BOUNDS, Connection
from schema.permissions import ADMINS
from schema.user import User

MAX_HISTORY = 100


@strawberry.type(description="One recorded change: who did what to which object, when.")
class AuditEntry:
    model: strawberry.Private[sql.AuditLogEntry]
    id: strawberry.ID = strawberry.field(description="The entry's number; later is larger.")
    action: str = strawberry.field(
        description="What was done, as `object.verb`: `agent.update`, `user.deactivate`, ..."
    )
    actor_type: str = strawberry.field(
        description="`user` (with a password login), `api_key` (acting as its user) or "
        "`system` (the command line)."
    )
    object_type: str = strawberry.field(
        description="The kind of object changed: Agent, Workflow, Execution, User, ..."
    )
    object_id: str = strawberry.field(description="The object's id (a UUID) as recorded.")
    summary: JSON = strawberry.field(
        description="The recorded change: usually `{changed, old, new}` (small values only)."
    )
    created_at: datetime = strawberry.field(description="When it was done.")

    @strawberry.field(description="The person who acted (or whose API key did); null for none.")
    async def actor(self, info: strawberry.Info[Context]) -> User | None:
        if self.model.actor_id is None:
            return None
        user = await info.context.loaders.user_by_id.load(self.model.actor_id)
        return User.from_model(user) if user is not None else None

    @strawberry.field(description="The client's network address; shown to admins only.")
    def client_address(self, info: strawberry.Info[Context]) -> str | None:
        return self.model.client_address if is_admin(info.context.principal) else None

    @classmethod
    def from_model(cls, model: sql.AuditLogEntry) -> AuditEntry:
        return cls(
            model=model,
            id=strawberry.ID(str(model.id)),
            action=model.action,
            actor_type=model.actor_type,
            object_type=model.object_type,
            object_id=model.object_id,
            summary=JSON(model.summary),
            created_at=model.created_at,
        )


@strawberry.input(description="Which entries; every condition given must hold.")
class AuditLogFilter:
    actor: strawberry.ID | None = strawberry.field(
        default=None, description="Done by this user (their id)."
    )
    action: list[str] | None = strawberry.field(
        default=None,
        description="Any of these actions; one ending in '.' is a prefix (`user.` for all).",
    )
    object_type: str | None = strawberry.field(
        default=None, description="Of this kind of object (`Agent`, `User`, ...)."
    )
    object_id: strawberry.ID | None = strawberry.field(
        default=None, description="Of this object: its global id or its UUID."
    )
    since: datetime | None = strawberry.field(default=None, description="At or after this time.")
    until: datetime | None = strawberry.field(default=None, description="Before this time.")

    def to_filter(self) -> audit_log.AuditFilter:
        actor = None
        if self.actor is not None:
            type_name, actor = from_global_id(self.actor, argument="filter.actor")
            if type_name != "User":
                raise BadInputError("filter.actor", f"expected an id of a User, got a {type_name}")
        return audit_log.AuditFilter(
            actor_id=actor,
            actions=self.action,
            object_type=self.object_type,
            object_id=_local_id(self.object_id) if self.object_id is not None else None,
            since=self.since,
            until=self.until,
        )


def _local_id(value: str) -> str:
    # A UUID as logged, or a global id of any type (the log keeps local ids).
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return str(from_global_id(value, argument="filter.objectId")[1])


@strawberry.type
class AuditQuery:
    @strawberry.field(
        permission_classes=ADMINS,
        description="The organization's audit log, newest first (admins only): who did "
        "what, when, from which address, with the recorded change.",
    )
    async def audit_log(
        self,
        info: strawberry.Info[Context],
        first: Annotated[
            int | None, strawberry.argument(description=f"Page size ({PAGE_SIZE_BOUNDS}).")
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="Cursor to continue after.")
        ] = None,
        filter: Annotated[
            AuditLogFilter | None, strawberry.argument(description="Which entries.")
        ] = None,
    ) -> Connection[AuditEntry]:
        size = _page_size(info, first, "first")
        page, query = await audit_log.list_entries(
            info,
            first=size,
            after=after,
            filter_=filter.to_filter() if filter else audit_log.AuditFilter(),
        )
        return Connection.from_page(
            page, AuditEntry.from_model, lambda: audit_log.count(info, query)
        )


def _page_size(info: strawberry.Info[Context], first: int | None, argument: str) -> int:
    limit = info.context.services.settings.max_page_size
    size = DEFAULT_PAGE_SIZE if first is None else first
    if not 0 <= size <= limit:
        raise BadInputError(argument, f"must be from 0 to {limit}, got {size}")
    return size


HistoryFirst = Annotated[
    int, strawberry.argument(description=f"How many of the latest entries (at most {MAX_HISTORY}).")
]


async def history_of(
    info: strawberry.Info[Context], object_type: str, object_id: uuid.UUID, first: int
) -> list[AuditEntry]:
    """The latest entries of an object the caller may read (it was loaded through the
    access rules before this field could be asked for)."""
    if not 0 <= first <= MAX_HISTORY:
        raise BadInputError("first", f"must be from 0 to {MAX_HISTORY}, got {first}")
    entries = await info.context.loaders.audit_entries_by_object.load(
        (object_type, str(object_id), first)
    )
    return [AuditEntry.from_model(entry) for entry in entries]

"""Reading the audit log: `auditLog` for admins, and the history of one object.

Pages run newest first by the entry's id (an identity column: later entries have larger
ids), so a cursor is the id of the last entry seen and the next page is an index range scan
on `(organization_id, id)`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Select, or_, select

from models.sql import AuditLogEntry
from resolvers import cursors
from resolvers.pagination import Page
from resolvers.sql_pages import count_rows

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context


@dataclass(frozen=True)
class AuditFilter:
    actor_id: uuid.UUID | None = None
    actions: list[str] | None = None  # exact names, or prefixes ending in "." (`user.`)
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


# The codec (`resolvers.cursors`) under the names the callers know.
encode_cursor = cursors.encode_audit
decode_cursor = cursors.decode_audit


def _conditions(info: Info[Context], filter_: AuditFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        AuditLogEntry.organization_id == info.context.principal.organization_id
    ]
    if filter_.actor_id is not None:
        conditions.append(AuditLogEntry.actor_id == filter_.actor_id)
    if filter_.actions:
        exact = [a for a in filter_.actions if not a.endswith(".")]
        prefixes = [a for a in filter_.actions if a.endswith(".")]
        terms: list[ColumnElement[bool]] = [AuditLogEntry.action.in_(exact)] if exact else []
        terms += [AuditLogEntry.action.startswith(p, autoescape=True) for p in prefixes]
        conditions.append(or_(*terms))
    if filter_.object_type is not None:
        conditions.append(AuditLogEntry.object_type == filter_.object_type)
    if filter_.object_id is not None:
        conditions.append(AuditLogEntry.object_id == filter_.object_id)
    if filter_.since is not None:
        conditions.append(AuditLogEntry.created_at >= filter_.since)
    if filter_.until is not None:
        conditions.append(AuditLogEntry.created_at < filter_.until)
    return conditions


async def list_entries(
    info: Info[Context], *, first: int, after: str | None, filter_: AuditFilter
) -> tuple[Page[AuditLogEntry], Select[AuditLogEntry]]:
    """A page of entries, newest first, and the query its `totalCount` counts."""
    query = select(AuditLogEntry).where(*_conditions(info, filter_))
    paged = query
    if after is not None:
        paged = paged.where(AuditLogEntry.id < decode_cursor(after))
    paged = paged.order_by(AuditLogEntry.id.desc()).limit(first + 1)
    async with info.context.services.postgres.session() as session:
        rows = list((await session.scalars(paged)).all())
    page = Page(
        items=rows[:first],
        cursors=[encode_cursor(row.id) for row in rows[:first]],
        has_next_page=len(rows) > first,
        has_previous_page=after is not None,
    )
    return page, query


async def count(info: Info[Context], query: Select[AuditLogEntry]) -> int:
    async with info.context.services.postgres.session() as session:
        return await count_rows(session, query)

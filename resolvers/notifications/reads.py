"""Reading one's notifications and marking them read. Everyone reads only their own, and
only those about workflows they may still read (access can be withdrawn after the fact)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, func, or_, select, update

from models.sql import Notification
from models.sql.base import utcnow
from resolvers import access
from resolvers.mutations.errors import InvalidInputError
from resolvers.pagination import Page, PageRequest
from resolvers.sorting import _number
from resolvers.sql_pages import SortKey, count_rows, fetch_page
from resolvers.validation import values
from resolvers.validation.issues import IssueCode, Issues

if TYPE_CHECKING:
    from flowgate.principal import Principal
    from flowgate.services import Services

MAX_IDS = 100
NEWEST_FIRST = SortKey(Notification.seq, lambda n: n.seq, _number)


def visible(principal: Principal, readable: frozenset[str] | None) -> list[ColumnElement[bool]]:
    """The principal's own notifications, about no workflow or one they may read."""
    conditions: list[ColumnElement[bool]] = [
        Notification.organization_id == principal.organization_id,
        Notification.user_id == principal.user_id,
    ]
    if readable is not None:
        conditions.append(
            or_(
                Notification.workflow_id.is_(None),
                Notification.workflow_id.in_(access.readable_ids_parameter(readable)),
            )
        )
    return conditions


def listing(
    principal: Principal, readable: frozenset[str] | None, *, unread_only: bool
) -> Select[Any]:
    query = select(Notification).where(*visible(principal, readable))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query


async def list_notifications(
    services: Services, query: Select[Any], page: PageRequest
) -> Page[Notification]:
    async with services.postgres.read_session() as session:
        return await fetch_page(
            session, query, page, sort=NEWEST_FIRST, id_column=Notification.id, descending=True
        )


async def count(services: Services, query: Select[Any]) -> int:
    async with services.postgres.read_session() as session:
        return await count_rows(session, query)


def check_marking(ids: list[str] | None, every: bool) -> list[uuid.UUID] | None:
    """The ids to mark, or `None` for every one; exactly one of the two must be given."""
    issues = Issues()
    if (ids is None) == (not every):
        issues.add("ids", IssueCode.REQUIRED, "give either `ids` or `all: true`, not both")
        raise InvalidInputError(issues)
    if ids is None:
        return None
    if len(ids) > MAX_IDS:
        issues.add("ids", IssueCode.TOO_MANY, f"at most {MAX_IDS} ids, got {len(ids)}")
        raise InvalidInputError(issues)
    local = [
        values.global_id(issues, f"ids[{index}]", value, "Notification")
        for index, value in enumerate(ids)
    ]
    if issues:
        raise InvalidInputError(issues)
    return [value for value in local if value is not None]


async def mark_read(
    services: Services,
    principal: Principal,
    readable: frozenset[str] | None,
    ids: list[uuid.UUID] | None,
) -> tuple[int, int]:
    """Mark the principal's notifications (those listed, or all) read; returns how many
    changed and how many remain unread. Ids of others' notifications change nothing: they
    are not the principal's to know of."""
    conditions = [*visible(principal, readable), Notification.read_at.is_(None)]
    if ids is not None:
        conditions.append(Notification.id.in_(ids))
    async with services.postgres.session() as session, session.begin():
        result = await session.execute(
            update(Notification).where(*conditions).values(read_at=utcnow())
        )
        unread = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(*visible(principal, readable), Notification.read_at.is_(None))
        )
    return int(result.rowcount or 0), int(unread or 0)  # type: ignore[attr-defined]


async def log_after(
    services: Services,
    principal: Principal,
    readable: frozenset[str] | None,
    seq: int,
    limit: int = 500,
) -> list[Notification]:
    """The principal's notifications after number `seq`, in order: the subscription's
    replay (a recipient's numbers are gap-free and in commit order)."""
    query = (
        select(Notification)
        .where(*visible(principal, readable), Notification.seq > seq)
        .order_by(Notification.seq)
        .limit(limit)
    )
    async with services.postgres.read_session() as session:
        return list((await session.scalars(query)).all())

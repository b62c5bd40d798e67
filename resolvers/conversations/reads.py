"""Reading projects and conversations: the root lists and single objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, select

from models.enums import ConversationStatus, ProjectStatus
from models.sql import Conversation, Project
from resolvers.conversations.access import visible_conversations, visible_projects
from resolvers.filters import Ordering, SortDirection
from resolvers.pagination import Page, PageRequest
from resolvers.sorting import _datetime
from resolvers.sql_pages import SortKey, count_rows, fetch_page

if TYPE_CHECKING:
    from strawberry import Info

    from resolvers.context import Context


class ConversationOrderField(StrEnum):
    UPDATED_AT = "updated_at"
    CREATED_AT = "created_at"


# Without `orderBy`: last updated first.
DEFAULT_CONVERSATION_ORDER: Ordering[ConversationOrderField] = Ordering(
    ConversationOrderField.UPDATED_AT, SortDirection.DESC
)

CONVERSATION_SORT_KEYS = {
    ConversationOrderField.UPDATED_AT: SortKey(
        Conversation.updated_at, lambda c: c.updated_at, _datetime
    ),
    ConversationOrderField.CREATED_AT: SortKey(
        Conversation.created_at, lambda c: c.created_at, _datetime
    ),
}


@dataclass(frozen=True)
class ConversationFilter:
    agent_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    statuses: tuple[ConversationStatus, ...] | None = None
    title_contains: str | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    include_deleted: bool = False


def conversation_conditions(info: Info[Context], filter_: ConversationFilter) -> list[Any]:
    conditions: list[ColumnElement[bool]] = visible_conversations(info.context.principal)
    if not filter_.include_deleted:
        conditions.append(Conversation.deleted_at.is_(None))
    for column, value in (
        (Conversation.agent_id, filter_.agent_id),
        (Conversation.project_id, filter_.project_id),
        (Conversation.user_id, filter_.user_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if filter_.statuses is not None:
        conditions.append(Conversation.status.in_(filter_.statuses))
    if filter_.title_contains is not None:
        conditions.append(Conversation.title.icontains(filter_.title_contains, autoescape=True))
    if filter_.updated_from is not None:
        conditions.append(Conversation.updated_at >= filter_.updated_from)
    if filter_.updated_to is not None:
        conditions.append(Conversation.updated_at < filter_.updated_to)
    return conditions


async def list_conversations(
    info: Info[Context],
    *,
    page: PageRequest,
    filter_: ConversationFilter | None = None,
    order: Ordering[ConversationOrderField] | None = None,
) -> tuple[Page[Conversation], Select[Any]]:
    order = order or DEFAULT_CONVERSATION_ORDER
    query = select(Conversation).where(
        *conversation_conditions(info, filter_ or ConversationFilter())
    )
    async with info.context.services.postgres.session() as session:
        result = await fetch_page(
            session,
            query,
            page,
            sort=CONVERSATION_SORT_KEYS[order.field],
            id_column=Conversation.id,
            descending=order.descending,
        )
    return result, query


# Projects, most recently updated first (the only order they list in).
PROJECT_SORT_KEY = SortKey(Project.updated_at, lambda p: p.updated_at, _datetime)


def project_conditions(
    info: Info[Context], statuses: tuple[ProjectStatus, ...] | None
) -> list[ColumnElement[bool]]:
    """The projects `projects(status:)` lists: those the principal may see, of any of
    `statuses` (all when None)."""
    conditions = visible_projects(info.context.principal)
    if statuses is not None:
        conditions.append(Project.status.in_(statuses))
    return conditions


async def list_projects(
    info: Info[Context], *, page: PageRequest, statuses: tuple[ProjectStatus, ...] | None
) -> tuple[Page[Project], Select[Any]]:
    """Projects, most recently updated first."""
    query = select(Project).where(*project_conditions(info, statuses))
    async with info.context.services.postgres.session() as session:
        result = await fetch_page(
            session,
            query,
            page,
            sort=PROJECT_SORT_KEY,
            id_column=Project.id,
            descending=True,
        )
    return result, query


async def count(info: Info[Context], query: Select[Any]) -> int:
    async with info.context.services.postgres.session() as session:
        return await count_rows(session, query)

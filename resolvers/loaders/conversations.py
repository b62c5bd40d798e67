"""Loaders of the conversations domain: projects, conversations, messages, their tool calls
and attachments, and the nested pages (a conversation's messages, an agent's, a project's
or a user's conversations). Each batch is one round trip, scoped by what the principal may
see (`resolvers.conversations.access`)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import Select, and_, case, func, or_, select, true
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import aliased

from models import sql
from resolvers.conversations.access import (
    MESSAGE_ORDER,
    PROJECT_AGENT_ORDER,
    live_messages,
    project_agents,
    visible_conversations,
    visible_messages,
    visible_projects,
)
from resolvers.loaders.base import ScopedLoader
from resolvers.loaders.keys import in_keys
from resolvers.pagination import Page, encode_cursor


class ProjectByIdLoader(ScopedLoader[uuid.UUID, sql.Project | None]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[sql.Project | None]:
        query = select(sql.Project).where(
            in_keys(sql.Project.id, keys), *visible_projects(self.principal)
        )
        return await _by_key(self, query, keys, "id")


class ConversationByIdLoader(ScopedLoader[uuid.UUID, sql.Conversation | None]):
    # Deleted ones load too: a resolver decides whether a deleted conversation is shown.
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[sql.Conversation | None]:
        query = select(sql.Conversation).where(
            in_keys(sql.Conversation.id, keys), *visible_conversations(self.principal)
        )
        return await _by_key(self, query, keys, "id")


class MessageByIdLoader(ScopedLoader[uuid.UUID, sql.Message | None]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[sql.Message | None]:
        query = select(sql.Message).where(
            in_keys(sql.Message.id, keys), *visible_messages(self.principal)
        )
        return await _by_key(self, query, keys, "id")


class LastMessageByConversationLoader(ScopedLoader[uuid.UUID, sql.Message | None]):
    """The newest of the messages a conversation's pages show (the compiled path takes its
    terms and order too: `schema.compiled.messages`)."""

    parent = "conversation_id"

    def conditions(self) -> list[Any]:
        return live_messages(self.principal)

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[sql.Message | None]:
        # DISTINCT ON: the last message of each conversation, read off the
        # (conversation_id, position) index backwards.
        query = (
            select(sql.Message)
            .where(in_keys(sql.Message.conversation_id, keys), *self.conditions())
            .order_by(sql.Message.conversation_id, MESSAGE_ORDER.desc())
            # `.ext(distinct_on(...))`: SQLAlchemy 2.1 deprecates `.distinct(column)`.
            .ext(distinct_on(sql.Message.conversation_id))
        )
        return await _by_key(self, query, keys, "conversation_id")


class _ListByParentLoader(ScopedLoader[uuid.UUID, list[Any]]):
    """Every row of each parent, in `order` (then id). The compiled path takes its terms and
    order too (`schema.compiled.messages`)."""

    model: ClassVar[Any]
    parent: ClassVar[str]
    order: ClassVar[str]

    def conditions(self) -> list[Any]:
        return [type(self).model.organization_id == self.principal.organization_id]

    def ordering(self) -> tuple[Any, Any]:
        model = type(self).model
        return getattr(model, self.order), model.id

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[Any]]:
        model = type(self).model
        query = (
            select(model)
            .where(in_keys(getattr(model, self.parent), keys), *self.conditions())
            .order_by(*self.ordering())
        )
        async with self.services.postgres.read_session() as session:
            rows = (await session.scalars(query)).all()
        grouped: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for row in rows:
            grouped[getattr(row, self.parent)].append(row)
        return [grouped.get(key, []) for key in keys]


class ToolCallsByMessageLoader(_ListByParentLoader):
    model = sql.ToolCall
    parent = "message_id"
    order = "started_at"


class AttachmentsByMessageLoader(_ListByParentLoader):
    model = sql.Attachment
    parent = "message_id"
    order = "name"


class AgentsByProjectLoader(ScopedLoader[uuid.UUID, list[sql.Agent]]):
    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[sql.Agent]]:
        query = (
            select(sql.ProjectAgent.project_id, sql.Agent)
            .join(sql.Agent, sql.Agent.id == sql.ProjectAgent.agent_id)
            .where(in_keys(sql.ProjectAgent.project_id, keys), *project_agents(self.principal))
            .order_by(*PROJECT_AGENT_ORDER)
        )
        async with self.services.postgres.read_session() as session:
            rows = (await session.execute(query)).all()
        grouped: dict[uuid.UUID, list[sql.Agent]] = defaultdict(list)
        for project_id, agent in rows:
            grouped[project_id].append(agent)
        return [grouped.get(key, []) for key in keys]


class BranchesByConversationLoader(ScopedLoader[uuid.UUID, list[sql.Conversation]]):
    """A conversation's live branches that the principal may see, oldest first (the compiled
    path takes its terms and order too: `schema.compiled.messages`)."""

    model = sql.Conversation
    parent = "parent_id"

    def conditions(self) -> list[Any]:
        return [sql.Conversation.deleted_at.is_(None), *visible_conversations(self.principal)]

    def ordering(self) -> tuple[Any, Any]:
        return sql.Conversation.created_at, sql.Conversation.id

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[sql.Conversation]]:
        query = (
            select(sql.Conversation)
            .where(in_keys(getattr(self.model, self.parent), keys), *self.conditions())
            .order_by(*self.ordering())
        )
        async with self.services.postgres.read_session() as session:
            rows = (await session.scalars(query)).all()
        grouped: dict[uuid.UUID, list[sql.Conversation]] = defaultdict(list)
        for row in rows:
            if row.parent_id is not None:  # always, by the WHERE clause
                grouped[row.parent_id].append(row)
        return [grouped.get(key, []) for key in keys]


@dataclass(frozen=True)
class WindowArgs:
    """A nested page: `limit` rows after (or, `backward`, before) the `cursor` position."""

    limit: int
    cursor: int | None = None
    backward: bool = False


@dataclass
class CountedPage:
    page: Page[Any]
    total: int


WindowKey = tuple[uuid.UUID, WindowArgs]


class _WindowPageLoader(ScopedLoader[WindowKey, CountedPage]):
    """Each parent's own page and total in one query: `row_number()` and `count(*)` over a
    window partitioned by the parent (as `resolvers.loaders.pages` does for executions)."""

    model: ClassVar[Any]
    parent: ClassVar[str]

    def conditions(self) -> list[Any]:
        raise NotImplementedError

    def sort(self, args: WindowArgs) -> tuple[Any, bool]:
        """The sort column and whether it runs descending."""
        raise NotImplementedError

    def cursor_of(self, row: Any) -> str:
        raise NotImplementedError

    def past(self, args: WindowArgs) -> Any:
        """The rows past the cursor, in the page's direction: by the sort column alone (the
        cursor's id is not read)."""
        if args.cursor is None:
            return true()
        column, descending = self.sort(args)
        return column < args.cursor if descending else column > args.cursor

    async def batch_load_fn(self, keys: Sequence[WindowKey]) -> list[CountedPage]:
        by_args: dict[WindowArgs, list[uuid.UUID]] = defaultdict(list)
        for parent_id, args in keys:
            by_args[args].append(parent_id)
        pages: dict[WindowKey, CountedPage] = {}
        async with self.services.postgres.read_session() as session:
            for args, parents in by_args.items():
                rows = (await session.execute(self._query(args, parents))).all()
                pages.update(self._pages(args, parents, rows))
        return [pages[key] for key in keys]

    def _query(self, args: WindowArgs, parents: list[uuid.UUID]) -> Select[Any]:
        model = type(self).model
        parent = getattr(model, self.parent)
        column, descending = self.sort(args)
        order = (column.desc(), model.id.desc()) if descending else (column.asc(), model.id.asc())
        # The cursor stays out of the WHERE clause: the total and the ranks count the whole
        # list, and `skipped` (the rows up to the cursor, ranked first) comes from the same
        # window (as `resolvers.loaders.pages` does for executions).
        past = self.past(args)
        ranked = (
            select(
                model,
                func.row_number().over(partition_by=parent, order_by=order).label("rank"),
                func.count().over(partition_by=parent).label("total"),
                func.sum(case((past, 0), else_=1)).over(partition_by=parent).label("skipped"),
            )
            .where(in_keys(parent, parents), *self.conditions())
            .subquery()
        )
        row = aliased(model, ranked)
        rank, skipped = ranked.c.rank, ranked.c.skipped
        return (
            select(row, ranked.c.total, skipped, rank)
            # Each parent's first row too, which carries its total when the page is empty.
            .where(or_(rank == 1, and_(rank > skipped, rank <= skipped + args.limit + 1)))
            .order_by(ranked.c[self.parent], rank)
        )

    def _pages(
        self, args: WindowArgs, parents: list[uuid.UUID], rows: Sequence[Any]
    ) -> dict[WindowKey, CountedPage]:
        grouped: dict[uuid.UUID, list[Any]] = defaultdict(list)
        totals: dict[uuid.UUID, int] = {}
        for row, total, skipped, rank in rows:
            key = getattr(row, self.parent)
            totals[key] = total
            if rank > skipped:
                grouped[key].append(row)
        out = {}
        for parent_id in parents:
            items = grouped[parent_id]
            more = len(items) > args.limit
            items = items[: args.limit]
            if args.backward:
                items.reverse()
            page = Page(
                items=items,
                cursors=[self.cursor_of(item) for item in items],
                has_next_page=more if not args.backward else args.cursor is not None,
                has_previous_page=more if args.backward else args.cursor is not None,
            )
            out[(parent_id, args)] = CountedPage(page, totals.get(parent_id, 0))
        return out


class MessagePageByConversationLoader(_WindowPageLoader):
    """Oldest first; `last`/`before` pages backwards from the newest ("load earlier")."""

    model = sql.Message
    parent = "conversation_id"

    def conditions(self) -> list[Any]:
        return live_messages(self.principal)

    def sort(self, args: WindowArgs) -> tuple[Any, bool]:
        return MESSAGE_ORDER, args.backward

    def cursor_of(self, row: Any) -> str:
        return encode_cursor(row.position, row.id)


class _ConversationPageLoader(_WindowPageLoader):
    """Live conversations the principal may see, most recently updated first."""

    model = sql.Conversation

    def conditions(self) -> list[Any]:
        return [sql.Conversation.deleted_at.is_(None), *visible_conversations(self.principal)]

    def sort(self, args: WindowArgs) -> tuple[Any, bool]:
        return sql.Conversation.updated_at, True

    def cursor_of(self, row: Any) -> str:
        return encode_cursor(row.updated_at, row.id)


class ConversationPageByAgentLoader(_ConversationPageLoader):
    parent = "agent_id"


class ConversationPageByProjectLoader(_ConversationPageLoader):
    parent = "project_id"


class ConversationPageByUserLoader(_ConversationPageLoader):
    parent = "user_id"


async def _by_key(
    loader: ScopedLoader[Any, Any], query: Select[Any], keys: Sequence[uuid.UUID], field: str
) -> list[Any]:
    async with loader.services.postgres.read_session() as session:
        rows = (await session.scalars(query)).all()
    found = {getattr(row, field): row for row in rows}
    return [found.get(key) for key in keys]

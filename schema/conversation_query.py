"""Root fields of the conversations domain: projects and conversations."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated

import strawberry

from models import enums
from resolvers.context import Context
from resolvers.conversations import reads
from resolvers.filters import Ordering, SortDirection
from resolvers.ids import parse_id
from schema.connection import (
    After,
    Before,
    Connection,
    First,
    Id,
    Last,
    page_request,
    paginate,
    root_connection,
)
from schema.conversation import Conversation
from schema.filters import _utc
from schema.permissions import READERS
from schema.project import Project
from schema.tool_usage import ToolUsage, resolve_tool_usage

strawberry.enum(reads.ConversationOrderField, description="What conversations sort by.")


@strawberry.input(description="Which conversations to list; all conditions must hold.")
class ConversationFilter:
    agent_id: strawberry.ID | None = strawberry.field(default=None, description="With this agent.")
    project_id: strawberry.ID | None = strawberry.field(
        default=None, description="In this project."
    )
    user_id: strawberry.ID | None = strawberry.field(default=None, description="Of this user.")
    status: list[enums.ConversationStatus] | None = strawberry.field(
        default=None, description="Any of."
    )
    title_contains: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the title."
    )
    updated_from: datetime | None = strawberry.field(default=None, description="Updated since.")
    updated_to: datetime | None = strawberry.field(default=None, description="Updated before.")
    include_deleted: bool = strawberry.field(
        default=False, description="Deleted (restorable) ones too."
    )

    def to_filter(self) -> reads.ConversationFilter:
        from resolvers.filters import check_text

        return reads.ConversationFilter(
            agent_id=parse_id(self.agent_id, "Agent", argument="filter.agentId")
            if self.agent_id
            else None,
            project_id=parse_id(self.project_id, "Project", argument="filter.projectId")
            if self.project_id
            else None,
            user_id=parse_id(self.user_id, "User", argument="filter.userId")
            if self.user_id
            else None,
            statuses=tuple(self.status) if self.status is not None else None,
            title_contains=check_text(self.title_contains, "filter.titleContains"),
            updated_from=_utc(self.updated_from, "filter.updatedFrom"),
            updated_to=_utc(self.updated_to, "filter.updatedTo"),
            include_deleted=self.include_deleted,
        )


@strawberry.input(description="How to order conversations.")
class ConversationOrder:
    field: reads.ConversationOrderField = strawberry.field(description="What to sort by.")
    direction: SortDirection = strawberry.field(
        default=SortDirection.DESC, description="Default: descending."
    )

    def to_ordering(self) -> Ordering[reads.ConversationOrderField]:
        return Ordering(reads.ConversationOrderField(self.field), self.direction)


@strawberry.type(description="Projects and conversations.")
class ConversationQuery:
    @strawberry.field(
        permission_classes=READERS,
        description="Projects of your organization (all members see them), last updated first.",
    )
    async def projects(
        self,
        info: strawberry.Info[Context],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        status: Annotated[
            list[enums.ProjectStatus] | None, strawberry.argument(description="Any of.")
        ] = None,
    ) -> Connection[Project]:
        return await paginate(
            reads.list_projects(
                info,
                page=page_request(info, first, after, last, before),
                statuses=tuple(status) if status is not None else None,
            ),
            Project.from_model,
            partial(reads.count, info),
        )

    @strawberry.field(permission_classes=READERS, description="A project by id, or null.")
    async def project(self, info: strawberry.Info[Context], id: Id) -> Project | None:
        model = await info.context.loaders.project_by_id.load(parse_id(id, "Project"))
        return Project.from_model(model) if model is not None else None

    conversations = root_connection(
        description="Conversations you can see (yours, those in projects, all for admins), "
        "last updated first unless `orderBy` says otherwise.",
        node=Conversation,
        from_model=Conversation.from_model,
        filter_type=ConversationFilter,
        filter_description="Which ones.",
        order_type=ConversationOrder,
        order_description="Default: last updated.",
        listed=reads.list_conversations,
        count=reads.count,
    )

    @strawberry.field(
        permission_classes=READERS,
        description="A conversation by id (deleted ones too, with `deletedAt`), or null.",
    )
    async def conversation(self, info: strawberry.Info[Context], id: Id) -> Conversation | None:
        model = await info.context.loaders.conversation_by_id.load(parse_id(id, "Conversation"))
        return Conversation.from_model(model) if model is not None else None

    tool_usage: list[ToolUsage] = strawberry.field(
        resolver=resolve_tool_usage,
        permission_classes=READERS,
        description="Tool (MCP) calls of the conversations you can see: calls, failures, "
        "duration percentiles and cost, grouped by tool, server, user or day, most calls first.",
    )

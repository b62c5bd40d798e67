"""What conversations and projects compile to: the `conversations` and `projects` roots'
listings and a parent's conversations (`Agent.conversations`, ...), under the resolvers' own
terms and order."""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import FromClause

from models import sql
from resolvers.compiled import statements
from resolvers.compiled.sql import Expression
from resolvers.compiled.statements import Listing
from resolvers.conversations.reads import (
    CONVERSATION_SORT_KEYS,
    DEFAULT_CONVERSATION_ORDER,
    PROJECT_SORT_KEY,
    ConversationFilter,
    conversation_conditions,
    project_conditions,
)
from resolvers.loaders.conversations import WindowArgs
from resolvers.sql_pages import SortKey
from schema.compiled.plan import ConnectionPlan, Relation
from schema.connection import page_request
from schema.filters import filter_of, ordering_of

if TYPE_CHECKING:
    from schema.compiled.bind import Binder


async def projects(binder: Binder, args: dict[str, Any]) -> Listing:
    """The `projects` root's rows, as `reads.list_projects` lists them: last updated first."""
    statuses = args.get("status")
    return Listing(
        sql.Project,
        project_conditions(binder.info, tuple(statuses) if statuses is not None else None),
        PROJECT_SORT_KEY,
        True,
    )


async def conversations(binder: Binder, args: dict[str, Any]) -> Listing:
    """The `conversations` root's rows, as `reads.list_conversations` lists them."""
    conversation_filter = filter_of(args.get("filter")) or ConversationFilter()
    conversation_order = ordering_of(args.get("order_by")) or DEFAULT_CONVERSATION_ORDER
    binder.names_the_user()
    return Listing(
        sql.Conversation,
        conversation_conditions(binder.info, conversation_filter),
        CONVERSATION_SORT_KEYS[conversation_order.field],
        conversation_order.descending,
    )


def nested_conversations(
    binder: Binder,
    relation: Relation,
    loader_name: str,
    target: ConnectionPlan,
    parent: FromClause,
) -> Expression:
    """A parent's conversations as `nested_conversations` pages them with its loader:
    the first `first` (checked by `page_request`) under the loader's terms and order."""
    args = binder.arguments(relation.field_def, relation.details)
    limit = page_request(binder.info, args["first"], None).limit
    loader = getattr(binder.info.context.loaders, loader_name)
    column, descending = loader.sort(WindowArgs(limit=limit))
    binder.names_the_user()
    listing = Listing(
        loader.model,
        loader.conditions(),
        SortKey(column, attrgetter(column.key)),
        descending,
    )
    return statements.nested_connection(
        binder.shape(target), listing, limit, lambda t: t.c[loader.parent] == parent.c.id
    )

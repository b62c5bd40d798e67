"""Compiled relations of the conversation domain beyond conversations themselves: a
conversation's messages (paged both ways) and its last message, and a project's agents.

Each takes its terms, order and parent column from the request's loader of it
(`MessagePageByConversationLoader`, `LastMessageByConversationLoader`,
`AgentsByProjectLoader`, through `resolvers.conversations.access`): one definition, two uses.
Arguments are checked by the functions the resolvers call (`page_request`,
`message_position`), so a bad one raises the same error and the resolvers report it."""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING

from sqlalchemy import FromClause

from models import sql
from resolvers.compiled import windows
from resolvers.compiled.sql import Expression
from resolvers.compiled.statements import Listing
from resolvers.conversations.access import MESSAGE_ORDER, PROJECT_AGENT_ORDER, project_agents
from resolvers.loaders.conversations import WindowArgs
from resolvers.sql_pages import SortKey
from schema.compiled.plan import ConnectionPlan, ListPlan, ObjectPlan, Relation
from schema.connection import page_request
from schema.conversation import message_position

if TYPE_CHECKING:
    from schema.compiled.bind import Binder

# `Message.usage`: a resolver of the message's own row (its token columns).
RELATIONS = frozenset(
    {"Conversation.messages", "Conversation.lastMessage", "Project.agents", "Message.usage"}
)


def relation(binder: Binder, relation: Relation, parent: FromClause) -> Expression:
    path, target = relation.path, relation.target
    if path == "Message.usage" and isinstance(target, ObjectPlan):
        return binder._object(target)(parent)
    if path == "Conversation.messages" and isinstance(target, ConnectionPlan):
        return _messages(binder, relation, target, parent)
    if path == "Conversation.lastMessage" and isinstance(target, ObjectPlan):
        loader = binder.info.context.loaders.last_message_by_conversation
        return windows.newest(
            sql.Message,
            binder._object(target),
            loader.conditions(),
            lambda t: t.c[loader.parent] == parent.c.id,
            MESSAGE_ORDER,
        )
    if path == "Project.agents" and isinstance(target, ListPlan):
        return windows.joined_rows(
            sql.ProjectAgent,
            sql.Agent,
            binder._object(target.item),
            lambda link, agent: agent.c.id == link.c.agent_id,
            project_agents(binder.principal),
            lambda link: link.c.project_id == parent.c.id,
            PROJECT_AGENT_ORDER,
        )
    raise TypeError(f"no compiled form of {path}")


def _messages(
    binder: Binder, relation: Relation, target: ConnectionPlan, parent: FromClause
) -> Expression:
    """A conversation's messages as `Conversation.messages` pages them with its loader."""
    args = binder.arguments(relation.field_def, relation.details)
    request = page_request(
        binder.info, args.get("first"), args.get("after"), args.get("last"), args.get("before")
    )
    cursor = message_position(request)
    window = WindowArgs(limit=request.limit, cursor=cursor, backward=request.backward)
    loader = binder.info.context.loaders.message_page_by_conversation
    column, descending = loader.sort(window)
    listing = Listing(
        loader.model, loader.conditions(), SortKey(column, attrgetter(column.key)), descending
    )
    return windows.window_connection(
        binder._shape(target),
        listing,
        window.limit,
        lambda t: t.c[loader.parent] == parent.c.id,
        loader.past(window),
        backward=window.backward,
        had_cursor=cursor is not None,
    )

"""Compiled relations of the conversation domain beyond conversations themselves: a
conversation's messages (paged both ways), its last message, the message it forked from and
its branches; a message's usage, tool calls and attachments; a project's agents.

Each takes its terms, order and parent column from the request's loader of it
(`MessagePageByConversationLoader`, `LastMessageByConversationLoader`, the list loaders)
or from the rules those loaders use (`resolvers.conversations.access`): one definition, two
uses.
Arguments are checked by the functions the resolvers call (`page_request`,
`message_position`), so a bad one raises the same error and the resolvers report it."""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING

from sqlalchemy import FromClause
from sqlalchemy.sql.util import ClauseAdapter

from models import sql
from resolvers.compiled import statements, windows
from resolvers.compiled.sql import Expression
from resolvers.compiled.statements import Listing, sql_clause
from resolvers.conversations.access import (
    MESSAGE_ORDER,
    PROJECT_AGENT_ORDER,
    project_agents,
    visible_messages,
)
from resolvers.loaders.conversations import WindowArgs
from resolvers.sql_pages import SortKey
from schema.compiled.plan import ConnectionPlan, ListPlan, ObjectPlan, Relation
from schema.connection import page_request
from schema.conversation import message_position

if TYPE_CHECKING:
    from schema.compiled.bind import Binder

# Lists of rows under a parent: the request's loader of each, whose terms, order and parent
# column the statement takes (`_ListByParentLoader`, `BranchesByConversationLoader`).
_LISTS = {
    "Message.toolCalls": "tool_calls_by_message",
    "Message.attachments": "attachments_by_message",
    "Conversation.branches": "branches_by_conversation",
}
# `Message.usage`: a resolver of the message's own row (its token columns).
RELATIONS = frozenset(
    {
        "Conversation.messages",
        "Conversation.lastMessage",
        "Project.agents",
        "Message.usage",
        "Conversation.forkedFrom",
        *_LISTS,
    }
)


def relation(binder: Binder, relation: Relation, parent: FromClause) -> Expression:
    path, target = relation.path, relation.target
    if path == "Message.usage" and isinstance(target, ObjectPlan):
        return binder.object_json(target)(parent)
    if path == "Conversation.messages" and isinstance(target, ConnectionPlan):
        return _messages(binder, relation, target, parent)
    if path == "Conversation.lastMessage" and isinstance(target, ObjectPlan):
        loader = binder.info.context.loaders.last_message_by_conversation
        return windows.newest(
            sql.Message,
            binder.object_json(target),
            loader.conditions(),
            lambda t: t.c[loader.parent] == parent.c.id,
            MESSAGE_ORDER,
        )
    if path == "Conversation.forkedFrom" and isinstance(target, ObjectPlan):
        binder.names_the_user()  # a member's visible conversations name them
        return statements.to_one(
            sql.Message,
            binder.object_json(target),
            lambda t: [
                t.c.id == parent.c.forked_from_message_id,
                *(ClauseAdapter(t).traverse(term) for term in visible_messages(binder.principal)),
            ],
        )
    if path in _LISTS and isinstance(target, ListPlan):
        listed = getattr(binder.info.context.loaders, _LISTS[path])
        if listed.model is sql.Conversation:
            binder.names_the_user()  # a member's visible conversations name them
        return statements.to_many(
            listed.model,
            binder.object_json(target.item),
            lambda t: [
                t.c[listed.parent] == parent.c.id,
                *(ClauseAdapter(t).traverse(term) for term in listed.conditions()),
            ],
            lambda t: [ClauseAdapter(t).traverse(sql_clause(o)) for o in listed.ordering()],
        )
    if path == "Project.agents" and isinstance(target, ListPlan):
        return windows.joined_rows(
            sql.ProjectAgent,
            sql.Agent,
            binder.object_json(target.item),
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
        binder.shape(target),
        listing,
        window.limit,
        lambda t: t.c[loader.parent] == parent.c.id,
        loader.past(window),
        backward=window.backward,
        had_cursor=cursor is not None,
    )

"""Who may read a conversation: the rule, and the forms of it that live below the resolvers.

A conversation belongs to its user. Other members of the organization read it only while it
is held in a project that is not deleted: holding a conversation in a project is how it is
shared (projects are organization-wide workspaces, with no membership list of their own).
Admins read every conversation of their organization.

The SQL predicates of `resolvers.conversations.access` and a search document's readers
(`readers`) both come from here. It lives with the models, as `models.access` does for
workflows, because the search indexer (an adapter, below the resolvers) needs the readers."""

from __future__ import annotations

import uuid
from typing import Final

from sqlalchemy import ColumnElement

from models.enums import ProjectStatus
from models.sql import Conversation, Project

# A project in one of these statuses no longer shares what it holds.
UNSHARED: Final = frozenset({ProjectStatus.DELETED})


def shares(project: Project | None) -> bool:
    """Whether the conversations held in `project` are readable by every member."""
    return project is not None and project.status not in UNSHARED


def sharing_project() -> ColumnElement[bool]:
    """`shares` as a SQL predicate on projects."""
    return Project.status.not_in(UNSHARED)


def readers(conversation: Conversation, project: Project | None) -> tuple[uuid.UUID, ...] | None:
    """A search document's readers (admins read everything anyway): `None` (every member)
    when the conversation is held in a sharing project, else its user alone. `project` is
    the conversation's, if it has one and it exists."""
    if conversation.project_id is not None and shares(project):
        return None
    return (conversation.user_id,)

"""Which conversations and projects a principal may read and change: the rules of
`resolvers.conversations`, as SQL predicates and Python checks. Who may read a conversation
is decided in `models.conversation_access`; this module turns it into queries."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select

from flowgate.principal import Principal
from models.conversation_access import sharing_project
from models.enums import UserRole
from models.sql import Conversation, Project
from resolvers.access import is_admin


def visible_projects(principal: Principal) -> list[ColumnElement[bool]]:
    """Projects of the organization that are not deleted: visible to every member (and
    sharing the conversations they hold, `models.conversation_access`)."""
    return [Project.organization_id == principal.organization_id, sharing_project()]


def visible_conversations(principal: Principal) -> list[ColumnElement[bool]]:
    """The principal's own conversations, those held in a live project, or (admins) all of
    the organization's."""
    conditions: list[ColumnElement[bool]] = [
        Conversation.organization_id == principal.organization_id
    ]
    if not is_admin(principal):
        shared = select(Project.id).where(*visible_projects(principal))
        conditions.append(
            or_(Conversation.user_id == principal.user_id, Conversation.project_id.in_(shared))
        )
    return conditions


def may_change_conversation(principal: Principal, conversation: Conversation) -> bool:
    """Post in, rename, archive, delete, branch or stop: its user, or an admin."""
    return is_admin(principal) or (
        principal.role is UserRole.USER and conversation.user_id == principal.user_id
    )


def may_change_project(principal: Principal, project: Project) -> bool:
    return is_admin(principal) or (
        principal.role is UserRole.USER and project.owner_id == principal.user_id
    )

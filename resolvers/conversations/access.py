"""Which conversations and projects a principal may read and change: the rules of
`resolvers.conversations`, as SQL predicates and Python checks. Who may read a conversation
is decided in `models.conversation_access`; this module turns it into queries."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from flowgate.principal import Principal
from models.conversation_access import sharing_project
from models.enums import UserRole
from models.sql import Agent, Conversation, Message, Project, ProjectAgent
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


def visible_messages(principal: Principal) -> list[ColumnElement[bool]]:
    """Messages (deleted ones too) of the conversations the principal may see: a message
    looked up by id."""
    visible = select(Conversation.id).where(*visible_conversations(principal))
    return [Message.conversation_id.in_(visible)]


def live_messages(principal: Principal) -> list[ColumnElement[bool]]:
    """The messages a conversation shows (its pages, its last message): those of the
    organization that are not deleted. Who may see the conversation is decided before."""
    return [Message.organization_id == principal.organization_id, Message.deleted_at.is_(None)]


# A conversation's messages in their order: oldest first, by position (1, 2, 3, ...).
MESSAGE_ORDER: InstrumentedAttribute[int] = Message.position


def project_agents(principal: Principal) -> list[ColumnElement[bool]]:
    """The agents a project lists, over its links (`ProjectAgent` joined to `Agent`): the
    organization's links, to agents that are not deleted."""
    return [ProjectAgent.organization_id == principal.organization_id, Agent.deleted_at.is_(None)]


# How a project lists its agents: by name (then id, for equal names).
PROJECT_AGENT_ORDER = (Agent.name, Agent.id)


def may_change_conversation(principal: Principal, conversation: Conversation) -> bool:
    """Post in, rename, archive, delete, branch or stop: its user, or an admin."""
    return is_admin(principal) or (
        principal.role is UserRole.USER and conversation.user_id == principal.user_id
    )


def may_change_project(principal: Principal, project: Project) -> bool:
    return is_admin(principal) or (
        principal.role is UserRole.USER and project.owner_id == principal.user_id
    )

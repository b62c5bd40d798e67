"""The user's side of a conversation: starting one, posting, renaming, archiving, deleting
(softly) and restoring, and branching at a message. Each change, its audit entry and its
events commit together."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from models.enums import ConversationEventType, ConversationStatus, MessageRole, MessageStatus
from models.sql import Agent, Attachment, Conversation, ConversationEvent, Message, Project
from models.sql.base import utcnow
from resolvers import audit
from resolvers.changes import record_change
from resolvers.conversations import events, limits
from resolvers.conversations.access import visible_projects
from resolvers.conversations.changes import in_conversation
from resolvers.drafts.attachment import AttachmentDraft
from resolvers.lifecycle import idempotency
from resolvers.mutations.errors import InvalidInputError, InvalidTransitionError
from resolvers.validation import values
from resolvers.validation.issues import IssueCode, Issues

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from strawberry import Info

    from resolvers.context import Context


async def add_message(
    session: AsyncSession,
    conversation: Conversation,
    *,
    role: MessageRole,
    content: str,
    parent_id: uuid.UUID | None,
    status: MessageStatus = MessageStatus.COMPLETE,
    attachments: Sequence[AttachmentDraft] = (),
) -> tuple[Message, ConversationEvent]:
    """A new message at the end of the conversation, and its `message_created` event."""
    now = utcnow()
    conversation.message_count += 1
    conversation.last_message_at = now
    conversation.updated_at = now
    message = Message(
        id=uuid.uuid4(),
        organization_id=conversation.organization_id,
        conversation_id=conversation.id,
        position=conversation.message_count,
        parent_id=parent_id,
        role=role,
        content=content,
        status=status,
        created_at=now,
        updated_at=now,
        finished_at=now if status is MessageStatus.COMPLETE else None,
    )
    session.add(message)
    if attachments:
        # No ORM relationships (lazy loads are banned): the flush orders the inserts.
        await session.flush()
    for item in attachments:
        session.add(
            Attachment(
                organization_id=conversation.organization_id, message_id=message.id, **asdict(item)
            )
        )
    event = events.record(
        session,
        conversation,
        ConversationEventType.MESSAGE_CREATED,
        message_id=message.id,
        payload={
            "role": role.value,
            "status": status.value,
            "content": content,
            "parent_id": str(parent_id) if parent_id else None,
        },
    )
    return message, event


async def start_conversation(
    info: Info[Context],
    *,
    agent_id: str,
    project_id: str | None,
    title: str | None,
    message: str,
    attachments: Sequence[AttachmentDraft],
) -> tuple[Conversation, Message]:
    """A new conversation of the principal's user with an agent, and its first message."""
    principal = info.context.principal
    issues = Issues()
    agent_local = values.global_id(issues, "agentId", agent_id, "Agent")
    project_local = (
        values.global_id(issues, "projectId", project_id, "Project") if project_id else None
    )
    content = limits.content(issues, "message", message)
    cleaned_title = limits.title(issues, "title", title) if title is not None else None
    files = limits.attachments(issues, attachments)
    if issues or agent_local is None or content is None:
        raise InvalidInputError(issues)
    async with info.context.services.postgres.session() as session, session.begin():
        agent = await session.scalar(
            select(Agent).where(
                Agent.id == agent_local,
                Agent.organization_id == principal.organization_id,
                Agent.deleted_at.is_(None),
            )
        )
        if agent is None:
            issues.add("agentId", IssueCode.NOT_FOUND, "names no agent in your organization")
        if project_local is not None:
            project = await session.scalar(
                select(Project).where(Project.id == project_local, *visible_projects(principal))
            )
            if project is None:
                issues.add("projectId", IssueCode.NOT_FOUND, "names no project you can see")
        if issues:
            raise InvalidInputError(issues)
        conversation = Conversation(
            id=uuid.uuid4(),
            organization_id=principal.organization_id,
            agent_id=agent_local,
            user_id=principal.user_id,
            project_id=project_local,
            # Untitled: the start of the first message, as chat apps show it.
            title=cleaned_title or " ".join(content.split())[:80] or "Conversation",
            status=ConversationStatus.ACTIVE,
        )
        session.add(conversation)
        await session.flush()  # the row exists before its messages and events reference it
        first, event = await add_message(
            session,
            conversation,
            role=MessageRole.USER,
            content=content,
            parent_id=None,
            attachments=files,
        )
        record_change(
            session,
            info.context.actor,
            action="conversation.start",
            object_type="Conversation",
            object_id=conversation.id,
            summary={"agent_id": str(agent_local), "title": conversation.title},
        )
    await events.publish(info.context.services, [event], conversation.agent_id)
    return conversation, first


async def post_message(
    info: Info[Context],
    *,
    conversation_id: str,
    content: str,
    parent_message_id: str | None,
    attachments: Sequence[AttachmentDraft],
    idempotency_key: str | None,
) -> Message:
    """A user message at the end of the conversation. A client that retries sends the same
    idempotency key and gets the first message back, not a second one."""
    issues = Issues()
    local_id = values.global_id(issues, "conversationId", conversation_id, "Conversation")
    parent_local = (
        values.global_id(issues, "parentMessageId", parent_message_id, "Message")
        if parent_message_id is not None
        else None
    )
    cleaned = limits.content(issues, "content", content)
    files = limits.attachments(issues, attachments)
    if issues or local_id is None or cleaned is None:
        raise InvalidInputError(issues)
    organization_id = info.context.principal.organization_id
    request = {"conversation": str(local_id), "content": cleaned, "parent": parent_message_id}
    digest = idempotency.request_hash("postMessage", request)

    async def work(
        session: AsyncSession, conversation: Conversation
    ) -> tuple[Message, list[ConversationEvent]]:
        stored = await idempotency.replay(
            session, organization_id, idempotency_key, "postMessage", digest
        )
        if stored is not None:
            first = await session.get(Message, uuid.UUID(stored["message_id"]))
            if first is not None:  # else the message was deleted since: answer anew
                return first, []
        require_open(conversation)
        parent = parent_local
        if parent is not None:
            found = await session.scalar(
                select(Message.id).where(
                    Message.id == parent, Message.conversation_id == conversation.id
                )
            )
            if found is None:
                issues.add(
                    "parentMessageId", IssueCode.NOT_FOUND, "names no message of this conversation"
                )
                raise InvalidInputError(issues)
        else:
            parent = await session.scalar(
                select(Message.id)
                .where(Message.conversation_id == conversation.id)
                .order_by(Message.position.desc())
                .limit(1)
            )
        message, event = await add_message(
            session,
            conversation,
            role=MessageRole.USER,
            content=cleaned,
            parent_id=parent,
            attachments=files,
        )
        idempotency.remember(
            session,
            organization_id,
            idempotency_key,
            "postMessage",
            digest,
            {"message_id": str(message.id)},
        )
        return message, [event]

    return await in_conversation(info, local_id, conversation_id, work)


def require_open(conversation: Conversation) -> None:
    if conversation.deleted_at is not None:
        raise InvalidTransitionError("The conversation is deleted: restore it first")
    if conversation.status is ConversationStatus.ARCHIVED:
        raise InvalidTransitionError("The conversation is archived: unarchive it first")


async def change_conversation(
    info: Info[Context],
    *,
    conversation_id: str,
    action: str,
    title: str | None = None,
) -> Conversation:
    """rename, archive, unarchive, delete, restore: the conversation as it is after."""
    issues = Issues()
    local_id = values.global_id(issues, "id", conversation_id, "Conversation")
    cleaned = limits.title(issues, "title", title) if action == "rename" else None
    if issues or local_id is None:
        raise InvalidInputError(issues)

    async def work(
        session: AsyncSession, conversation: Conversation
    ) -> tuple[Conversation, list[ConversationEvent]]:
        before: dict[str, Any] = {
            "title": conversation.title,
            "status": conversation.status,
            "deleted_at": conversation.deleted_at,
        }
        if action == "rename" and cleaned is not None:
            conversation.title = cleaned
        elif action in {"archive", "unarchive"}:
            conversation.status = (
                ConversationStatus.ARCHIVED if action == "archive" else ConversationStatus.ACTIVE
            )
        elif action == "delete":
            conversation.deleted_at = conversation.deleted_at or utcnow()
        elif action == "restore":
            conversation.deleted_at = None
        after = {
            "title": conversation.title,
            "status": conversation.status,
            "deleted_at": conversation.deleted_at,
        }
        conversation.updated_at = utcnow()
        record_change(
            session,
            info.context.actor,
            action=f"conversation.{action}",
            object_type="Conversation",
            object_id=conversation.id,
            summary=audit.changes(before, after),
        )
        return conversation, []

    return await in_conversation(info, local_id, conversation_id, work)


async def branch_conversation(
    info: Info[Context], *, conversation_id: str, from_message_id: str, title: str | None
) -> Conversation:
    """A new conversation of the principal's user that forks this one after
    `from_message_id`; the original line stays as it is."""
    principal = info.context.principal
    issues = Issues()
    local_id = values.global_id(issues, "conversationId", conversation_id, "Conversation")
    message_local = values.global_id(issues, "fromMessageId", from_message_id, "Message")
    cleaned_title = limits.title(issues, "title", title) if title is not None else None
    if issues or local_id is None or message_local is None:
        raise InvalidInputError(issues)

    async def work(
        session: AsyncSession, source: Conversation
    ) -> tuple[Conversation, list[ConversationEvent]]:
        if source.deleted_at is not None:
            raise InvalidTransitionError("The conversation is deleted: restore it first")
        found = await session.scalar(
            select(Message.id).where(
                Message.id == message_local, Message.conversation_id == source.id
            )
        )
        if found is None:
            issues.add(
                "fromMessageId", IssueCode.NOT_FOUND, "names no message of this conversation"
            )
            raise InvalidInputError(issues)
        branch = Conversation(
            id=uuid.uuid4(),
            organization_id=source.organization_id,
            agent_id=source.agent_id,
            user_id=principal.user_id,
            project_id=source.project_id,
            parent_id=source.id,
            forked_from_message_id=message_local,
            title=cleaned_title or f"{source.title[: limits.MAX_TITLE - 9]} (branch)",
            status=ConversationStatus.ACTIVE,
        )
        session.add(branch)
        record_change(
            session,
            info.context.actor,
            action="conversation.branch",
            object_type="Conversation",
            object_id=branch.id,
            summary={"from_conversation": str(source.id), "from_message": str(message_local)},
        )
        return branch, []

    # Anyone who can see a conversation may branch it: the branch is their own.
    return await in_conversation(info, local_id, conversation_id, work, owner_only=False)

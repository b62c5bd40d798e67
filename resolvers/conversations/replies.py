"""The agent's side: an engine begins a reply, streams it in numbered chunks, records its
tool calls and finishes it; the user may stop it. Every call is safe to retry: a repeated
chunk number, tool call id, finish or stop changes nothing and answers as the first did."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from models.enums import ConversationEventType, MessageRole, MessageStatus, ToolCallStatus
from models.sql import Conversation, ConversationEvent, Message, ToolCall
from models.sql.base import utcnow
from resolvers.conversations import events, limits
from resolvers.conversations.changes import conversation_of_message, in_conversation, message_in
from resolvers.conversations.chats import add_message, require_open
from resolvers.lifecycle import idempotency
from resolvers.mutations.errors import (
    ChunkOutOfOrderError,
    InvalidInputError,
    InvalidTransitionError,
)
from resolvers.validation import values
from resolvers.validation.issues import IssueCode, Issues

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from strawberry import Info

    from resolvers.context import Context


async def begin_reply(
    info: Info[Context], *, conversation_id: str, reply_to: str, idempotency_key: str | None
) -> Message:
    """An empty agent message, `streaming`, answering `reply_to`."""
    issues = Issues()
    local_id = values.global_id(issues, "conversationId", conversation_id, "Conversation")
    reply_local = values.global_id(issues, "replyTo", reply_to, "Message")
    if issues or local_id is None or reply_local is None:
        raise InvalidInputError(issues)
    organization_id = info.context.principal.organization_id
    digest = idempotency.request_hash(
        "beginReply", {"conversation": str(local_id), "reply_to": str(reply_local)}
    )

    async def work(
        session: AsyncSession, conversation: Conversation
    ) -> tuple[Message, list[ConversationEvent]]:
        stored = await idempotency.replay(
            session, organization_id, idempotency_key, "beginReply", digest
        )
        if stored is not None:
            first = await session.get(Message, uuid.UUID(stored["message_id"]))
            if first is not None:  # else the message was deleted since: answer anew
                return first, []
        require_open(conversation)
        found = await session.scalar(
            select(Message.id).where(
                Message.id == reply_local, Message.conversation_id == conversation.id
            )
        )
        if found is None:
            issues.add("replyTo", IssueCode.NOT_FOUND, "names no message of this conversation")
            raise InvalidInputError(issues)
        message, event = await add_message(
            session,
            conversation,
            role=MessageRole.AGENT,
            content="",
            parent_id=reply_local,
            status=MessageStatus.STREAMING,
        )
        idempotency.remember(
            session,
            organization_id,
            idempotency_key,
            "beginReply",
            digest,
            {"message_id": str(message.id)},
        )
        return message, [event]

    return await in_conversation(info, local_id, conversation_id, work, owner_only=False)


async def _on_reply(
    info: Info[Context],
    message_id: str,
    change: Any,
    *,
    owner_only: bool = False,
) -> Message:
    """Run `change(session, conversation, message)` on a reply, under its conversation's
    lock."""
    issues = Issues()
    local_id = values.global_id(issues, "messageId", message_id, "Message")
    if issues or local_id is None:
        raise InvalidInputError(issues)
    conversation_id = await conversation_of_message(info, local_id, message_id)

    async def work(
        session: AsyncSession, conversation: Conversation
    ) -> tuple[Message, list[ConversationEvent]]:
        message = await message_in(session, conversation, local_id, message_id)
        if message.role is not MessageRole.AGENT:
            raise InvalidTransitionError("Only an agent's reply streams, finishes or stops")
        recorded: list[ConversationEvent] = await change(session, conversation, message)
        return message, recorded

    return await in_conversation(info, conversation_id, message_id, work, owner_only=owner_only)


def _require_streaming(message: Message) -> None:
    if message.status is not MessageStatus.STREAMING:
        raise InvalidTransitionError(
            f"The reply is {message.status.value}: it takes no more chunks, tool calls or finish"
        )


async def append_reply_chunk(
    info: Info[Context], *, message_id: str, seq: int, text: str
) -> Message:
    """Chunk `seq` (1, 2, 3, ...) of the reply. A chunk already applied is acknowledged and
    ignored (a retry); one that skips ahead is refused with the number expected next."""
    issues = Issues()
    if seq < 1:
        issues.add("seq", IssueCode.OUT_OF_RANGE, f"must be at least 1, got {seq}")
    cleaned = values.text(issues, "text", text, max_length=limits.MAX_CHUNK, trim=False)
    if issues or cleaned is None:
        raise InvalidInputError(issues)

    async def change(
        session: AsyncSession, conversation: Conversation, message: Message
    ) -> list[ConversationEvent]:
        if seq <= message.last_chunk_seq:
            return []  # delivered before: the engine retried
        _require_streaming(message)
        if seq != message.last_chunk_seq + 1:
            raise ChunkOutOfOrderError(seq, message.last_chunk_seq + 1)
        if len(message.content) + len(cleaned) > limits.MAX_CONTENT:
            issues.add(
                "text",
                IssueCode.TOO_LONG,
                f"the reply would exceed {limits.MAX_CONTENT} characters",
            )
            raise InvalidInputError(issues)
        offset = len(message.content)
        message.content += cleaned
        message.last_chunk_seq = seq
        message.updated_at = utcnow()
        return [
            events.record(
                session,
                conversation,
                ConversationEventType.REPLY_CHUNK,
                message_id=message.id,
                payload={"chunk_seq": seq, "offset": offset, "text": cleaned},
            )
        ]

    return await _on_reply(info, message_id, change)


@dataclass(frozen=True)
class ToolCallReport:
    call_id: str
    tool_name: str
    server: str
    status: ToolCallStatus
    arguments: dict[str, Any] | None
    result: dict[str, Any] | None
    duration_ms: int | None
    cost: float | None
    started_at: datetime | None


async def record_tool_call(
    info: Info[Context], *, message_id: str, report: ToolCallReport
) -> ToolCall:
    """Start or finish a tool call of a streaming reply, keyed by the engine's `callId`: a
    call reported as running and then as finished is one row; a repeat changes nothing."""
    issues = Issues()
    call_id = values.text(issues, "input.callId", report.call_id, max_length=200, required=True)
    tool = values.text(
        issues, "input.toolName", report.tool_name, max_length=limits.MAX_NAME, required=True
    )
    server = values.text(
        issues, "input.server", report.server, max_length=limits.MAX_NAME, required=True
    )
    for path, value in (("input.arguments", report.arguments), ("input.result", report.result)):
        if value is not None:
            values.json_object(issues, path, value, max_bytes=limits.MAX_TOOL_JSON_BYTES)
    limits.non_negative(issues, "input.durationMs", report.duration_ms)
    limits.non_negative(issues, "input.cost", report.cost, limits.MAX_COST)
    if issues:
        raise InvalidInputError(issues)
    recorded: dict[str, ToolCall] = {}

    async def change(
        session: AsyncSession, conversation: Conversation, message: Message
    ) -> list[ConversationEvent]:
        call = await session.scalar(
            select(ToolCall)
            .where(ToolCall.message_id == message.id, ToolCall.call_id == call_id)
            .with_for_update()
        )
        finished = report.status is not ToolCallStatus.RUNNING
        if call is not None and (call.status is not ToolCallStatus.RUNNING or not finished):
            recorded["call"] = call  # a repeat, or a late "running" after the end
            return []
        _require_streaming(message)
        now = utcnow()
        if call is None:
            call = ToolCall(
                id=uuid.uuid4(),
                organization_id=message.organization_id,
                message_id=message.id,
                call_id=call_id,
                tool_name=tool,
                server=server,
                arguments=report.arguments or {},
                status=ToolCallStatus.RUNNING,
                started_at=report.started_at or now,
            )
            session.add(call)
        recorded["call"] = call
        out = []
        if call.status is ToolCallStatus.RUNNING and not finished:
            out.append(
                _tool_event(
                    session, conversation, message, call, ConversationEventType.TOOL_CALL_STARTED
                )
            )
        if finished:
            call.status = report.status
            call.result = report.result
            call.finished_at = now
            call.duration_ms = (
                report.duration_ms
                if report.duration_ms is not None
                else int((now - call.started_at).total_seconds() * 1000)
            )
            call.cost = Decimal(str(report.cost or 0))
            out.append(
                _tool_event(
                    session, conversation, message, call, ConversationEventType.TOOL_CALL_FINISHED
                )
            )
        return out

    await _on_reply(info, message_id, change)
    return recorded["call"]


def _tool_event(
    session: AsyncSession,
    conversation: Conversation,
    message: Message,
    call: ToolCall,
    type_: ConversationEventType,
) -> ConversationEvent:
    return events.record(
        session,
        conversation,
        type_,
        message_id=message.id,
        payload={
            "tool_call_id": str(call.id),
            "call_id": call.call_id,
            "tool_name": call.tool_name,
            "server": call.server,
            "status": call.status.value,
        },
    )


@dataclass(frozen=True)
class Finish:
    status: MessageStatus
    model: str | None
    provider: str | None
    prompt_tokens: int
    completion_tokens: int
    cost: float
    error: str | None


async def finish_reply(info: Info[Context], *, message_id: str, finish: Finish) -> Message:
    """The reply is complete (or failed), with its usage. Finishing a finished reply again
    is a retry and changes nothing; finishing a stopped one is refused."""
    issues = Issues()
    if finish.status not in {MessageStatus.COMPLETE, MessageStatus.FAILED}:
        issues.add("status", IssueCode.INVALID, "must be COMPLETE or FAILED")
    model = limits.optional_text(issues, "model", finish.model, 100)
    provider = limits.optional_text(issues, "provider", finish.provider, 50)
    error = limits.optional_text(issues, "error", finish.error, 10_000)
    limits.non_negative(issues, "usage.promptTokens", finish.prompt_tokens, limits.MAX_TOKENS)
    limits.non_negative(
        issues, "usage.completionTokens", finish.completion_tokens, limits.MAX_TOKENS
    )
    limits.non_negative(issues, "cost", finish.cost, limits.MAX_COST)
    if issues:
        raise InvalidInputError(issues)

    async def change(
        session: AsyncSession, conversation: Conversation, message: Message
    ) -> list[ConversationEvent]:
        if message.status is finish.status:
            return []  # a retry
        _require_streaming(message)
        now = utcnow()
        message.status = finish.status
        message.model, message.provider, message.error = model, provider, error
        message.prompt_tokens = finish.prompt_tokens
        message.completion_tokens = finish.completion_tokens
        message.total_tokens = finish.prompt_tokens + finish.completion_tokens
        message.cost = Decimal(str(finish.cost))
        message.finished_at = now
        message.response_time_ms = int((now - message.created_at).total_seconds() * 1000)
        conversation.updated_at = now
        return [
            events.record(
                session,
                conversation,
                ConversationEventType.REPLY_FINISHED,
                message_id=message.id,
                payload={
                    "status": finish.status.value,
                    "content_length": len(message.content),
                    "last_chunk_seq": message.last_chunk_seq,
                    "total_tokens": message.total_tokens,
                },
            )
        ]

    return await _on_reply(info, message_id, change)


async def stop_reply(info: Info[Context], *, message_id: str) -> Message:
    """The user's "stop": the reply ends `stopped` with what was written so far, and the
    engine hears of it on `agentConversationRequests` (and by its next call being refused)."""

    async def change(
        session: AsyncSession, conversation: Conversation, message: Message
    ) -> list[ConversationEvent]:
        if message.status is MessageStatus.STOPPED:
            return []
        _require_streaming(message)
        now = utcnow()
        message.status = MessageStatus.STOPPED
        message.finished_at = now
        conversation.updated_at = now
        return [
            events.record(
                session,
                conversation,
                ConversationEventType.REPLY_STOPPED,
                message_id=message.id,
                payload={
                    "content_length": len(message.content),
                    "last_chunk_seq": message.last_chunk_seq,
                },
            )
        ]

    return await _on_reply(info, message_id, change, owner_only=True)

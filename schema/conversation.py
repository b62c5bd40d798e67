"""Conversations, their messages, tool calls and attachments, and the events their
subscription streams."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON

from models import enums, sql
from resolvers.context import Context
from resolvers.conversations.events import StreamEvent
from resolvers.ids import to_global_id
from resolvers.loaders.conversations import CountedPage, WindowArgs
from resolvers.pagination import PageRequest
from resolvers.subscriptions import encode_cursor
from schema.connection import PAGE_SIZE_LIMIT, Connection, page_request
from schema.node import Node
from schema.project import Project
from schema.user import User

if TYPE_CHECKING:
    from aiodataloader import DataLoader

    from schema.agent import Agent

strawberry.enum(enums.ConversationStatus, description="Whether a conversation is archived.")
strawberry.enum(enums.MessageRole, description="Who wrote a message.")
strawberry.enum(
    enums.MessageStatus,
    description="STREAMING while the agent writes; then COMPLETE, STOPPED (by the user, with "
    "what was written so far) or FAILED.",
)
strawberry.enum(enums.ToolCallStatus, description="Where a tool call is.")
strawberry.enum(enums.ConversationEventType, description="What a conversation event records.")


@strawberry.type(description="A file attached to a message (metadata; the bytes live elsewhere).")
class Attachment:
    model: strawberry.Private[sql.Attachment]
    id: strawberry.ID = strawberry.field(description="The attachment's global id.")
    name: str = strawberry.field(description="File name.")
    media_type: str = strawberry.field(description="MIME type.")
    size: int = strawberry.field(description="Bytes.")
    checksum: str = strawberry.field(description="As the client computed it (sha256:...).")
    storage_url: str = strawberry.field(description="Where the bytes are.")

    @classmethod
    def from_model(cls, model: sql.Attachment) -> Attachment:
        return cls(
            model=model,
            id=strawberry.ID(to_global_id("Attachment", model.id)),
            name=model.name,
            media_type=model.media_type,
            size=model.size,
            checksum=model.checksum,
            storage_url=model.storage_url,
        )


@strawberry.type(description="A tool (MCP) call made while an agent wrote a reply.")
class ToolCall:
    model: strawberry.Private[sql.ToolCall]
    id: strawberry.ID = strawberry.field(description="The tool call's global id.")
    call_id: str = strawberry.field(description="The engine's own id of the call.")
    tool_name: str = strawberry.field(description="Which tool.")
    server: str = strawberry.field(description="Which MCP server provides it.")
    arguments: JSON = strawberry.field(description="What the tool was given.")
    result: JSON | None = strawberry.field(description="What it returned, once finished.")
    status: enums.ToolCallStatus = strawberry.field(description="Running, succeeded or failed.")
    duration_ms: int | None = strawberry.field(description="How long it took.")
    cost: float = strawberry.field(description="What it cost, in US dollars.")
    started_at: datetime = strawberry.field(description="When it started.")
    finished_at: datetime | None = strawberry.field(description="When it ended.")

    @classmethod
    def from_model(cls, model: sql.ToolCall) -> ToolCall:
        return cls(
            model=model,
            id=strawberry.ID(to_global_id("ToolCall", model.id)),
            call_id=model.call_id,
            tool_name=model.tool_name,
            server=model.server,
            arguments=JSON(model.arguments),
            result=JSON(model.result) if model.result is not None else None,
            status=model.status,
            duration_ms=model.duration_ms,
            cost=float(model.cost),
            started_at=model.started_at,
            finished_at=model.finished_at,
        )


@strawberry.type(description="Tokens a reply used.")
class TokenUsage:
    # The message's row, whose columns these are (so the compiled path reads them as it
    # reads any row's: `schema.compiled.messages`).
    model: strawberry.Private[sql.Message]
    prompt_tokens: int = strawberry.field(name="prompt", description="Tokens of the prompt.")
    completion_tokens: int = strawberry.field(name="completion", description="Tokens written.")
    total_tokens: int = strawberry.field(name="total", description="Both.")

    @classmethod
    def from_model(cls, model: sql.Message) -> TokenUsage:
        return cls(
            model=model,
            prompt_tokens=model.prompt_tokens,
            completion_tokens=model.completion_tokens,
            total_tokens=model.total_tokens,
        )


def _usage(root: Message) -> TokenUsage:
    # A resolver of the same row (not a value built by `from_model`): the compiled path
    # renders it from the row's columns, as a relation to the row itself.
    return TokenUsage.from_model(root.model)


@strawberry.type(description="One message of a conversation.")
class Message(Node):
    model: strawberry.Private[sql.Message]
    id: strawberry.ID = strawberry.field(description="The message's global id.")
    role: enums.MessageRole = strawberry.field(description="Who wrote it.")
    content: str = strawberry.field(description="Its text (so far, while streaming).")
    status: enums.MessageStatus = strawberry.field(description="Whether it is still written.")
    model_name: str | None = strawberry.field(name="model", description="The LLM that wrote it.")
    provider: str | None = strawberry.field(description="The LLM's provider.")
    usage: TokenUsage = strawberry.field(
        resolver=_usage, description="Tokens used (agent replies)."
    )
    cost: float = strawberry.field(description="What it cost, in US dollars.")
    response_time_ms: int | None = strawberry.field(description="From begin to finish.")
    error: str | None = strawberry.field(description="Why it failed.")
    created_at: datetime = strawberry.field(description="When it was posted (or begun).")
    finished_at: datetime | None = strawberry.field(description="When it was complete.")

    @classmethod
    def from_model(cls, model: sql.Message) -> Message:
        return cls(
            model=model,
            id=strawberry.ID(to_global_id("Message", model.id)),
            role=model.role,
            content=model.content,
            status=model.status,
            model_name=model.model,
            provider=model.provider,
            cost=float(model.cost),
            response_time_ms=model.response_time_ms,
            error=model.error,
            created_at=model.created_at,
            finished_at=model.finished_at,
        )

    @strawberry.field(description="The message it answers or follows.")
    def parent_id(self) -> strawberry.ID | None:
        parent = self.model.parent_id
        return strawberry.ID(to_global_id("Message", parent)) if parent else None

    @strawberry.field(description="Tool calls made while writing it, in start order.")
    async def tool_calls(self, info: strawberry.Info[Context]) -> list[ToolCall]:
        calls = await info.context.loaders.tool_calls_by_message.load(self.model.id)
        return [ToolCall.from_model(call) for call in calls]

    @strawberry.field(description="Files attached to it.")
    async def attachments(self, info: strawberry.Info[Context]) -> list[Attachment]:
        files = await info.context.loaders.attachments_by_message.load(self.model.id)
        return [Attachment.from_model(file) for file in files]


@strawberry.type(description="A chat between a user and an agent.")
class Conversation(Node):
    model: strawberry.Private[sql.Conversation]
    id: strawberry.ID = strawberry.field(description="The conversation's global id.")
    title: str = strawberry.field(description="Its title.")
    status: enums.ConversationStatus = strawberry.field(description="Active or archived.")
    created_at: datetime = strawberry.field(description="When it was started.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    last_message_at: datetime | None = strawberry.field(description="When the last message came.")
    message_count: int = strawberry.field(description="How many messages it has.")
    deleted_at: datetime | None = strawberry.field(description="Set while it is deleted.")

    @classmethod
    def from_model(cls, model: sql.Conversation) -> Conversation:
        return cls(
            model=model,
            id=strawberry.ID(to_global_id("Conversation", model.id)),
            title=model.title,
            status=model.status,
            created_at=model.created_at,
            updated_at=model.updated_at,
            last_message_at=model.last_message_at,
            message_count=model.message_count,
            deleted_at=model.deleted_at,
        )

    @strawberry.field(description="The agent it is with.")
    async def agent(
        self, info: strawberry.Info[Context]
    ) -> Annotated[Agent, strawberry.lazy("schema.agent")] | None:
        from schema.agent import Agent

        model = await info.context.loaders.agent_by_id.load(self.model.agent_id)
        return Agent.from_model(model) if model is not None else None

    @strawberry.field(description="The user it belongs to.")
    async def user(self, info: strawberry.Info[Context]) -> User | None:
        model = await info.context.loaders.conversation_user_by_id.load(self.model.user_id)
        return User.from_model(model) if model is not None else None

    @strawberry.field(description="The project it is held in (and shared through), if any.")
    async def project(self, info: strawberry.Info[Context]) -> Project | None:
        if self.model.project_id is None:
            return None
        model = await info.context.loaders.project_by_id.load(self.model.project_id)
        return Project.from_model(model) if model is not None else None

    @strawberry.field(description="Its latest message.")
    async def last_message(self, info: strawberry.Info[Context]) -> Message | None:
        model = await info.context.loaders.last_message_by_conversation.load(self.model.id)
        return Message.from_model(model) if model is not None else None

    @strawberry.field(
        description="Its messages, oldest first. `last` (with `before`) pages backwards from "
        "the newest: how a chat loads earlier messages."
    )
    async def messages(
        self,
        info: strawberry.Info[Context],
        first: Annotated[
            int | None, strawberry.argument(description=f"The oldest N ({PAGE_SIZE_LIMIT}).")
        ] = None,
        after: Annotated[str | None, strawberry.argument(description="Continue after.")] = None,
        last: Annotated[
            int | None, strawberry.argument(description=f"The newest N ({PAGE_SIZE_LIMIT}).")
        ] = None,
        before: Annotated[str | None, strawberry.argument(description="Continue before.")] = None,
    ) -> Connection[Message]:
        request = page_request(info, first, after, last, before)
        cursor = message_position(request)
        args = WindowArgs(limit=request.limit, cursor=cursor, backward=request.backward)
        counted = await info.context.loaders.message_page_by_conversation.load(
            (self.model.id, args)
        )
        return _connection(counted, Message.from_model)

    @strawberry.field(description="Branches forked from it, oldest first.")
    async def branches(self, info: strawberry.Info[Context]) -> list[Conversation]:
        models = await info.context.loaders.branches_by_conversation.load(self.model.id)
        return [Conversation.from_model(model) for model in models]

    @strawberry.field(description="For a branch: the conversation it forked from.")
    async def parent(self, info: strawberry.Info[Context]) -> Conversation | None:
        if self.model.parent_id is None:
            return None
        model = await info.context.loaders.conversation_by_id.load(self.model.parent_id)
        return Conversation.from_model(model) if model is not None else None

    @strawberry.field(description="For a branch: the message it forked after.")
    async def forked_from(self, info: strawberry.Info[Context]) -> Message | None:
        if self.model.forked_from_message_id is None:
            return None
        model = await info.context.loaders.message_by_id.load(self.model.forked_from_message_id)
        return Message.from_model(model) if model is not None else None


def message_position(request: PageRequest) -> int | None:
    """The position a `messages` cursor names (both paths read it here)."""
    from resolvers.cursors import MalformedCursorError

    if request.cursor is None:
        return None
    value = request.cursor[0]
    # A position is a 32-bit integer column: anything else names no message.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise MalformedCursorError(request.cursor_argument)
    return value


def _connection(counted: CountedPage, to_node: Any) -> Connection[Any]:
    async def total() -> int:
        return counted.total

    return Connection.from_page(counted.page, to_node, total)


async def nested_conversations(
    info: strawberry.Info[Context],
    loader: DataLoader[tuple[uuid.UUID, WindowArgs], CountedPage],
    parent_id: uuid.UUID,
    first: int,
) -> Connection[Conversation]:
    limit = page_request(info, first, None).limit
    counted = await loader.load((parent_id, WindowArgs(limit=limit)))
    return _connection(counted, Conversation.from_model)


@strawberry.type(description="One event of a conversation, as its subscription streams it.")
class ConversationEvent:
    event: strawberry.Private[StreamEvent]
    cursor: str = strawberry.field(description="Pass as `after` to resume after this event.")
    seq: int = strawberry.field(
        description="1, 2, 3, ... per conversation; for merged chunks, the last one's."
    )
    type: enums.ConversationEventType = strawberry.field(description="What happened.")
    message_id: strawberry.ID | None = strawberry.field(description="The message it concerns.")
    text: str | None = strawberry.field(
        description="Reply chunks: the text to append (several chunks merged when the "
        "subscriber fell behind); new messages: their content."
    )
    chunks: int = strawberry.field(description="How many reply chunks this event carries.")
    timestamp: datetime = strawberry.field(description="When it happened.")
    payload: JSON = strawberry.field(
        description="Details: role and status of a new message; chunk number and offset; "
        "tool, server and status of a tool call; final status and length of a reply."
    )

    @classmethod
    def from_event(cls, event: StreamEvent) -> ConversationEvent:
        payload = event.payload
        text = payload.get("text", payload.get("content"))
        return cls(
            event=event,
            cursor=encode_cursor(event.seq),
            seq=event.seq,
            type=event.type,
            message_id=strawberry.ID(to_global_id("Message", event.message_id))
            if event.message_id
            else None,
            text=text if isinstance(text, str) else None,
            chunks=event.chunks if event.type is enums.ConversationEventType.REPLY_CHUNK else 0,
            timestamp=event.created_at,
            payload=JSON({k: v for k, v in payload.items() if k not in {"text", "content"}}),
        )

    # Not `message`: it would clash with `ResyncRequired.message` in the stream's union.
    @strawberry.field(description="The message, as it is now.")
    async def chat_message(self, info: strawberry.Info[Context]) -> Message | None:
        if self.event.message_id is None:
            return None
        model = await info.context.loaders.message_by_id.load(self.event.message_id)
        return Message.from_model(model) if model is not None else None

    @strawberry.field(description="The conversation's global id.")
    def conversation_id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id("Conversation", self.event.conversation_id))

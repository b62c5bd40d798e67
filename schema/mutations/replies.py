"""Reply mutations, the engines' side (beginning, streaming, tool calls, finishing a
reply) and the user's stop."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from models import enums
from resolvers.context import Context
from resolvers.conversations import replies
from schema.connection import Id
from schema.conversation import Message, ToolCall
from schema.errors import Forbidden, InvalidTransition, NotFound, ValidationError
from schema.mutations.capture import capture_errors
from schema.mutations.messages import IdempotencyKey, MessagePayload, MessageResult
from schema.permissions import WRITERS


@strawberry.input(description="A tool call of a reply, as it starts or ends.")
class ToolCallInput:
    call_id: str = strawberry.field(description="The engine's id of the call: the retry key.")
    tool_name: str = strawberry.field(description="Which tool.")
    server: str = strawberry.field(description="Which MCP server.")
    status: enums.ToolCallStatus = strawberry.field(description="RUNNING, or how it ended.")
    arguments: JSON | None = strawberry.field(default=None, description="At most 64 KB.")
    result: JSON | None = strawberry.field(default=None, description="At most 64 KB.")
    duration_ms: int | None = strawberry.field(default=None, description="Measured by the engine.")
    cost: float | None = strawberry.field(default=None, description="US dollars.")

    def to_report(self) -> replies.ToolCallReport:
        return replies.ToolCallReport(
            call_id=self.call_id,
            tool_name=self.tool_name,
            server=self.server,
            status=self.status,
            arguments=self.arguments,  # type: ignore[arg-type]
            result=self.result,  # type: ignore[arg-type]
            duration_ms=self.duration_ms,
            cost=self.cost,
            started_at=None,
        )


@strawberry.input(description="Tokens a reply used.")
class UsageInput:
    prompt_tokens: int = strawberry.field(default=0, description="Tokens of the prompt.")
    completion_tokens: int = strawberry.field(default=0, description="Tokens written.")


@strawberry.type(description="The tool call.")
class ToolCallPayload:
    tool_call: ToolCall = strawberry.field(description="As it is now.")


ToolCallResult = Annotated[
    ToolCallPayload | ValidationError | NotFound | Forbidden | InvalidTransition,
    strawberry.union("ToolCallResult", description="The tool call, or why not."),
]
MessageId = Annotated[strawberry.ID, strawberry.argument(description="The reply's global id.")]


@strawberry.type(description="Replies to messages.")
class ReplyMutations:
    @strawberry.mutation(
        permission_classes=WRITERS,
        description="Engines: begin the agent's reply to a message (STREAMING, empty).",
    )
    @capture_errors
    async def begin_reply(
        self,
        info: strawberry.Info[Context],
        conversation_id: Id,
        reply_to: Annotated[strawberry.ID, strawberry.argument(description="The user's message.")],
        idempotency_key: IdempotencyKey = None,
    ) -> MessageResult:
        model = await replies.begin_reply(
            info,
            conversation_id=conversation_id,
            reply_to=reply_to,
            idempotency_key=idempotency_key,
        )
        return MessagePayload(chat_message=Message.from_model(model))

    @strawberry.mutation(
        permission_classes=WRITERS,
        description="Engines: append chunk `seq` (1, 2, ...) to a reply. A repeated number is "
        "ignored (a retry); one that skips ahead gets CHUNK_OUT_OF_ORDER.",
    )
    @capture_errors
    async def append_reply_chunk(
        self,
        info: strawberry.Info[Context],
        message_id: MessageId,
        seq: Annotated[int, strawberry.argument(description="The chunk's number, from 1.")],
        text: Annotated[str, strawberry.argument(description="At most 20,000 characters.")],
    ) -> MessageResult:
        model = await replies.append_reply_chunk(info, message_id=message_id, seq=seq, text=text)
        return MessagePayload(chat_message=Message.from_model(model))

    @strawberry.mutation(
        permission_classes=WRITERS,
        description="Engines: report a tool call of a reply starting or ending (by `callId`).",
    )
    @capture_errors
    async def record_tool_call(
        self,
        info: strawberry.Info[Context],
        message_id: MessageId,
        input: Annotated[ToolCallInput, strawberry.argument(description="The call.")],
    ) -> ToolCallResult:
        model = await replies.record_tool_call(
            info, message_id=message_id, report=input.to_report()
        )
        return ToolCallPayload(tool_call=ToolCall.from_model(model))

    @strawberry.mutation(
        permission_classes=WRITERS,
        description="Engines: the reply is complete (or FAILED), with its usage and cost. A "
        "stopped reply cannot be finished.",
    )
    @capture_errors
    async def finish_reply(
        self,
        info: strawberry.Info[Context],
        message_id: MessageId,
        status: Annotated[
            enums.MessageStatus, strawberry.argument(description="COMPLETE or FAILED.")
        ] = enums.MessageStatus.COMPLETE,
        usage: Annotated[UsageInput | None, strawberry.argument(description="Tokens.")] = None,
        cost: Annotated[float, strawberry.argument(description="US dollars.")] = 0.0,
        model: Annotated[str | None, strawberry.argument(description="The LLM.")] = None,
        provider: Annotated[str | None, strawberry.argument(description="Its provider.")] = None,
        error: Annotated[str | None, strawberry.argument(description="Why it failed.")] = None,
    ) -> MessageResult:
        used = usage or UsageInput()
        finished = await replies.finish_reply(
            info,
            message_id=message_id,
            finish=replies.Finish(
                status=status,
                model=model,
                provider=provider,
                prompt_tokens=used.prompt_tokens,
                completion_tokens=used.completion_tokens,
                cost=cost,
                error=error,
            ),
        )
        return MessagePayload(chat_message=Message.from_model(finished))

    @strawberry.mutation(
        permission_classes=WRITERS,
        description="Stop a streaming reply: it ends STOPPED with what was written so far; "
        "its engine hears of it on `agentConversationRequests`.",
    )
    @capture_errors
    async def stop_reply(
        self, info: strawberry.Info[Context], message_id: MessageId
    ) -> MessageResult:
        model = await replies.stop_reply(info, message_id=message_id)
        return MessagePayload(chat_message=Message.from_model(model))

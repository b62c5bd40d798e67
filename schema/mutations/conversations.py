"""Conversation and project mutations: the user's side (projects, starting, posting,
renaming, archiving, deleting, restoring, branching, stopping a reply) and the engine's
(beginning, streaming, tool calls, finishing a reply)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from models import enums
from resolvers.context import Context
from resolvers.conversations import chats, projects, replies
from resolvers.drafts.attachment import AttachmentDraft
from resolvers.drafts.project import ProjectChanges, ProjectDraft
from resolvers.mutations import errors
from schema.connection import Id
from schema.conversation import Conversation, Message, ToolCall
from schema.errors import (
    Failure,
    Forbidden,
    IdempotencyConflict,
    InvalidTransition,
    NotFound,
    ValidationError,
)
from schema.mutations.capture import capture_errors, register
from schema.mutations.drafts import kept
from schema.permissions import WRITERS
from schema.project import Project


@strawberry.type(description="A reply chunk skipped ahead; send `expectedSeq` next.")
class ChunkOutOfOrder(Failure):
    expected_seq: int = strawberry.field(description="The chunk number expected next.")

    @classmethod
    def from_error(cls, error: errors.ChunkOutOfOrderError) -> ChunkOutOfOrder:
        return cls(code=error.code, message=error.message, expected_seq=error.expected_seq)


register(errors.ChunkOutOfOrderError, ChunkOutOfOrder.from_error)


@strawberry.input(description="A new project.")
class CreateProjectInput:
    name: str = strawberry.field(description="1 to 200 characters.")
    description: str = strawberry.field(default="", description="At most 5,000 characters.")
    repository_url: str | None = strawberry.field(default=None, description="At most 500.")
    local_path: str | None = strawberry.field(default=None, description="At most 500.")
    framework: str | None = strawberry.field(default=None, description="At most 100.")
    language: str | None = strawberry.field(default=None, description="At most 100.")

    def to_draft(self) -> ProjectDraft:
        return ProjectDraft(
            name=self.name,
            description=self.description,
            repository_url=self.repository_url,
            local_path=self.local_path,
            framework=self.framework,
            language=self.language,
        )


@strawberry.input(description="Changes to a project: only the fields given change.")
class UpdateProjectInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="1 to 200.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 5,000."
    )
    repository_url: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 500."
    )
    local_path: str | None = strawberry.field(default=strawberry.UNSET, description="At most 500.")
    framework: str | None = strawberry.field(default=strawberry.UNSET, description="At most 100.")
    language: str | None = strawberry.field(default=strawberry.UNSET, description="At most 100.")
    status: enums.ProjectStatus | None = strawberry.field(
        default=strawberry.UNSET, description="Active or archived (deleteProject deletes)."
    )

    def to_draft(self) -> ProjectChanges:
        # Omitted fields stay as they are; null clears an optional text.
        return ProjectChanges(
            name=kept(self.name),
            description=kept(self.description),
            repository_url=kept(self.repository_url),
            local_path=kept(self.local_path),
            framework=kept(self.framework),
            language=kept(self.language),
            status=kept(self.status),
        )


@strawberry.input(description="A file attached to a message: its metadata.")
class AttachmentInput:
    name: str = strawberry.field(description="File name, 1 to 300 characters.")
    media_type: str = strawberry.field(description="MIME type.")
    size: int = strawberry.field(description="Bytes; not negative.")
    checksum: str = strawberry.field(description="As computed by the client (sha256:...).")
    storage_url: str = strawberry.field(description="Where the bytes are stored.")

    def to_draft(self) -> AttachmentDraft:
        return AttachmentDraft(
            name=self.name,
            media_type=self.media_type,
            size=self.size,
            checksum=self.checksum,
            storage_url=self.storage_url,
        )


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


@strawberry.type(description="The project.")
class ProjectPayload:
    project: Project = strawberry.field(description="As it is now.")


@strawberry.type(description="The conversation.")
class ConversationPayload:
    conversation: Conversation = strawberry.field(description="As it is now.")


@strawberry.type(description="The new conversation and its first message.")
class StartConversationPayload:
    conversation: Conversation = strawberry.field(description="The new conversation.")
    # Not `message`: it would clash with `Error.message` in a client's union selection.
    first_message: Message = strawberry.field(description="Its first message.")


@strawberry.type(description="The message.")
class MessagePayload:
    # Not `message`: it would clash with `Error.message` in a client's union selection.
    chat_message: Message = strawberry.field(description="As it is now.")


@strawberry.type(description="The tool call.")
class ToolCallPayload:
    tool_call: ToolCall = strawberry.field(description="As it is now.")


ProjectResult = Annotated[
    ProjectPayload | ValidationError | NotFound | Forbidden,
    strawberry.union("ProjectResult", description="The project, or why not."),
]
ConversationResult = Annotated[
    ConversationPayload | ValidationError | NotFound | Forbidden | InvalidTransition,
    strawberry.union("ConversationResult", description="The conversation, or why not."),
]
StartConversationResult = Annotated[
    StartConversationPayload | ValidationError,
    strawberry.union("StartConversationResult", description="The conversation, or why not."),
]
MessageResult = Annotated[
    MessagePayload
    | ValidationError
    | NotFound
    | Forbidden
    | InvalidTransition
    | IdempotencyConflict
    | ChunkOutOfOrder,
    strawberry.union("MessageResult", description="The message, or why not."),
]
ToolCallResult = Annotated[
    ToolCallPayload | ValidationError | NotFound | Forbidden | InvalidTransition,
    strawberry.union("ToolCallResult", description="The tool call, or why not."),
]
MessageId = Annotated[strawberry.ID, strawberry.argument(description="The reply's global id.")]
IdempotencyKey = Annotated[
    str | None, strawberry.argument(description="Retry key: the same key returns the first answer.")
]
Attachments = Annotated[
    list[AttachmentInput] | None, strawberry.argument(description="At most 20 files.")
]


async def _conversation(
    info: Any, id: str, action: str, title: str | None = None
) -> ConversationPayload:
    model = await chats.change_conversation(info, conversation_id=id, action=action, title=title)
    return ConversationPayload(conversation=Conversation.from_model(model))


async def _project(info: Any, id: str, changes: ProjectChanges, action: str) -> ProjectPayload:
    model = await projects.change_project(info, project_id=id, changes=changes, action=action)
    return ProjectPayload(project=Project.from_model(model))


@strawberry.type(description="Changes to projects and conversations.")
class ConversationMutations:
    @strawberry.mutation(permission_classes=WRITERS, description="Create a project.")
    @capture_errors
    async def create_project(
        self,
        info: strawberry.Info[Context],
        input: Annotated[CreateProjectInput, strawberry.argument(description="The project.")],
    ) -> ProjectResult:
        model = await projects.create_project(info, draft=input.to_draft())
        return ProjectPayload(project=Project.from_model(model))

    @strawberry.mutation(permission_classes=WRITERS, description="Change a project (owner, admin).")
    @capture_errors
    async def update_project(
        self,
        info: strawberry.Info[Context],
        id: Id,
        input: Annotated[UpdateProjectInput, strawberry.argument(description="What changes.")],
    ) -> ProjectResult:
        return await _project(info, id, input.to_draft(), "update")

    @strawberry.mutation(permission_classes=WRITERS, description="Archive a project.")
    @capture_errors
    async def archive_project(self, info: strawberry.Info[Context], id: Id) -> ProjectResult:
        return await _project(
            info, id, ProjectChanges(status=enums.ProjectStatus.ARCHIVED), "archive"
        )

    @strawberry.mutation(
        permission_classes=WRITERS,
        description="Delete a project: it leaves every list, and its conversations are no "
        "longer shared through it (they stay their users').",
    )
    @capture_errors
    async def delete_project(self, info: strawberry.Info[Context], id: Id) -> ProjectResult:
        return await _project(
            info, id, ProjectChanges(status=enums.ProjectStatus.DELETED), "delete"
        )

    @strawberry.mutation(permission_classes=WRITERS, description="Attach an agent to a project.")
    @capture_errors
    async def attach_agent_to_project(
        self, info: strawberry.Info[Context], project_id: Id, agent_id: Id
    ) -> ProjectResult:
        model = await projects.attach_agent(
            info, project_id=project_id, agent_id=agent_id, attach=True
        )
        return ProjectPayload(project=Project.from_model(model))

    @strawberry.mutation(permission_classes=WRITERS, description="Detach an agent from a project.")
    @capture_errors
    async def detach_agent_from_project(
        self, info: strawberry.Info[Context], project_id: Id, agent_id: Id
    ) -> ProjectResult:
        model = await projects.attach_agent(
            info, project_id=project_id, agent_id=agent_id, attach=False
        )
        return ProjectPayload(project=Project.from_model(model))

    @strawberry.mutation(
        permission_classes=WRITERS,
        description="Start a conversation with an agent (in a project, to share it) with a "
        "first message.",
    )
    @capture_errors
    async def start_conversation(
        self,
        info: strawberry.Info[Context],
        agent_id: Annotated[strawberry.ID, strawberry.argument(description="The agent.")],
        message: Annotated[str, strawberry.argument(description="The first message.")],
        project_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The project to hold it in.")
        ] = None,
        title: Annotated[
            str | None, strawberry.argument(description="Default: the message's start.")
        ] = None,
        attachments: Attachments = None,
    ) -> StartConversationResult:
        conversation, first = await chats.start_conversation(
            info,
            agent_id=agent_id,
            project_id=project_id,
            title=title,
            message=message,
            attachments=[a.to_draft() for a in attachments or []],
        )
        return StartConversationPayload(
            conversation=Conversation.from_model(conversation),
            first_message=Message.from_model(first),
        )

    @strawberry.mutation(permission_classes=WRITERS, description="Post a message.")
    @capture_errors
    async def post_message(
        self,
        info: strawberry.Info[Context],
        conversation_id: Id,
        content: Annotated[str, strawberry.argument(description="1 to 100,000 characters.")],
        parent_message_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="The message it answers; default: the last one."),
        ] = None,
        attachments: Attachments = None,
        idempotency_key: IdempotencyKey = None,
    ) -> MessageResult:
        model = await chats.post_message(
            info,
            conversation_id=conversation_id,
            content=content,
            parent_message_id=parent_message_id,
            attachments=[a.to_draft() for a in attachments or []],
            idempotency_key=idempotency_key,
        )
        return MessagePayload(chat_message=Message.from_model(model))

    @strawberry.mutation(permission_classes=WRITERS, description="Rename a conversation.")
    @capture_errors
    async def rename_conversation(
        self,
        info: strawberry.Info[Context],
        id: Id,
        title: Annotated[str, strawberry.argument(description="1 to 200 characters.")],
    ) -> ConversationResult:
        return await _conversation(info, id, "rename", title)

    @strawberry.mutation(
        permission_classes=WRITERS,
        description="Archive (or, with `archived: false`, unarchive) a conversation.",
    )
    @capture_errors
    async def archive_conversation(
        self,
        info: strawberry.Info[Context],
        id: Id,
        archived: Annotated[bool, strawberry.argument(description="False unarchives.")] = True,
    ) -> ConversationResult:
        return await _conversation(info, id, "archive" if archived else "unarchive")

    @strawberry.mutation(
        permission_classes=WRITERS, description="Delete a conversation (restorable)."
    )
    @capture_errors
    async def delete_conversation(
        self, info: strawberry.Info[Context], id: Id
    ) -> ConversationResult:
        return await _conversation(info, id, "delete")

    @strawberry.mutation(permission_classes=WRITERS, description="Restore a deleted conversation.")
    @capture_errors
    async def restore_conversation(
        self, info: strawberry.Info[Context], id: Id
    ) -> ConversationResult:
        return await _conversation(info, id, "restore")

    @strawberry.mutation(
        permission_classes=WRITERS,
        description="Fork a conversation after one of its messages into a new conversation "
        "of yours; the original stays as it is.",
    )
    @capture_errors
    async def branch_conversation(
        self,
        info: strawberry.Info[Context],
        conversation_id: Id,
        from_message_id: Annotated[
            strawberry.ID, strawberry.argument(description="A message of that conversation.")
        ],
        title: Annotated[
            str | None, strawberry.argument(description="Default: '... (branch)'.")
        ] = None,
    ) -> ConversationResult:
        model = await chats.branch_conversation(
            info, conversation_id=conversation_id, from_message_id=from_message_id, title=title
        )
        return ConversationPayload(conversation=Conversation.from_model(model))

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

"""Conversation mutations, the user's side: starting a conversation, posting, renaming,
archiving, deleting, restoring and branching. (Projects: `projects.py`; the engines'
replies: `replies.py`.)"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from resolvers.context import Context
from resolvers.conversations import chats
from resolvers.drafts.attachment import AttachmentDraft
from schema.connection import Id
from schema.conversation import Conversation, Message
from schema.errors import Forbidden, InvalidTransition, NotFound, ValidationError
from schema.mutations.capture import capture_errors
from schema.mutations.messages import IdempotencyKey, MessagePayload, MessageResult
from schema.permissions import WRITERS


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


@strawberry.type(description="The conversation.")
class ConversationPayload:
    conversation: Conversation = strawberry.field(description="As it is now.")


@strawberry.type(description="The new conversation and its first message.")
class StartConversationPayload:
    conversation: Conversation = strawberry.field(description="The new conversation.")
    # Not `message`: it would clash with `Error.message` in a client's union selection.
    first_message: Message = strawberry.field(description="Its first message.")


ConversationResult = Annotated[
    ConversationPayload | ValidationError | NotFound | Forbidden | InvalidTransition,
    strawberry.union("ConversationResult", description="The conversation, or why not."),
]
StartConversationResult = Annotated[
    StartConversationPayload | ValidationError,
    strawberry.union("StartConversationResult", description="The conversation, or why not."),
]
Attachments = Annotated[
    list[AttachmentInput] | None, strawberry.argument(description="At most 20 files.")
]


async def _conversation(
    info: Any, id: str, action: str, title: str | None = None
) -> ConversationPayload:
    model = await chats.change_conversation(info, conversation_id=id, action=action, title=title)
    return ConversationPayload(conversation=Conversation.from_model(model))


@strawberry.type(description="Changes to conversations.")
class ConversationMutations:
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

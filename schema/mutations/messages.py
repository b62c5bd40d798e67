"""What posting a message (users) and the engines' replies share: the message payload, its
result union, the retry key, and the failure of a chunk that skips ahead (in the union
because every message mutation answers with it)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.mutations import errors
from schema.conversation import Message
from schema.errors import (
    Failure,
    Forbidden,
    IdempotencyConflict,
    InvalidTransition,
    NotFound,
    ValidationError,
)
from schema.mutations.capture import register


@strawberry.type(description="A reply chunk skipped ahead; send `expectedSeq` next.")
class ChunkOutOfOrder(Failure):
    expected_seq: int = strawberry.field(description="The chunk number expected next.")

    @classmethod
    def from_error(cls, error: errors.ChunkOutOfOrderError) -> ChunkOutOfOrder:
        return cls(code=error.code, message=error.message, expected_seq=error.expected_seq)


register(errors.ChunkOutOfOrderError, ChunkOutOfOrder.from_error)


@strawberry.type(description="The message.")
class MessagePayload:
    # Not `message`: it would clash with `Error.message` in a client's union selection.
    chat_message: Message = strawberry.field(description="As it is now.")


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
IdempotencyKey = Annotated[
    str | None, strawberry.argument(description="Retry key: the same key returns the first answer.")
]

"""What both websocket protocols check before they act on a message or run an operation.

A frame that is not a message (`null`, `[]`, `123`, `"x"`, a `subscribe` whose payload is
not an object) is a protocol error: the socket is closed with 4400 and a reason, never with
a traceback. An operation is then admitted as an HTTP request would be: its fields must have
their types, its address and principal must be within their rate limits, and in allow-list
mode it must be registered. A refused operation gets a coded error of its own; the socket
stays open."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from graphql import GraphQLError

from flowgate.auth.rate_limit import RateLimited
from resolvers.context import Context
from resolvers.errors import ClientError
from schema.extensions.masking import masked
from schema.extensions.persisted import PersistedQueries

OPERATION_TYPES = frozenset({"subscribe", "start"})
ENDING_TYPES = frozenset({"complete", "stop"})
# Close codes: a frame that breaks the protocol, and a server that is full for this client.
PROTOCOL_ERROR = 4400
TRY_AGAIN_LATER = 1013


def message_problem(message: object) -> str | None:
    """Why `message` cannot be acted on (the close reason), or None."""
    if not isinstance(message, dict):
        return "A message must be a JSON object"
    kind = message.get("type")
    if not isinstance(kind, str):
        return "A message must have a string `type`"
    if kind in OPERATION_TYPES | ENDING_TYPES and not isinstance(message.get("id"), str):
        return f"A `{kind}` message must have a string `id`"
    if kind in OPERATION_TYPES and not isinstance(message.get("payload"), dict):
        return f"The payload of `{kind}` must be an object"
    return None


# What a payload's fields must be when given (each may be null or left out).
_PAYLOAD_FIELDS = (
    ("query", str, "must be a string"),
    ("variables", dict, "must be an object"),
    ("operationName", str, "must be a string"),
    ("extensions", dict, "must be an object"),
)


@dataclass(frozen=True)
class Admitted:
    query: str


async def admit(context: Context, payload: Mapping[str, object]) -> Admitted | GraphQLError:
    """The operation of a `subscribe`/`start` payload, ready to run, or why it may not."""
    for field, kind, problem in _PAYLOAD_FIELDS:
        if payload.get(field) is not None and not isinstance(payload.get(field), kind):
            return _bad_input(field, problem)
    query, extensions = payload.get("query"), payload.get("extensions")
    try:
        await _count(context)
        resolved = await _persisted(context).resolve(
            cast("str | None", query),
            cast("dict[str, Any]", extensions or {}).get("persistedQuery"),
        )
    except RateLimited as limited:
        return GraphQLError(
            limited.describe(),
            extensions={"code": "RATE_LIMITED", "retryAfter": limited.retry_after},
        )
    except ClientError as error:
        return error
    except Exception as error:
        # A bug or an outage: as over HTTP, this operation fails, masked, with the request
        # id; the socket and its other operations stay.
        return masked(error)
    if resolved is None:
        return _bad_input("query", "is missing")
    return Admitted(resolved)


async def _count(context: Context) -> None:
    """An operation over a socket counts against the limits a request counts against."""
    limiter = context.guards.rate_limiter
    address = address_of(context)
    if address is not None:
        await limiter.check("address", address)
    if context.authenticated:
        await limiter.check("principal", context.principal.rate_limit_key)


def _persisted(context: Context) -> PersistedQueries:
    request = context.request
    persisted = getattr(request.app.state, "persisted_queries", None) if request else None
    if not isinstance(persisted, PersistedQueries):
        raise TypeError("the app has no persisted queries")
    return persisted


def address_of(context: Context) -> str | None:
    client = context.request.client if context.request is not None else None
    return client.host if client is not None else None


def _bad_input(field: str, problem: str) -> GraphQLError:
    return GraphQLError(
        f"Invalid `{field}` in the operation's payload: it {problem}",
        extensions={"code": "BAD_USER_INPUT", "argument": field},
    )

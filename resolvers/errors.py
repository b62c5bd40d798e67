"""Errors a client caused or can act on. Each carries a stable `extensions.code`; unlike
unexpected exceptions, these are shown to the client as they are."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

SIGN_IN = (
    "Authentication required: send `Authorization: Bearer <access token or API key>` "
    "(log in with the `login` mutation)"
)


class ClientError(GraphQLError):
    """An expected error: its message and extensions reach the client unmasked."""

    code = "BAD_REQUEST"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": self.code, **extensions})


class BadInputError(ClientError):
    """An argument the client sent is malformed or out of range; names the argument."""

    code = "BAD_USER_INPUT"

    def __init__(self, argument: str, problem: str) -> None:
        super().__init__(f"Invalid argument `{argument}`: {problem}", argument=argument)


class UnauthenticatedError(ClientError):
    """No credential was sent, or the one sent cannot be used."""

    code = "UNAUTHENTICATED"

    def __init__(self, message: str = SIGN_IN) -> None:
        super().__init__(message)


class StoreDownError(ClientError):
    """A store needed by this field is unreachable; other fields of the response still
    resolve."""

    code = "STORE_UNAVAILABLE"

    def __init__(self, store: str) -> None:
        super().__init__(f"{store} is unavailable; retry later", store=store)

"""The one place where domain errors become typed results (Dagster's `capture_error`).

A mutation resolver decorated with `@capture_errors` returns its payload, or, when the
resolvers raise an expected failure, the matching member of its result union. Anything else
propagates, and is masked and logged like any unexpected error."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from resolvers.mutations import errors
from schema.errors import (
    AuthenticationFailed,
    Forbidden,
    IdempotencyConflict,
    InvalidTransition,
    NotFound,
    ValidationError,
    VersionConflict,
)

P = ParamSpec("P")
R = TypeVar("R")

_RESULT_OF: dict[type[errors.MutationError], Callable[[Any], Any]] = {
    errors.InvalidInputError: ValidationError.from_error,
    errors.NotFoundError: NotFound.from_error,
    errors.VersionConflictError: VersionConflict.from_error,
    errors.ForbiddenError: Forbidden.from_error,
    errors.InvalidTransitionError: InvalidTransition.from_error,
    errors.IdempotencyConflictError: IdempotencyConflict.from_error,
    errors.AuthenticationFailedError: AuthenticationFailed.from_error,
}


def register(error: type[errors.MutationError], to_result: Callable[[Any], Any]) -> None:
    """A domain's own error type (`schema.mutations.messages.ChunkOutOfOrder`)."""
    _RESULT_OF[error] = to_result


def capture_errors(resolver: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    # functools.wraps keeps the signature and annotations, which Strawberry reads to build
    # the field's arguments and type.
    @functools.wraps(resolver)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await resolver(*args, **kwargs)
        except errors.MutationError as error:
            result: R = _RESULT_OF[type(error)](error)
            return result

    return wrapper

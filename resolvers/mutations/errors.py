"""Expected failures of mutations, as plain exceptions. They know nothing of GraphQL: one
place in the schema (`schema.mutations.capture`) maps each to its union member."""

from __future__ import annotations

from enum import StrEnum

from resolvers.validation.issues import Issue, Issues


class ErrorCode(StrEnum):
    VALIDATION_FAILED = "validation_failed"
    NOT_FOUND = "not_found"
    VERSION_CONFLICT = "version_conflict"
    FORBIDDEN = "forbidden"
    INVALID_TRANSITION = "invalid_transition"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    AUTHENTICATION_FAILED = "authentication_failed"
    CHUNK_OUT_OF_ORDER = "chunk_out_of_order"
    APPROVAL_ALREADY_DECIDED = "approval_already_decided"
    APPROVAL_EXPIRED = "approval_expired"
    CONCURRENCY_LIMIT_REACHED = "concurrency_limit_reached"
    RETRIES_EXHAUSTED = "retries_exhausted"


class MutationError(Exception):
    code: ErrorCode

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(MutationError):
    """The input breaks one or more rules; every problem found is listed, with its path."""

    code = ErrorCode.VALIDATION_FAILED

    def __init__(self, issues: Issues) -> None:
        shown = len(issues)
        message = f"The input has {issues.total} problem{'s' if issues.total != 1 else ''}"
        if shown < issues.total:
            message += f" (the first {shown} are listed)"
        super().__init__(message)
        self.issues: list[Issue] = list(issues)


class NotFoundError(MutationError):
    code = ErrorCode.NOT_FOUND

    def __init__(self, type_name: str, global_id: str) -> None:
        super().__init__(f"No {type_name} with id {global_id!r} in your organization")
        self.global_id = global_id


class VersionConflictError(MutationError):
    """Someone saved in between: the client must reload, merge, and save again."""

    code = ErrorCode.VERSION_CONFLICT

    def __init__(self, expected_version: int, current_version: int) -> None:
        super().__init__(
            f"Expected version {expected_version}, but the current version is {current_version}"
        )
        self.current_version = current_version


class ForbiddenError(MutationError):
    code = ErrorCode.FORBIDDEN


class AuthenticationFailedError(MutationError):
    """Wrong email or password, or a refresh token that is unknown, used or expired."""

    code = ErrorCode.AUTHENTICATION_FAILED


class InvalidTransitionError(MutationError):
    code = ErrorCode.INVALID_TRANSITION


class IdempotencyConflictError(MutationError):
    """The idempotency key was used before, for a different request."""

    code = ErrorCode.IDEMPOTENCY_CONFLICT

    def __init__(self, key: str, operation: str) -> None:
        super().__init__(
            f"Idempotency key {key!r} was already used for a different {operation} request; "
            "use a new key for a new request"
        )
        self.key = key


class ChunkOutOfOrderError(MutationError):
    """A reply chunk skipped ahead: the engine resends from the number expected."""

    code = ErrorCode.CHUNK_OUT_OF_ORDER

    def __init__(self, seq: int, expected: int) -> None:
        super().__init__(f"Chunk {seq} arrived before chunk {expected}: send {expected} next")
        self.expected_seq = expected


class ApprovalAlreadyDecidedError(MutationError):
    """Someone decided first (or the same person, before): the first decision stands."""

    code = ErrorCode.APPROVAL_ALREADY_DECIDED

    def __init__(self, decision: str, decided_by: str | None) -> None:
        super().__init__(f"The approval was already decided: {decision}")
        self.decision = decision
        self.decided_by = decided_by


class ApprovalExpiredError(MutationError):
    """The approval's deadline passed undecided: it can no longer be decided."""

    code = ErrorCode.APPROVAL_EXPIRED

    def __init__(self, expired_at: str) -> None:
        super().__init__(f"The approval expired at {expired_at} undecided")
        self.expired_at = expired_at


class ConcurrencyLimitReachedError(MutationError):
    """The workflow already has as many live runs as its `concurrency` setting allows."""

    code = ErrorCode.CONCURRENCY_LIMIT_REACHED

    def __init__(self, limit: int, live: int) -> None:
        super().__init__(
            f"The workflow allows {limit} run{'s' if limit != 1 else ''} at once and has {live} "
            "pending, running or paused: start again when one ends"
        )
        self.limit = limit
        self.live = live


class RetriesExhaustedError(MutationError):
    """The node failed as often as the run's `maxRetries` allows: it takes no more reports."""

    code = ErrorCode.RETRIES_EXHAUSTED

    def __init__(self, node_id: str, failures: int, max_retries: int) -> None:
        super().__init__(
            f"Node {node_id!r} failed {failures} time{'s' if failures != 1 else ''} and the run "
            f"allows {max_retries} retr{'ies' if max_retries != 1 else 'y'}: finish the "
            "execution (or fail it)"
        )
        self.node_id = node_id
        self.failures = failures
        self.max_retries = max_retries

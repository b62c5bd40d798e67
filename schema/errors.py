"""The typed errors mutations return as members of their result unions. Each is built from
its domain exception (`resolvers.mutations.errors`) by `from_error`."""

from __future__ import annotations

import strawberry

from resolvers.mutations import errors
from resolvers.validation import issues

# Registered on the domain enums themselves, so that annotations name a class type checkers
# understand (`strawberry.enum` returns its argument).
strawberry.enum(
    errors.ErrorCode,
    description="What kind of failure an error is; one value per error type.",
)
strawberry.enum(
    issues.IssueCode,
    description=(
        "What is wrong with one field: REQUIRED (missing, null or blank), TOO_LONG, TOO_MANY "
        "(list items), TOO_LARGE (bytes), OUT_OF_RANGE, INVALID (type or shape), INVALID_ID, "
        "NOT_FOUND (names nothing in your organization), DUPLICATE, UNKNOWN_NODE (an edge end "
        "that names no node), TOO_FEW_BRANCHES (a decision node with under two exits)."
    ),
)


@strawberry.interface(
    name="Error", description="An expected failure of a mutation: nothing was changed."
)
class Failure:
    code: errors.ErrorCode = strawberry.field(description="What kind of failure this is.")
    message: str = strawberry.field(description="A sentence for people; do not parse it.")


@strawberry.type(description="One problem with one field of the input.")
class FieldIssue:
    path: str = strawberry.field(
        description=(
            "Where the problem is, relative to the mutation's `input` "
            "(`nodes[3].data.agentId`); an argument outside `input` is named by itself "
            "(`agentId`), and `input` means the input as a whole."
        )
    )
    message: str = strawberry.field(description="What is wrong, for people.")
    code: issues.IssueCode = strawberry.field(description="What is wrong, for programs.")

    @classmethod
    def from_issue(cls, issue: issues.Issue) -> FieldIssue:
        return cls(path=issue.path, message=issue.message, code=issue.code)


@strawberry.type(description="The input breaks one or more rules; all of them are listed.")
class ValidationError(Failure):
    issues: list[FieldIssue] = strawberry.field(
        description="Every problem found, each with its path (at most 200)."
    )

    @classmethod
    def from_error(cls, error: errors.InvalidInputError) -> ValidationError:
        return cls(
            code=error.code,
            message=error.message,
            issues=[FieldIssue.from_issue(issue) for issue in error.issues],
        )


@strawberry.type(description="The object does not exist in your organization (or is deleted).")
class NotFound(Failure):
    id: strawberry.ID = strawberry.field(description="The id that names nothing.")

    @classmethod
    def from_error(cls, error: errors.NotFoundError) -> NotFound:
        return cls(code=error.code, message=error.message, id=strawberry.ID(error.global_id))


@strawberry.type(
    description=(
        "Someone saved a newer version since you read it: reload, reapply your change and "
        "save with `currentVersion` as the expected version."
    )
)
class VersionConflict(Failure):
    current_version: int = strawberry.field(
        description="The version stored now; 0 when there is none."
    )

    @classmethod
    def from_error(cls, error: errors.VersionConflictError) -> VersionConflict:
        return cls(code=error.code, message=error.message, current_version=error.current_version)


@strawberry.type(
    description=(
        "The credentials do not identify anyone: a wrong email or password, or a refresh "
        "token that is unknown, already used, expired or logged out."
    )
)
class AuthenticationFailed(Failure):
    @classmethod
    def from_error(cls, error: errors.AuthenticationFailedError) -> AuthenticationFailed:
        return cls(code=error.code, message=error.message)


@strawberry.type(
    description="Your role, or the object's own permissions, do not allow this change."
)
class Forbidden(Failure):
    @classmethod
    def from_error(cls, error: errors.ForbiddenError) -> Forbidden:
        return cls(code=error.code, message=error.message)


@strawberry.type(description="The object's current state does not allow this change.")
class InvalidTransition(Failure):
    @classmethod
    def from_error(cls, error: errors.InvalidTransitionError) -> InvalidTransition:
        return cls(code=error.code, message=error.message)


@strawberry.type(
    description=(
        "The idempotency key was already used for a different request. A retry must send the "
        "same input with the same key; a new request needs a new key."
    )
)
class IdempotencyConflict(Failure):
    idempotency_key: str = strawberry.field(description="The key that was reused.")

    @classmethod
    def from_error(cls, error: errors.IdempotencyConflictError) -> IdempotencyConflict:
        return cls(code=error.code, message=error.message, idempotency_key=error.key)

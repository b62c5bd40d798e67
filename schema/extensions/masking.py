"""Schema extensions that protect the gateway and its clients: the masking of unexpected
errors (quoting the request id, with the traceback logged under it) and the request id in
every response's `extensions`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import structlog
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.schema.exceptions import InvalidOperationTypeError

from flowgate.request_scope import current_request_id
from flowgate.stores.errors import unreachable_store
from resolvers.errors import ClientError

log = structlog.get_logger(__name__)


def unexpected(error: GraphQLError) -> bool:
    """Whether `error` must be masked. Expected errors (bad input, not found, ...) reach the
    client as they are, and so do validation errors (no original error: the query itself is
    wrong) and variables that do not fit their types (graphql-core wraps its own
    GraphQLError naming the variable). Anything else is a bug or an outage, and its text
    could leak internals."""
    original = error.original_error
    return original is not None and not isinstance(original, ClientError | GraphQLError)


class MaskUnexpectedErrors(MaskErrors):
    """Replaces an unexpected error by a message the client can quote: the request id."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=unexpected, error_message="Internal server error")

    def _process_result(self, result: object) -> None:
        # Strawberry's asks `isinstance(result, <a runtime-checkable Protocol with
        # `errors`>)`, which walks the Protocol's members on every operation (about 10 us on
        # Python 3.11; issue 16). The Protocol matches any object that has `errors`.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = current_request_id()
        if isinstance(error.original_error, InvalidOperationTypeError):
            # The legacy graphql-ws protocol runs subscriptions only: the client's mistake.
            return GraphQLError(
                "graphql-ws runs subscriptions only: send queries and mutations over HTTP "
                "or graphql-transport-ws",
                nodes=error.nodes,
                extensions={"code": "OPERATION_TYPE_NOT_ALLOWED", "requestId": request_id},
            )
        store = unreachable_store(error.original_error)
        if store is not None:
            # An outage, not a bug: the client may retry, and only this field failed.
            log.warning("store_unavailable", store=store, path=error.path, message=error.message)
            return GraphQLError(
                f"{store} is unavailable; retry later (request id {request_id})",
                nodes=error.nodes,
                path=error.path,
                extensions={"code": "STORE_UNAVAILABLE", "store": store, "requestId": request_id},
            )
        log.error(
            "unexpected_error",
            request_id=request_id,
            path=error.path,
            message=error.message,
            exc_info=error.original_error or error,
        )
        masked = super().anonymise_error(error)
        masked.message = f"{self.error_message} (request id {request_id})"
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        return masked


class CodedVariableErrors(SchemaExtension):
    """Variables whose values do not fit their types are refused by graphql-core when the
    operation starts, without a code: they are BAD_USER_INPUT. (Parse and validation errors
    get theirs where they arise, in `schema.extensions.limits`; errors of fields, which
    have a path, carry their own or are masked with one.)"""

    def on_operation(self) -> Iterator[None]:
        yield
        for error in getattr(self.execution_context.result, "errors", None) or []:
            extensions = error.extensions or {}
            if error.path is None and "code" not in extensions:
                error.extensions = {**extensions, "code": "BAD_USER_INPUT"}


class RequestIdInExtensions(SchemaExtension):
    """`extensions.requestId`: the id also sent in the `X-Request-ID` header."""

    def get_results(self) -> dict[str, Any]:
        return request_id_results()


def request_id_results() -> dict[str, Any]:
    """The operation's `extensions` entry (also added by the prepared path)."""
    request_id = current_request_id()
    return {"requestId": request_id} if request_id else {}


def masked(error: Exception) -> GraphQLError:
    """An exception raised where no operation runs yet (a websocket's admission of one),
    as the client may see it: a `ClientError` as it is, anything else masked."""
    wrapped = (
        error if isinstance(error, GraphQLError) else GraphQLError(str(error), original_error=error)
    )
    return mask_escaped([wrapped])[0]


def mask_escaped(errors: list[GraphQLError]) -> list[GraphQLError]:
    """`errors` masked as the extension masks them, for an answer the extension never saw:
    an extension's `on_operation` that fails before the operation starts (a persisted-query
    store, a bug) ends the operation before the masking extension is entered, and Strawberry
    answers with the exception's own text (`schema.extensions.hooks.FlowgateSchema`)."""
    if not any(map(unexpected, errors)):
        return errors
    return MaskUnexpectedErrors()._process_errors(errors)

"""The GraphQL surface: types, inputs, enums, error types and root fields, assembled here."""

from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig

from resolvers.errors import ClientError
from schema.compiled.executor import CompiledExecutionContext
from schema.extensions.hooks import FlowgateSchema
from schema.extensions.introspection import IntrospectionNeedsCredential
from schema.extensions.limits import OperationLimits
from schema.extensions.masking import (
    CodedVariableErrors,
    MaskUnexpectedErrors,
    RequestIdInExtensions,
)
from schema.extensions.observe import ObserveOperations
from schema.extensions.persisted import PersistedQueriesExtension
from schema.extensions.round_trips import RoundTripsInExtensions
from schema.mutations import Mutation
from schema.naming import CachedNameConverter
from schema.query import Query
from schema.subscription import Subscription


def _should_mask(error: Exception) -> bool:
    # Expected errors (bad input, not found, ...) reach the client as they are, and so do
    # validation errors (no original error: the query itself is wrong) and variables that do
    # not fit their types (graphql-core wraps its own GraphQLError naming the variable).
    # Anything else is a bug or an outage, and its text could leak internals.
    original = error.original_error if hasattr(error, "original_error") else None
    return original is not None and not isinstance(original, ClientError | GraphQLError)


schema = FlowgateSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    config=StrawberryConfig(name_converter=CachedNameConverter()),
    # Root query fields over PostgreSQL run as one statement each (`schema.compiled`).
    execution_context_class=CompiledExecutionContext,
    extensions=[
        PersistedQueriesExtension,
        OperationLimits,
        IntrospectionNeedsCredential,
        RoundTripsInExtensions,
        RequestIdInExtensions,
        CodedVariableErrors,
        # Before the masking: it counts and logs the codes the client is sent.
        ObserveOperations,
        lambda: MaskUnexpectedErrors(
            should_mask_error=_should_mask, error_message="Internal server error"
        ),
    ],
)

__all__ = ["schema"]

"""The GraphQL surface: types, inputs, enums, error types and root fields, assembled here."""

from strawberry.schema.config import StrawberryConfig

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
        MaskUnexpectedErrors,
    ],
)

__all__ = ["schema"]

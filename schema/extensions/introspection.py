"""Introspection behind authentication: in production (with `FLOWGATE_ANALYST_IDE`, or
`FLOWGATE_INTROSPECTION` on), the schema is described to signed-in callers only, so the IDE
an analyst signs into is no map for anyone else. Development keeps it open."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, validate
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from resolvers.context import Context
from resolvers.errors import SIGN_IN


class IntrospectionNeedsCredential(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        request: object = context.context
        if (
            not context.pre_execution_errors  # nothing else is wrong yet
            and context.graphql_document is not None
            and isinstance(request, Context)
            and not request.authenticated
            and request.services.settings.introspection_needs_credential
            and validate(
                context.schema._schema, context.graphql_document, [NoSchemaIntrospectionCustomRule]
            )
        ):
            context.pre_execution_errors = [
                GraphQLError(
                    f"Introspection needs a credential here. {SIGN_IN}",
                    extensions={"code": "UNAUTHENTICATED"},
                )
            ]
        yield

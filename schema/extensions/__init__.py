"""The schema's extensions, one home: what every operation goes through whatever its fields.

Persisted queries, the operation limits (depth, aliases, tokens, cost, one login per
operation), introspection behind a credential, round trips, the request id, error codes and
masking, metrics and tracing. They are Strawberry `SchemaExtension`s, so they live with the
schema that lists them (`schema/__init__.py`); the HTTP middlewares that run before GraphQL
(body limit, request id, refusals) stay at the edge, in `flowgate.protection`."""

"""Prepared operations: query texts the full path has answered with every root field compiled.

A text lands here only after Strawberry's whole pipeline ran it (persisted queries, parsing,
validation and the limits, the compiled executor) and it came back without an error, for
one role. The prepared path (`schema.compiled.answer`) may then answer the same text, for
the same role, without Strawberry's view, its extensions and graphql-core's field-by-field
execution: the same compiled statements, with the same checks made again where they depend
on the request (persisted queries, the cost of its variables, permissions, visibility).
Bounded: texts come from clients."""

from __future__ import annotations

from graphql import OperationDefinitionNode

from resolvers.compiled.cache import BoundedCache

PREPARED_SIZE = 512

# (text, operation name, role) -> True; the parsed documents stay in `parse_cached`.
_prepared: BoundedCache[bool] = BoundedCache(PREPARED_SIZE)


def remember(operation: OperationDefinitionNode, role: object) -> None:
    """Called by the compiled executor when `operation` was answered fully compiled."""
    if operation.loc is None:  # a document built in code, not parsed from a client's text
        return
    name = operation.name.value if operation.name else None
    _prepared.put((operation.loc.source.body, name, role), True)


def is_prepared(query: str, operation_name: str | None, role: object) -> bool:
    return _prepared.get((query, operation_name, role)) is not None

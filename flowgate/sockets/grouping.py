"""Which subscriptions may share a rendering, and with whom (`flowgate.sockets.groups`).

Two subscribers share one when they send the same document, operation name and variables
and may see the same things. What one may see is decided by the organization, the role
(permission classes, admin-only fields) and the set of workflows one may read (executions
and figures of the others are left out), and, for the few fields that depend on who asks
(`PER_USER_FIELDS`: the conversations one may see, and the chat figures counted over
them), by the user too, when the document reaches them.

Only root fields whose stream is the same for every such subscriber whenever they join are
grouped (`GROUPED_FIELDS`): live-only streams without a cursor. A stream that replays from a
cursor (`executionProgress`) or answers per user is never grouped."""

from __future__ import annotations

import contextlib
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, cast

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_operation_ast,
    visit,
)

from resolvers import access
from resolvers.context import Context
from schema.extensions.limits import parse_cached

# Root field -> whether its items are states (a member joining late gets the latest first).
GROUPED_FIELDS = {"executionUpdates": False, "dashboardStatsChanged": True}
PER_USER_FIELDS = frozenset(
    {
        ("Agent", "conversations"),
        ("User", "conversations"),
        # the chats counted are those of the conversations one may see
        ("DashboardStats", "chats"),
    }
)


@dataclass(frozen=True)
class Plan:
    key: Hashable
    replay_last: bool
    response_key: str  # where the root field's answer goes (its alias or name)


async def plan(
    context: Context,
    schema: Any,
    query: str,
    variables: dict[str, object] | None,
    operation_name: str | None,
) -> Plan | None:
    """How to share this operation, or None: run it on its own (Strawberry's path, which
    also answers every malformed or refused operation as it always has)."""
    if not context.authenticated:
        return None
    try:
        document = parse_cached(query, context.services.settings.max_tokens)
        # As text: orjson's bytes keep the 4 KiB buffer they were written into, and the
        # key lives as long as the subscription (4 KiB of each idle subscriber's 50).
        variables_key = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS).decode()
    except (GraphQLError, TypeError):
        return None
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.SUBSCRIPTION:
        return None
    (root, *others) = operation.selection_set.selections or (None,)
    if others or not isinstance(root, FieldNode) or root.name.value not in GROUPED_FIELDS:
        return None
    principal = context.principal
    readable: frozenset[str] | None
    try:
        readable = await access.readable_workflow_ids(context.services.mongo, principal)
    except Exception:
        return None
    graphql_schema = cast("GraphQLSchema", schema._schema)
    per_user = _reaches_per_user_fields(graphql_schema, document)
    key = (
        query,
        operation_name,
        variables_key,
        principal.organization_id,
        principal.role,
        readable,
        principal.user_id if per_user else None,
    )
    response_key = root.alias.value if root.alias else root.name.value
    return Plan(key, GROUPED_FIELDS[root.name.value], response_key)


class _PerUserFields(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.found = False

    def enter_field(self, node: FieldNode, *_: object) -> None:
        parent = self.type_info.get_parent_type()
        if parent is not None and (parent.name, node.name.value) in PER_USER_FIELDS:
            self.found = True


def _reaches_per_user_fields(schema: GraphQLSchema, document: DocumentNode) -> bool:
    type_info = TypeInfo(schema)
    visitor = _PerUserFields(type_info)
    with contextlib.suppress(GraphQLError):
        visit(document, TypeInfoVisitor(type_info, visitor))
    return visitor.found

"""An operation's cost, estimated before it runs from the page sizes it asks for.

Each field costs 1. A connection multiplies what it selects by its page size (`first` or
`last`, from a literal or a variable, else the default page size), because that many nodes
come back; its `edges` list is that same page, so it does not multiply again. Any other list
of objects (an execution's steps, a flowchart's nodes) multiplies by `list_size`, a guess at
a typical length. So `agents(first: 100) { edges { node { executions(first: 100) ... } } }`
costs about 100 x 100 x what each execution selects, whatever the data holds today."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    InlineFragmentNode,
    IntValueNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
    is_composite_type,
    value_from_ast_untyped,
)

from resolvers.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

PAGE_ARGUMENTS = ("first", "last")


def estimate_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    list_size: int,
    max_page_size: int = MAX_PAGE_SIZE,
) -> int:
    """The estimated cost of the operation `operation_name` of a valid `document`."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    values = {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    values.update(variables or {})
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    walk = _Walk(schema, fragments, values, list_size, max_page_size)
    return walk.selection_set(operation.selection_set, schema.get_root_type(operation.operation))


@dataclass
class _Walk:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    list_size: int
    max_page_size: int

    def selection_set(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        seen: frozenset[str] = frozenset(),
    ) -> int:
        cost = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                cost += self.field(selection, parent, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                cost += self.selection_set(selection.selection_set, target, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    cost += self.selection_set(fragment.selection_set, target, seen | {name})
        return cost

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, seen: frozenset[str]) -> int:
        definition = _field_definition(parent, node.name.value)
        # Introspection (`__schema`, `__type`) and unknown fields cost 1: the schema's own
        # description is served from memory, and validation has refused unknown fields.
        if definition is None or node.selection_set is None:
            return 1
        child = get_named_type(definition.type)
        return 1 + self.multiplier(node, definition, parent) * self.selection_set(
            node.selection_set, child, seen
        )

    def multiplier(
        self, node: FieldNode, definition: GraphQLField, parent: GraphQLNamedType | None
    ) -> int:
        if _is_connection(get_named_type(definition.type)):
            return self.page_size(node)
        if _is_list_of_objects(definition.type):
            # A connection's `edges` is the page its connection has already counted.
            if parent is not None and _is_connection(parent):
                return 1
            # A list that takes `first` (`executionAggregate`, `history`) returns that many.
            # Not capped at the page size: such a field has a bound of its own, which it
            # enforces, and up to which it is counted.
            if "first" in definition.args:
                requested = self.requested_size(node)
                return self.list_size if requested is None else max(0, requested)
            return self.list_size
        return 1

    def page_size(self, node: FieldNode) -> int:
        requested = self.requested_size(node)
        if requested is None:
            return DEFAULT_PAGE_SIZE
        # Sizes out of range are refused by the field itself, with its own error.
        return max(0, min(requested, self.max_page_size))

    def requested_size(self, node: FieldNode) -> int | None:
        """The `first` or `last` the field is given, if it is a number."""
        for argument in node.arguments or ():
            if argument.name.value not in PAGE_ARGUMENTS:
                continue
            value: Any = None
            if isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                value = self.variables.get(argument.value.name.value)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return None


def _field_definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        field: GraphQLField | None = parent.fields.get(name)
        return field
    return None


def _is_connection(type_: GraphQLNamedType) -> bool:
    return (
        isinstance(type_, GraphQLObjectType)
        and "edges" in type_.fields
        and "pageInfo" in type_.fields
    )


def _is_list_of_objects(type_: GraphQLType) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList) and is_composite_type(get_named_type(type_))

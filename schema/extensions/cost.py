"""An operation's cost, estimated before it runs from the page sizes it asks for.

Each field costs 1. A connection multiplies what it selects by its page size (`first` or
`last`, the values the field will see once graphql-core has coerced them, else the default
page size), because that many nodes come back; its `edges` list is that same page, so it
does not multiply again. Any other list of objects (an execution's steps, a flowchart's
nodes) multiplies by `list_size`, a guess at a typical length. So
`agents(first: 100) { edges { node { executions(first: 100) ... } } }` costs about
100 x 100 x what each execution selects, whatever the data holds today.

It fails closed: a page size that cannot be read (variables that do not coerce, which the
operation will refuse anyway) counts as the largest page. Each fragment is costed once and
its cost reused at every spread (`schema.extensions.shape` bounds how many there are)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
    is_composite_type,
)
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_variable_values,
)

from resolvers.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

PAGE_ARGUMENTS = ("first", "last")


def cost_and_dependence(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    list_size: int,
    max_page_size: int = MAX_PAGE_SIZE,
) -> tuple[int, bool]:
    """The estimated cost of the operation `operation_name` of a valid `document`, and
    whether it read the variables: when it did not, the same operation costs the same
    whatever variables it is sent (its page sizes are literals or defaults), and a caller
    may keep the cost."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0, False
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }

    declared = operation.variable_definitions or ()

    def values() -> VariableValues | None:
        # The values the fields will see: `100.0` is the Int 100 to graphql-core, and to us.
        # Coerced only if a page size needs them (most operations have none or literals).
        # An operation that declares none sees none, whatever it was sent (graphql-core
        # coerces only the declared ones).
        coerced = (
            get_variable_values(schema, declared, dict(variables or {}) if declared else {})
            if not declared or variables is None or isinstance(variables, Mapping)
            else None
        )
        return None if isinstance(coerced, list) else coerced  # errors: fail closed

    walk = _Walk(schema, fragments, values, list_size, max_page_size)
    cost = walk.selection_set(operation.selection_set, schema.get_root_type(operation.operation))
    # Without declared variables, the page sizes are literals or defaults: reading the (no)
    # variables made the cost no less the operation's own. Such costs were worked out
    # again for every request of a page query: a third of the CPU of Q2 (issue 16).
    return cost, walk.read_variables and bool(declared)


# Variables longer than this as JSON are not worth keeping a cost under.
MAX_VARIABLES_KEY = 1024


def variables_key(variables: object) -> bytes | None:
    """`variables` as a key for the cost they give an operation: JSON with sorted keys, when
    they are short and nothing but JSON (as decoded from a request body), so that equal keys
    are equal values, which coerce alike; else None (not to be kept)."""
    if variables is None:
        return b"null"
    if not isinstance(variables, dict):
        return None
    try:
        key = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    # A value orjson writes as JSON but is not JSON (a UUID, a date, an enum) would share
    # its key with the text it is written as: not kept.
    if len(key) > MAX_VARIABLES_KEY or orjson.loads(key) != variables:
        return None
    return key


@dataclass
class _Walk:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    coerce: Callable[[], VariableValues | None]  # None: they do not coerce
    list_size: int
    max_page_size: int
    costed: dict[str, int] = dataclasses.field(default_factory=dict)
    read_variables: bool = False
    _variables: VariableValues | None = None

    @property
    def variables(self) -> VariableValues | None:
        if not self.read_variables:
            self._variables, self.read_variables = self.coerce(), True
        return self._variables

    def selection_set(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None
    ) -> int:
        cost = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                cost += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                cost += self.selection_set(selection.selection_set, target)
            elif isinstance(selection, FragmentSpreadNode):
                cost += self.fragment(selection.name.value)
        return cost

    def fragment(self, name: str) -> int:
        """A fragment's cost does not depend on where it is spread: costed once."""
        if name not in self.costed:
            self.costed[name] = 0  # a cycle (refused by validation) adds nothing
            fragment = self.fragments.get(name)
            if fragment is not None:
                target = self.schema.get_type(fragment.type_condition.name.value)
                self.costed[name] = self.selection_set(fragment.selection_set, target)
        return self.costed[name]

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> int:
        definition = _field_definition(parent, node.name.value)
        # Introspection (`__schema`, `__type`) and unknown fields cost 1: the schema's own
        # description is served from memory, and validation has refused unknown fields.
        if definition is None or node.selection_set is None:
            return 1
        child = get_named_type(definition.type)
        return 1 + self.multiplier(node, definition, parent) * self.selection_set(
            node.selection_set, child
        )

    def multiplier(
        self, node: FieldNode, definition: GraphQLField, parent: GraphQLNamedType | None
    ) -> int:
        if _is_connection(get_named_type(definition.type)):
            return self.page_size(node, definition)
        if _is_list_of_objects(definition.type):
            # A connection's `edges` is the page its connection has already counted.
            if parent is not None and _is_connection(parent):
                return 1
            # A list that takes `first` (`executionAggregate`, `history`) returns that many.
            # Not capped at the page size: such a field has a bound of its own, which it
            # enforces, and up to which it is counted.
            if "first" in definition.args:
                sizes = self.requested_sizes(node, definition)
                if sizes is None:  # unreadable: the worst case, the most a page may hold
                    return max(self.list_size, self.max_page_size)
                return max(0, *sizes) if sizes else self.list_size
            return self.list_size
        return 1

    def page_size(self, node: FieldNode, definition: GraphQLField) -> int:
        sizes = self.requested_sizes(node, definition)
        if sizes is None:
            return self.max_page_size  # the field will refuse it; until then, fail closed
        if not sizes:
            return DEFAULT_PAGE_SIZE
        # Sizes out of range are refused by the field itself, with its own error.
        return max(0, min(max(sizes), self.max_page_size))

    def requested_sizes(self, node: FieldNode, definition: GraphQLField) -> list[int] | None:
        """The `first`/`last` the field is given, coerced as the field will see them (`100.0`
        is 100); None when they cannot be read, which callers count as the worst case."""
        if self.variables is None:
            return None
        try:
            arguments = get_argument_values(definition, node, self.variables)
        except GraphQLError:
            return None
        sizes = [arguments[name] for name in PAGE_ARGUMENTS if arguments.get(name) is not None]
        if not all(isinstance(size, int) and not isinstance(size, bool) for size in sizes):
            return None
        return [int(size) for size in sizes]


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

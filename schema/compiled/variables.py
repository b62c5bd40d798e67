"""Where an operation reads its variables: what decides whether a statement built for one
request's variables may serve another's (`schema.compiled.executor`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    VariableNode,
    Visitor,
    visit,
)

# The argument of a root field by id (`agent(id:)`, `node(id:)`, ...).
ID_ARGUMENT = "id"
# The cursors of a root connection.
CURSOR_ARGUMENTS = ("after", "before")


def id_variable(field: FieldNode) -> str | None:
    """The variable a field's `id` argument is given by, if it is given by one."""
    found = argument_variables(field, (ID_ARGUMENT,))
    return found[0] if found else None


def argument_variables(field: FieldNode, names: tuple[str, ...]) -> list[str]:
    """The variables the field's arguments `names` are given by, where given by one."""
    return [
        argument.value.name.value
        for argument in field.arguments or ()
        if argument.name.value in names and isinstance(argument.value, VariableNode)
    ]


def variable_reads(
    operation: OperationDefinitionNode,
    fragments: Iterable[FragmentDefinitionNode],
    name: str,
) -> int:
    """How many times the operation's selections (and every fragment of the document, used
    or not: an upper bound is safe) read the variable `name`; its definition not counted."""
    counter = _Reads(name)
    visit(operation.selection_set, counter)
    for fragment in fragments:
        visit(fragment, counter)
    return counter.reads


class _Reads(Visitor):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.reads = 0

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        if node.name.value == self.name:
            self.reads += 1

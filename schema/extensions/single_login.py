"""One `login` or `refreshToken` per operation.

Each checks a credential, and a login costs an argon2 hash (tens of ms of CPU) whatever
the answer: fifteen aliased `login` fields in one anonymous request cost fifteen hashes. A
client never needs two in one operation, so a document that asks for more is refused before
it runs (counted through fragments, each fragment counted once and reused at every spread)."""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
)

CREDENTIAL_FIELDS = frozenset({"login", "refreshToken"})


class OneLoginPerOperation(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        if node.operation != OperationType.MUTATION:
            return
        fragments = {
            definition.name.value: definition
            for definition in self.context.document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        count = _Counter(fragments).selections(node.selection_set)
        if count > 1:
            self.report_error(
                GraphQLError(
                    f"At most one `login` or `refreshToken` per operation; this one has {count}",
                    node,
                    extensions={"code": "TOO_MANY_LOGINS", "count": count},
                )
            )


class _Counter:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.counted: dict[str, int] = {}

    def selections(self, selection_set: SelectionSetNode) -> int:
        count = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                count += selection.name.value in CREDENTIAL_FIELDS
            elif isinstance(selection, InlineFragmentNode):
                count += self.selections(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                count += self.fragment(selection.name.value)
        return count

    def fragment(self, name: str) -> int:
        if name not in self.counted:
            self.counted[name] = 0  # a cycle (refused by graphql-core's rules) adds nothing
            fragment = self.fragments.get(name)
            if fragment is not None:
                self.counted[name] = self.selections(fragment.selection_set)
        return self.counted[name]

"""A document's shape, measured in one linear pass: each operation's depth, and the aliases
and field selections it holds once its fragments are expanded.

Measured spread by spread, a document of 22 fragments each spreading the previous one twice
expands to four million selections: 870 bytes that froze the event loop for 12 s. Here each
fragment is measured once and its measure reused at every spread, so the pass costs what
the text does, and the expanded size (which may be astronomical) is a number to compare
with a limit before anything else walks the document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

# Counts stop growing here: beyond any limit, and small enough to print in a message.
CAP = 10**12


@dataclass(frozen=True)
class Measure:
    depth: int  # levels of selection sets below (a leaf field: 0)
    aliases: int  # aliased fields, fragments expanded
    fields: int  # field selections, fragments expanded

    def __add__(self, other: Measure) -> Measure:
        return Measure(
            max(self.depth, other.depth),
            min(CAP, self.aliases + other.aliases),
            min(CAP, self.fields + other.fields),
        )


NOTHING = Measure(0, 0, 0)


@dataclass(frozen=True)
class Shape:
    depths: Mapping[str, int]  # by operation name ("anonymous" for none)
    aliases: int
    fields: int


def measure_document(document: DocumentNode) -> Shape:
    """The shape of every operation of `document` (fragments expanded, each measured once)."""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    measurer = _Measurer(fragments)
    depths: dict[str, int] = {}
    total = NOTHING
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            measure = measurer.selections(definition.selection_set)
            name = definition.name.value if definition.name else "anonymous"
            depths[name] = max(depths.get(name, 0), measure.depth)
            total = Measure(0, total.aliases, total.fields) + measure
    return Shape(depths, total.aliases, total.fields)


class _Measurer:
    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.measured: dict[str, Measure] = {}
        self.open: set[str] = set()

    def fragment(self, name: str) -> Measure:
        known = self.measured.get(name)
        if known is not None:
            return known
        fragment = self.fragments.get(name)
        if fragment is None or name in self.open:
            # Unknown fragments and cycles are refused by graphql-core's own rules.
            return NOTHING
        self.open.add(name)
        measure = self.selections(fragment.selection_set)
        self.open.discard(name)
        self.measured[name] = measure
        return measure

    def selections(self, selection_set: SelectionSetNode) -> Measure:
        measure = NOTHING
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                measure += self.field(selection)
            elif isinstance(selection, FragmentSpreadNode):
                measure += self.fragment(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                measure += self.selections(selection.selection_set)
        return measure

    def field(self, node: FieldNode) -> Measure:
        alias = 1 if node.alias else 0
        if node.selection_set is None:
            return Measure(0, alias, 1)
        below = self.selections(node.selection_set)
        # Introspection (`__schema`, `__type`) is served from memory: its nesting, which
        # GraphiQL's own query takes deep, is not held against the depth limit.
        depth = 0 if node.name.value.startswith("__") else 1 + below.depth
        return Measure(depth, min(CAP, alias + below.aliases), min(CAP, 1 + below.fields))

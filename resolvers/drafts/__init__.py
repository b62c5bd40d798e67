"""Typed drafts: what a mutation's input carries into the resolvers, before any check.

A draft for creating (`AgentDraft`) types every field; a draft of changes (`AgentChanges`)
types each field `T | None | Unset`: `UNSET` is "omitted, keep the stored value" and `None`
an explicit null, which the checks report. The schema's input types build them
(`to_draft()`); resolvers never see GraphQL's own sentinel or a dict keyed by names.

Issue paths stay the GraphQL names clients send (`settings.timeoutSeconds`): `graphql_name`
derives them from the attribute, as Strawberry derives the schema's names."""

from __future__ import annotations

import dataclasses
import enum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


class Unset(enum.Enum):
    """The one value of "omitted": an enum of one member, so that `is UNSET` narrows."""

    UNSET = "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = Unset.UNSET


def given(draft: DataclassInstance) -> dict[str, object]:
    """The fields of a draft (a dataclass) that are not `UNSET`, by attribute name, in
    declaration order: what the checks walk and an audit summary lists."""
    return {
        field.name: value
        for field in dataclasses.fields(draft)
        if (value := getattr(draft, field.name)) is not UNSET
    }


def graphql_name(attribute: str) -> str:
    """The input's name in the schema (`timeout_seconds` -> `timeoutSeconds`), as issue
    paths name it: Strawberry's own camel-casing, kept here so resolvers need no schema."""
    head, *rest = attribute.split("_")
    return head + "".join(part.capitalize() for part in rest)


def apply_changes(row: object, changes: DataclassInstance) -> dict[str, object]:
    """Set the given (checked) values of `changes` on `row` (a model with attributes of the
    same names); the values they replace, by name, for the audit summary. A value equal to
    the stored one is not set, so that it marks nothing changed."""
    after = given(changes)
    before = {name: getattr(row, name) for name in after}
    for name, value in after.items():
        if before[name] != value:
            setattr(row, name, value)
    return before

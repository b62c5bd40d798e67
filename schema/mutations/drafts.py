"""From an input's optional field to a draft's: GraphQL's "omitted" becomes the resolvers'
own `UNSET` (which knows nothing of Strawberry); an explicit null stays `None`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

import strawberry

from resolvers.drafts import UNSET, Unset

T = TypeVar("T")
D = TypeVar("D")
D_co = TypeVar("D_co", covariant=True)


def kept(value: T) -> T | Unset:
    """`UNSET` when the client omitted the field, else its value (null included)."""
    return UNSET if value is strawberry.UNSET else value


class Drafted(Protocol[D_co]):
    """A nested input that builds its own draft."""

    def to_draft(self) -> D_co: ...


def drafted(value: Drafted[D] | None) -> D | Unset | None:
    """The draft of an optional nested input: `UNSET` when omitted, `None` when null."""
    if value is strawberry.UNSET:
        return UNSET
    return None if value is None else value.to_draft()


def drafted_list(values: Sequence[Drafted[D]] | None) -> list[D] | Unset | None:
    """The drafts of an optional list of nested inputs: `UNSET` when omitted, `None` when
    null."""
    if values is strawberry.UNSET:
        return UNSET
    return None if values is None else [value.to_draft() for value in values]

"""From an input's optional field to a draft's: GraphQL's "omitted" becomes the resolvers'
own `UNSET` (which knows nothing of Strawberry); an explicit null stays `None`."""

from __future__ import annotations

from typing import TypeVar

import strawberry

from resolvers.drafts import UNSET, Unset

T = TypeVar("T")


def kept(value: T) -> T | Unset:
    """`UNSET` when the client omitted the field, else its value (null included)."""
    return UNSET if value is strawberry.UNSET else value

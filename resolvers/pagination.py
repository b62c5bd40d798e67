"""Keyset pagination over (sort key, id) with opaque cursors.

A cursor encodes the sort value and id of the row it points at, so the next page starts
strictly after it: stable while rows are inserted, and an index range scan at any depth
(an OFFSET would read and discard every earlier row)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from flowgate.settings import Settings
from resolvers import cursors
from resolvers.errors import BadInputError

# The page size of a connection or search when `first`/`last` is not given: the one home of
# this rule (the cost estimate and the argument descriptions read it here).
DEFAULT_PAGE_SIZE: Final = 20
# The largest page when no limit is passed: the gateway's `max_page_size` setting as it is
# when the environment does not set it (every request passes the configured one).
MAX_PAGE_SIZE: Final[int] = Settings.model_fields["max_page_size"].default

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    """Validated Relay arguments. `backward` pages come from `last`/`before`."""

    limit: int
    cursor: tuple[Any, uuid.UUID] | None
    backward: bool

    @classmethod
    def from_arguments(
        cls,
        first: int | None,
        after: str | None,
        last: int | None = None,
        before: str | None = None,
        *,
        max_size: int = MAX_PAGE_SIZE,
    ) -> PageRequest:
        if first is not None and last is not None:
            raise BadInputError("last", "cannot be combined with `first`")
        if after is not None and before is not None:
            raise BadInputError("before", "cannot be combined with `after`")
        # Each direction has its own size and cursor: a mixed pair would silently drop one.
        if first is not None and before is not None:
            raise BadInputError("before", "cannot be combined with `first`")
        if last is not None and after is not None:
            raise BadInputError("after", "cannot be combined with `last`")
        backward = last is not None or before is not None
        argument, size = ("last", last) if backward else ("first", first)
        if size is None:
            size = DEFAULT_PAGE_SIZE
        if size < 0:
            raise BadInputError(argument, f"must not be negative, got {size}")
        if size > max_size:
            raise BadInputError(argument, f"must be at most {max_size}, got {size}")
        cursor_argument, raw_cursor = ("before", before) if backward else ("after", after)
        cursor = decode_cursor(raw_cursor, cursor_argument) if raw_cursor is not None else None
        return cls(limit=size, cursor=cursor, backward=backward)

    @property
    def cursor_argument(self) -> str:
        """The argument the cursor came in, for errors found once its value is parsed."""
        return "before" if self.backward else "after"


@dataclass
class Page(Generic[T]):
    """One page of rows in display order, with the keys their cursors encode."""

    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


# The codec (`resolvers.cursors`) under the names the callers know.
encode_cursor = cursors.encode_page
decode_cursor = cursors.decode_page

"""A bounded cache of plans: an operation is planned once per document, operation name,
role and the values of its Boolean variables (which `@skip`/`@include` read)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

ValueT = TypeVar("ValueT")


class BoundedCache(Generic[ValueT]):
    """Least recently used entries leave first once `size` are held."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, ValueT] = OrderedDict()

    def get(self, key: Hashable) -> ValueT | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: Hashable, value: ValueT) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __iter__(self) -> Iterator[Hashable]:
        """The keys held, least recently used first (not a use)."""
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

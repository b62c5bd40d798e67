"""What a validation problem is, and the list that collects them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum


class IssueCode(StrEnum):
    REQUIRED = "required"  # missing, null or blank
    TOO_LONG = "too_long"  # a string over its length limit
    TOO_MANY = "too_many"  # a list over its item limit
    TOO_LARGE = "too_large"  # a document or JSON value over its byte limit
    OUT_OF_RANGE = "out_of_range"
    INVALID = "invalid"  # wrong type or shape
    INVALID_ID = "invalid_id"  # not an id, or an id of another type
    NOT_FOUND = "not_found"  # names an object that does not exist in your organization
    DUPLICATE = "duplicate"
    UNKNOWN_NODE = "unknown_node"  # a connection end that names no node of the graph
    TOO_FEW_BRANCHES = "too_few_branches"  # a decision node with fewer than two exits


@dataclass(frozen=True)
class Issue:
    """One problem: `path` is relative to the mutation's `input` (`nodes[3].data.agentId`),
    or names an argument outside it (`agentId`)."""

    path: str
    code: IssueCode
    message: str


class Issues:
    """The problems found so far. Past `limit` only the count grows: a pathological input
    (thousands of broken nodes) must not produce a pathological response."""

    def __init__(self, limit: int = 200) -> None:
        self._items: list[Issue] = []
        self._limit = limit
        self.total = 0

    def add(self, path: str, code: IssueCode, message: str) -> None:
        self.total += 1
        if len(self._items) < self._limit:
            self._items.append(Issue(path, code, message))

    def __bool__(self) -> bool:
        return self.total > 0

    def __iter__(self) -> Iterator[Issue]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

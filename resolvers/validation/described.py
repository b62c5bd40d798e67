"""The fields that describe an agent or a workflow: its name, description and category.
One rule each, so that the two kinds of object (and a flowchart's description) cannot drift
apart in what they accept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from resolvers.validation import values
from resolvers.validation.issues import Issues

NAME_MAX: Final = 200
DESCRIPTION_MAX: Final = 5_000
CATEGORY_MAX: Final = 100


def name(issues: Issues, path: str, value: object) -> str | None:
    return values.text(issues, path, value, max_length=NAME_MAX, required=True)


def description(issues: Issues, path: str, value: object) -> str | None:
    return values.text(issues, path, value, max_length=DESCRIPTION_MAX)


def category(issues: Issues, path: str, value: object) -> str | None:
    return values.text(issues, path, value, max_length=CATEGORY_MAX, required=True)


# By input name, to join each object's own table of checks.
CHECKS: Final[dict[str, Callable[[Issues, str, object], Any]]] = {
    "name": name,
    "description": description,
    "category": category,
}

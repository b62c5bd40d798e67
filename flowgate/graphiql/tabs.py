"""The example operations GraphiQL opens on (`examples/*.graphql`, one tab each, in file-name
order): a dashboard query, a search and a subscription, which teach the schema."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent / "examples"


@dataclass(frozen=True)
class Example:
    name: str  # the file name without its suffix, e.g. "1-dashboard"
    query: str


def examples() -> list[Example]:
    """The example operations, in the order of their tabs."""
    return [Example(path.stem, path.read_text()) for path in sorted(EXAMPLES.glob("*.graphql"))]


def tabs_json() -> str:
    """The tabs as JSON that can sit inside the page's `<script type="application/json">`:
    no `<` at all, so no example can close the element or open a comment in it."""
    tabs = [{"query": example.query} for example in examples()]
    return json.dumps(tabs).replace("<", "\\u003c")

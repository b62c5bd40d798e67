"""The GraphiQL page served at /graphql in development: Strawberry's GraphiQL 3.8.3, from the
same pinned and integrity-checked CDN files, opening on example operations that teach the
schema (`examples/*.graphql`, one tab each, in file-name order).

What differs from Strawberry's page: the tabs, and the credential. GraphiQL keeps headers per
tab; this page remembers the last `Authorization` typed in any tab and sends it with every
operation that has none (HTTP, the schema's introspection, and the websocket's
`connection_init`, where GraphiQL sends a tab's headers as the connection parameters), so
that one paste signs in every tab."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Example:
    name: str  # the file name without its suffix, e.g. "1-dashboard"
    query: str


def examples() -> list[Example]:
    """The example operations, in the order of their tabs."""
    return [
        Example(path.stem, path.read_text())
        for path in sorted((HERE / "examples").glob("*.graphql"))
    ]


@cache
def graphiql_html() -> str:
    tabs = [{"query": example.query} for example in examples()]
    # `</` never appears inside the inline script, whatever the examples hold.
    tabs_json = json.dumps(tabs).replace("</", "<\\/")
    return (HERE / "page.html").read_text().replace("__FLOWGATE_TABS__", tabs_json)

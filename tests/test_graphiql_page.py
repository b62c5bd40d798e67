"""The GraphiQL page's own contract, without a browser (`test_clients_graphiql.py` drives it
in Chromium): the examples are valid operations of the current schema, one tab each; the
page loads only the gateway's own files (or, set so, the CDN's copies of the same files),
each pinned by an integrity hash; and it is served under a Content-Security-Policy that runs
no inline script and forbids framing."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from graphql import OperationDefinitionNode, OperationType, parse, validate
from pydantic import ValidationError

from flowgate.graphiql import Example, examples, tabs
from flowgate.graphiql.assets import assets
from flowgate.settings import Settings
from schema import schema
from tests.test_protection import variant

KINDS = {OperationType.QUERY, OperationType.SUBSCRIPTION}
HTML = {"Accept": "text/html"}
CDN = "https://unpkg.com"


class Tags(HTMLParser):
    """The page's `<script>` and `<link>` tags, with their attributes and contents."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[dict[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "link"}:
            self.tags.append({"tag": tag, "text": "", **{k: v or "" for k, v in attrs}})

    def handle_data(self, data: str) -> None:
        if self.tags and self.tags[-1]["tag"] == "script" and self.lasttag == "script":
            self.tags[-1]["text"] += data

    def files(self) -> list[dict[str, str]]:
        return [t for t in self.tags if "src" in t or t.get("rel") == "stylesheet"]


def policy(header: str) -> dict[str, list[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def url_of(tag: dict[str, str]) -> str:
    return tag.get("src") or tag["href"]


@pytest.mark.parametrize("example", examples(), ids=lambda example: example.name)
def test_each_example_is_a_valid_operation(example: Example) -> None:
    # when
    document = parse(example.query)

    # then: it validates, and names its single operation (the tab's title)
    assert validate(schema._schema, document) == []
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1
    assert operations[0].name is not None


def test_the_examples_teach_a_dashboard_a_search_and_a_subscription() -> None:
    operations = [parse(example.query).definitions[0] for example in examples()]
    assert {op.operation for op in operations if isinstance(op, OperationDefinitionNode)} == KINDS
    assert "search(" in examples()[1].query


async def test_the_page_opens_on_the_examples_with_the_gateways_own_files(
    anonymous: httpx.AsyncClient,
) -> None:
    # when: a browser asks for /graphql
    page = await anonymous.get("/graphql", headers=HTML)

    # then: the page, with one tab per example, in a data block (which never runs)
    assert page.status_code == 200
    tags = Tags(page.text)
    (data,) = [t for t in tags.tags if t["tag"] == "script" and "src" not in t]
    assert data["type"] == "application/json"
    assert [tab["query"] for tab in json.loads(data["text"])] == [e.query for e in examples()]
    # every script and stylesheet is the gateway's own, pinned by its integrity hash, and
    # the gateway serves exactly that content
    files = tags.files()
    assert len(files) == 9  # React, ReactDOM, graphql-ws, GraphiQL, explorer; CSS; the page
    for tag in files:
        assert url_of(tag).startswith("/graphql/static/"), tag
        served = await anonymous.get(url_of(tag))
        assert served.status_code == 200, tag
        name = url_of(tag).rsplit("/", 1)[1]
        assert tag["integrity"] == assets()[name].integrity
    assert "http" not in "".join(url_of(tag) for tag in files)


async def test_the_page_runs_no_inline_script_and_cannot_be_framed(
    anonymous: httpx.AsyncClient,
) -> None:
    # when
    page = await anonymous.get("/graphql", headers=HTML)

    # then: scripts and styles from the gateway only, connections to it only, no framing
    csp = policy(page.headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    # the page names its files by content: a browser revalidates the page itself
    assert page.headers["cache-control"] == "no-cache"


@pytest.mark.usefixtures("seeded")  # `variant` signs in as the seeded admin
async def test_the_cdn_setting_loads_the_same_files_from_the_cdn(app: FastAPI) -> None:
    manifest = {asset.name: asset for asset in assets().values() if asset.package}

    # when: the gateway is told to point the page at the CDN
    async with variant(app, graphiql_assets="cdn") as client:
        page = await client.get("/graphql", headers=HTML)

    # then: each vendored file comes from the CDN at the manifest's package, version and
    # path, checked against the hash of the file the gateway would have served
    files = Tags(page.text).files()
    from_cdn = [tag for tag in files if url_of(tag).startswith(CDN)]
    assert len(from_cdn) == len(manifest) == 7
    for tag in from_cdn:
        (asset,) = [a for a in manifest.values() if url_of(tag).endswith(f"/{a.source}")]
        assert url_of(tag) == f"{CDN}/{asset.package}@{asset.version}/{asset.source}"
        assert tag["integrity"] == asset.integrity
        assert tag["crossorigin"] == "anonymous"
    # the page's own script and stylesheet stay the gateway's
    own = sorted(url_of(tag).rsplit("/", 1)[1] for tag in files if tag not in from_cdn)
    assert own == ["page.css", "page.js"]
    # and the policy allows that CDN, still with no inline script and no framing
    csp = policy(page.headers["content-security-policy"])
    assert csp["script-src"] == ["'self'", CDN]
    assert csp["frame-ancestors"] == ["'none'"]


@pytest.mark.usefixtures("seeded")  # `variant` signs in as the seeded admin
async def test_production_serves_neither_the_page_nor_its_files(
    anonymous: httpx.AsyncClient, app: FastAPI
) -> None:
    url = assets()["graphiql.min.js"].url
    assert (await anonymous.get(url)).status_code == 200

    async with variant(app, environment="production") as client:
        assert (await client.get(url)).status_code == 404
        assert "graphiql" not in (await client.get("/graphql", headers=HTML)).text.lower()


def test_an_unknown_asset_source_stops_the_start_naming_the_setting() -> None:
    with pytest.raises(ValidationError) as error:
        Settings(graphiql_assets="internet", _env_file=None)  # type: ignore[arg-type,call-arg]

    assert "graphiql_assets" in str(error.value)
    assert "'bundled' or 'cdn'" in str(error.value)


def test_no_example_can_end_the_data_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: an example whose text would close the script element and open another
    (tmp_path / "1-evil.graphql").write_text("query Evil { __typename } # </script><script>x()")
    monkeypatch.setattr(tabs, "EXAMPLES", tmp_path)

    # when
    encoded = tabs.tabs_json()

    # then: no `<` reaches the page, and the text survives as JSON
    assert "<" not in encoded
    assert json.loads(encoded) == [{"query": (tmp_path / "1-evil.graphql").read_text()}]
    assert re.search(r"</script", encoded, flags=re.IGNORECASE) is None

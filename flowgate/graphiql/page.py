"""The GraphiQL page and the headers it is served with.

Its files come from the gateway (`bundled`, the default: the IDE works with no internet
access) or, with `FLOWGATE_GRAPHIQL_ASSETS=cdn`, the third-party ones from a public CDN, the
same files at the same versions (the manifest's); the page's own script and stylesheet come
from the gateway either way. Every tag carries the file's integrity hash.

The Content-Security-Policy allows scripts and stylesheets from those places only (no inline
script: the example tabs are a JSON data block, which does not run), connections to the
gateway itself (HTTP and its websocket), and no framing, which X-Frame-Options repeats for
browsers that predate `frame-ancestors`. Inline styles stay allowed: GraphiQL's dialogs and
menus inject `<style>` elements (react-remove-scroll), and a style cannot run code."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path

from flowgate.graphiql.assets import OWN, Asset, assets
from flowgate.graphiql.tabs import tabs_json
from flowgate.settings import GraphiQLAssets

TEMPLATE = Path(__file__).resolve().parent / "page.html"
CDN = "https://unpkg.com"
# In the order the page needs them: React before what renders with it, the page last.
STYLES = ("graphiql.min.css", "plugin-explorer.css", "page.css")
SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphql-ws.min.js",
    "graphiql.min.js",
    "plugin-explorer.umd.js",
    "page.js",
)


@dataclass(frozen=True)
class Page:
    html: str
    headers: dict[str, str]


def source(asset: Asset, mode: GraphiQLAssets) -> str:
    if mode == "cdn" and asset.name not in OWN:
        return f"{CDN}/{asset.package}@{asset.version}/{asset.source}"
    return asset.url


def tag(asset: Asset, mode: GraphiQLAssets) -> str:
    url = escape(source(asset, mode))
    # crossorigin: a cross-origin file is checked against `integrity` only when fetched
    # with CORS; on the gateway's own files it changes nothing.
    checked = f'integrity="{asset.integrity}" crossorigin="anonymous"'
    if asset.name.endswith(".css"):
        return f'    <link rel="stylesheet" href="{url}" {checked} />'
    return f'    <script src="{url}" {checked}></script>'


def content_security_policy(mode: GraphiQLAssets) -> str:
    files = "'self'" if mode == "bundled" else f"'self' {CDN}"
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {files}",
            f"style-src {files} 'unsafe-inline'",
            "font-src 'self' data:",  # GraphiQL's fonts are data: URLs in its stylesheet
            "img-src 'self' data:",
            "connect-src 'self'",  # 'self' covers the gateway's ws:// and wss:// too
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


@cache
def graphiql_page(mode: GraphiQLAssets) -> Page:
    files = assets()
    html = (
        TEMPLATE.read_text()
        .replace("__STYLES__", "\n".join(tag(files[name], mode) for name in STYLES))
        .replace("__SCRIPTS__", "\n".join(tag(files[name], mode) for name in SCRIPTS))
        .replace("__TABS__", tabs_json())
    )
    headers = {
        "Content-Security-Policy": content_security_policy(mode),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        # The page names its files by content hash: a new build must reach the browser.
        "Cache-Control": "no-cache",
    }
    return Page(html, headers)

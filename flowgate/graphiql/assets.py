"""The files the GraphiQL page loads, served by the gateway itself so that the IDE works with
no internet access: the vendored browser builds of `static/` (see `static/manifest.json` and
`vendor/build.py`) and the page's own script and stylesheet.

Each is served at `/graphql/static/<hash>/<name>`: the URL changes whenever the content does,
so browsers may keep a file for a year without asking again. The vendored files are stored
gzipped and sent as they are to every browser that accepts gzip (all of them), so serving
costs no CPU; anything else gets them decompressed, once per process."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

from fastapi import APIRouter, Request, Response

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
MANIFEST = STATIC / "manifest.json"
PREFIX = "/graphql/static"
# The page's own files, next to its template; small, so compressed when first loaded.
OWN = ("page.css", "page.js")
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    name: str
    sha256: str  # of the file as the browser receives it (decompressed)
    integrity: str  # Subresource Integrity (sha384), carried by the page's tags
    gzipped: bytes = field(repr=False)
    # Where a CDN has the same file (vendored files only): npm package, version, path in it.
    package: str | None = None
    version: str | None = None
    source: str | None = None

    @property
    def url(self) -> str:
        return f"{PREFIX}/{self.sha256[:16]}/{self.name}"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[Path(self.name).suffix]

    @cached_property
    def plain(self) -> bytes:
        return gzip.decompress(self.gzipped)


def integrity(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def vendored() -> list[Asset]:
    """The files of `static/`, as the manifest describes them."""
    manifest = json.loads(MANIFEST.read_text())
    return [
        Asset(
            name=entry["name"],
            sha256=entry["sha256"],
            integrity=entry["integrity"],
            gzipped=(STATIC / f"{entry['name']}.gz").read_bytes(),
            package=entry["package"],
            version=entry["version"],
            source=entry["source"],
        )
        for entry in manifest["files"]
    ]


def own() -> list[Asset]:
    assets = []
    for name in OWN:
        data = (HERE / name).read_bytes()
        sha256 = hashlib.sha256(data).hexdigest()
        packed = gzip.compress(data, mtime=0)
        assets.append(Asset(name, sha256, integrity(data), packed))
    return assets


@cache
def assets() -> dict[str, Asset]:
    """Every file the page may load, by name; read once per process."""
    return {asset.name: asset for asset in [*vendored(), *own()]}


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an `Accept-Encoding` header allows gzip (`gzip;q=0` refuses it)."""
    for item in accept_encoding.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        if coding.lower() not in {"gzip", "*"}:
            continue
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        return weight > 0
    return False


router = APIRouter()


@router.get(PREFIX + "/{digest}/{name}", include_in_schema=False)
async def static_file(digest: str, name: str, request: Request) -> Response:
    asset = assets().get(name)
    # A page of another build asks for another hash: not found, rather than other content
    # under a URL that browsers keep for a year.
    if asset is None or digest != asset.sha256[:16]:
        return Response(status_code=404)
    headers = {
        "Cache-Control": IMMUTABLE,
        "ETag": f'"{asset.sha256}"',
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    if accepts_gzip(request.headers.get("accept-encoding", "")):
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.content_type, headers=headers)
    return Response(asset.plain, media_type=asset.content_type, headers=headers)

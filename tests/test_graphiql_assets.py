"""GraphiQL's files as the gateway serves them: each exactly the file the manifest describes
(its SHA-256, size and integrity hash), at the versions pinned for the vendoring build,
compressed, cached for a year under a URL that changes with the content, and nothing else
under that path. The wheel carries them."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from flowgate.graphiql.assets import MANIFEST, STATIC, accepts_gzip, assets

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "flowgate" / "graphiql" / "vendor"
GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(MANIFEST.read_text())
    return loaded


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


@pytest.mark.parametrize("entry", manifest()["files"], ids=lambda entry: entry["name"])
async def test_each_file_served_is_the_one_the_manifest_describes(
    anonymous: httpx.AsyncClient, entry: dict[str, Any]
) -> None:
    url = assets()[entry["name"]].url

    # when: a browser fetches it (they all accept gzip), and a client that does not
    compressed = await anonymous.get(url, headers=GZIP)
    plain = await anonymous.get(url, headers=IDENTITY)

    # then: both are the manifest's file, byte for byte; the first sent gzipped
    for response in (compressed, plain):
        assert response.status_code == 200
        assert hashlib.sha256(response.content).hexdigest() == entry["sha256"]
        assert len(response.content) == entry["bytes"]
        assert sri(response.content) == entry["integrity"]
    assert compressed.headers["content-encoding"] == "gzip"
    assert int(compressed.headers["content-length"]) == entry["gzip_bytes"] < entry["bytes"]
    assert "content-encoding" not in plain.headers
    assert plain.headers["content-type"].startswith(
        "text/css" if entry["name"].endswith(".css") else "text/javascript"
    )


def test_the_manifest_pins_the_build_versions_and_names_the_licenses() -> None:
    pinned = json.loads((VENDOR / "package.json").read_text())["dependencies"]
    locked = json.loads((VENDOR / "package-lock.json").read_text())["packages"]
    licenses = (STATIC / "LICENSES.txt").read_text()

    for package, meta in manifest()["packages"].items():
        assert meta["version"] == pinned[package] == locked[f"node_modules/{package}"]["version"]
        assert f"\n{package} {meta['version']} ({meta['license']})\n" in f"\n{licenses}"
    for entry in manifest()["files"]:
        assert entry["version"] == pinned[entry["package"]]
        # stored gzipped: the stored file is the manifest's once decompressed
        stored = gzip.decompress((STATIC / f"{entry['name']}.gz").read_bytes())
        assert hashlib.sha256(stored).hexdigest() == entry["sha256"]


async def test_files_are_cached_for_a_year_and_revalidate_by_hash(
    anonymous: httpx.AsyncClient,
) -> None:
    asset = assets()["react.production.min.js"]

    # when
    first = await anonymous.get(asset.url, headers=GZIP)
    again = await anonymous.get(asset.url, headers={"If-None-Match": first.headers["etag"]})

    # then
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert first.headers["etag"] == f'"{asset.sha256}"'
    assert first.headers["vary"] == "Accept-Encoding"
    assert first.headers["x-content-type-options"] == "nosniff"
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/graphql/static/0000000000000000/graphiql.min.js",  # another build's hash
        "/graphql/static/{digest}/manifest.json",
        "/graphql/static/{digest}/LICENSES.txt",
        "/graphql/static/{digest}/graphiql.min.js.gz",
        "/graphql/static/{digest}/..%2Fassets.py",
        "/graphql/static/graphiql.min.js",
        "/graphql/static/{digest}/graphiql.min.js/extra",
    ],
)
async def test_nothing_else_is_served_there(anonymous: httpx.AsyncClient, path: str) -> None:
    digest = assets()["graphiql.min.js"].sha256[:16]

    response = await anonymous.get(path.format(digest=digest))

    assert response.status_code == 404
    assert b"function" not in response.content


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip, deflate, br, zstd", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("*", True),
        ("gzip;q=0", False),
        ("GZIP; q=0.0", False),
        ("gzip;q=x", False),
        ("identity", False),
        ("deflate, br", False),
        ("", False),
    ],
)
def test_gzip_is_sent_only_where_accepted(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


@pytest.mark.slow
def test_the_wheel_carries_the_files(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed")

    # when: the package is built as it is published
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )

    # then: it holds every file the page loads, the manifest and the licenses, and not the
    # vendoring build
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    static = [f"static/{e['name']}.gz" for e in manifest()["files"]]
    page = ["static/manifest.json", "static/LICENSES.txt", "page.html", "page.js", "page.css"]
    assert {f"flowgate/graphiql/{name}" for name in static + page} <= names
    assert not any(name.startswith("flowgate/graphiql/vendor/") for name in names)

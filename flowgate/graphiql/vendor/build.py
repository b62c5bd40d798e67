"""Rebuild `flowgate/graphiql/static/` from the npm packages pinned in this folder's
`package.json` and `package-lock.json`: run `npm ci` in a temporary folder, copy the browser
builds the page loads, gzipped (`<name>.gz`, level 9: the gateway sends them as they are and
spends no CPU on compression; only they are kept, half the size of keeping both), and write
`manifest.json` (package, version, source path, sizes, the SHA-256 of the file as npm ships
it, and the SRI hash the CDN mode's tags carry) and `LICENSES.txt` (the license of every
package installed with them, which covers what their bundles contain).

    uv run python flowgate/graphiql/vendor/build.py

To update a version: change it in `package.json`, run `npm install --package-lock-only
--ignore-scripts` here, run this script, run tests/test_graphiql*.py and
tests/test_clients_graphiql.py, and commit the four changes together. Needs Node and npm;
the gateway itself never does."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
STATIC = HERE.parent / "static"
MANIFEST = "manifest.json"
LICENSES = "LICENSES.txt"

# Name in static/ -> (npm package, file in the package). The names are flat and stable; the
# gateway adds the content hash to the URL.
FILES = {
    "react.production.min.js": ("react", "umd/react.production.min.js"),
    "react-dom.production.min.js": ("react-dom", "umd/react-dom.production.min.js"),
    # GraphiQL's UMD build bundles its own graphql-ws 5 client; the page uses this one
    # (pinned here, and the one the Apollo tests use) to open the subscription socket.
    "graphql-ws.min.js": ("graphql-ws", "umd/graphql-ws.min.js"),
    "graphiql.min.js": ("graphiql", "graphiql.min.js"),
    "graphiql.min.css": ("graphiql", "graphiql.min.css"),  # its fonts are inline (data: URLs)
    "plugin-explorer.umd.js": ("@graphiql/plugin-explorer", "dist/index.umd.js"),
    "plugin-explorer.css": ("@graphiql/plugin-explorer", "dist/style.css"),
}


def sri(data: bytes) -> str:
    """A Subresource Integrity value, as the CDN mode's tags carry."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def install(build: Path) -> Path:
    for name in ("package.json", "package-lock.json"):
        shutil.copy(HERE / name, build / name)
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is not installed: install Node 20 or newer")
    # --ignore-scripts: nothing from the packages runs on this machine.
    subprocess.run(  # noqa: S603  # fixed arguments, npm found on PATH
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=build, check=True
    )
    return build / "node_modules"


def package_info(modules: Path, package: str) -> dict[str, str]:
    meta = json.loads((modules / package / "package.json").read_text())
    return {"version": meta["version"], "license": str(meta.get("license", "see LICENSES.txt"))}


def license_texts(modules: Path) -> str:
    """Every installed package's license file, under its name and version."""
    sections = []
    for meta_file in sorted(modules.glob("**/package.json")):
        folder = meta_file.parent
        if folder.parent.name != "node_modules" and folder.parent.parent.name != "node_modules":
            continue  # a package.json inside a package (e.g. dist/esm/package.json)
        meta = json.loads(meta_file.read_text())
        if "name" not in meta or "version" not in meta:
            continue
        texts = sorted(folder.glob("LICEN[CS]E*")) + sorted(folder.glob("licen[cs]e*"))
        spdx = meta.get("license", "unknown")
        body = (
            texts[0].read_text(errors="replace").strip()
            if texts
            else f"(no license file in the package; its package.json says {spdx})"
        )
        header = f"{meta['name']} {meta['version']} ({spdx})"
        sections.append(f"{header}\n{'=' * len(header)}\n\n{body}\n")
    return "\n\n".join(dict.fromkeys(sections))  # the same package may be installed twice


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="flowgate-graphiql-") as build:
        modules = install(Path(build))
        if STATIC.exists():
            shutil.rmtree(STATIC)
        STATIC.mkdir()
        files = []
        for name, (package, source) in FILES.items():
            data = (modules / package / source).read_bytes()
            # mtime 0: the same input gives the same .gz, so rebuilding changes nothing.
            packed = gzip.compress(data, compresslevel=9, mtime=0)
            (STATIC / f"{name}.gz").write_bytes(packed)
            files.append(
                {
                    "name": name,
                    "package": package,
                    "version": package_info(modules, package)["version"],
                    "source": source,
                    "bytes": len(data),
                    "gzip_bytes": len(packed),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "integrity": sri(data),
                }
            )
        packages = {package: package_info(modules, package) for package, _ in FILES.values()}
        manifest = {"packages": dict(sorted(packages.items())), "files": files}
        (STATIC / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        (STATIC / LICENSES).write_text(license_texts(modules))
    total = sum(path.stat().st_size for path in STATIC.iterdir())
    print(f"{STATIC}: {len(files)} files, {total:,} bytes with manifest and licenses")


if __name__ == "__main__":
    main()

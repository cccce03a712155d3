#!/usr/bin/env python3
"""Refresh the GraphiQL page's vendored assets (``graphql_api/graphiql/static/vendor/``) from the
npm registry, so that ``/graphql`` needs no CDN.

    python scripts/vendor_graphiql.py            # the versions pinned below
    python scripts/vendor_graphiql.py --check    # only verify the files against VENDORED.json

It runs ``npm pack`` in a temporary folder (the registry the machine's npm is set up for),
copies only the production bundles, their CSS and the licence files, and writes
``VENDORED.json``: each package's name, version, licence, tarball integrity, and every
copied file's sha256. To move to new versions, change ``PACKAGES`` and run it; then check
the page in a browser (``tests/e2e/test_graphiql_browser.py``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "graphql_api" / "graphiql" / "static" / "vendor"
MANIFEST = VENDOR / "VENDORED.json"

# The GraphiQL 3 line still ships UMD bundles (a page with plain <script> tags, no bundler);
# the explorer plugin 1.0.2 is the one built for it, React 18 the version it was built against.
#: npm package -> (version, {file in the package: file name here})
PACKAGES: dict[str, tuple[str, dict[str, str]]] = {
    "react": ("18.2.0", {"umd/react.production.min.js": "react.production.min.js", "LICENSE": "react.LICENSE"}),
    "react-dom": (
        "18.2.0",
        {"umd/react-dom.production.min.js": "react-dom.production.min.js", "LICENSE": "react-dom.LICENSE"},
    ),
    "graphiql": (
        "3.8.3",
        {"graphiql.min.js": "graphiql.min.js", "graphiql.min.css": "graphiql.min.css", "LICENSE": "graphiql.LICENSE"},
    ),
    "@graphiql/plugin-explorer": (
        "1.0.2",
        # the package ships no licence file; its package.json says MIT, from the graphiql repository,
        # whose licence (the one in the graphiql package) is copied for it below
        {"dist/index.umd.js": "plugin-explorer.umd.js", "dist/style.css": "plugin-explorer.css"},
    ),
}
#: packages without a licence file of their own: (the package whose licence file covers it, why)
LICENCE_FROM = {"@graphiql/plugin-explorer": ("graphiql", "same repository (graphql/graphiql), same MIT licence")}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pack(spec: str, into: Path) -> tuple[Path, dict]:
    out = subprocess.run(
        ["npm", "pack", "--json", "--pack-destination", str(into), spec],
        cwd=into,
        check=True,
        capture_output=True,
        text=True,
    )
    info = json.loads(out.stdout)[0]
    return into / info["filename"], info


def refresh() -> dict:
    VENDOR.mkdir(parents=True, exist_ok=True)
    for old in VENDOR.iterdir():
        old.unlink()
    manifest: dict = {
        "about": "Third-party files served by /graphql (GraphiQL), copied unchanged from their npm packages "
        "by scripts/vendor_graphiql.py; do not edit by hand.",
        "packages": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        for name, (version, files) in PACKAGES.items():
            tarball, info = _pack(f"{name}@{version}", tmpdir)
            unpacked = tmpdir / tarball.stem
            with tarfile.open(tarball) as archive:
                archive.extractall(unpacked, filter="data")
            package_json = json.loads((unpacked / "package" / "package.json").read_text())
            entry: dict = {
                "name": name,
                "version": package_json["version"],
                "license": package_json.get("license"),
                "integrity": info.get("integrity"),
                "files": [],
            }
            for source, target in files.items():
                shutil.copyfile(unpacked / "package" / source, VENDOR / target)
                entry["files"].append({"path": target, "from": source, "sha256": sha256(VENDOR / target)})
            if name in LICENCE_FROM:
                other, why = LICENCE_FROM[name]
                entry["license_file"] = {"path": f"{other}.LICENSE", "why": why}
            manifest["packages"].append(entry)
            print(f"{name}@{entry['version']} ({entry['license']}): {len(files)} files")
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def check() -> list[str]:
    """The differences between the files here and VENDORED.json (none: an empty list)."""
    manifest = json.loads(MANIFEST.read_text())
    problems = []
    listed = {"VENDORED.json"}
    for package in manifest["packages"]:
        for file in package["files"]:
            listed.add(file["path"])
            path = VENDOR / file["path"]
            if not path.exists():
                problems.append(f"missing: {file['path']}")
            elif sha256(path) != file["sha256"]:
                problems.append(f"changed: {file['path']}")
    problems += [f"not listed: {p.name}" for p in VENDOR.iterdir() if p.name not in listed]
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only verify the files against VENDORED.json")
    args = parser.parse_args()
    if args.check:
        problems = check()
        print("\n".join(problems) or "the vendored files match VENDORED.json")
        return 1 if problems else 0
    refresh()
    return 0


if __name__ == "__main__":
    sys.exit(main())

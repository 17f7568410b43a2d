"""Copy the map's browser assets from the pinned XStatic packages into static/vendor/.

Streamlit serves static/ at /app/static/ (server.enableStaticServing), so the map works on an
intranet with no CDN. Run after changing an xstatic-* pin in requirements.txt:

    python scripts/vendor_assets.py           # copy
    python scripts/vendor_assets.py --check   # exit 1 if static/vendor/ differs from the packages
"""

from __future__ import annotations

import argparse
import filecmp
import importlib
import importlib.metadata
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor"


@dataclass(frozen=True)
class Asset:
    """One XStatic package and the files the app serves from it (minified builds only)."""

    module: str
    distribution: str
    target: str
    files: tuple[str, ...]
    license: str


ASSETS = (
    Asset(
        module="xstatic.pkg.leaflet",
        distribution="XStatic-Leaflet",
        target="leaflet",
        files=(
            "leaflet.js",
            "leaflet.css",
            "images/layers.png",
            "images/layers-2x.png",
            "images/marker-icon.png",
            "images/marker-icon-2x.png",
            "images/marker-shadow.png",
        ),
        license="BSD-2-Clause (Leaflet, https://leafletjs.com)",
    ),
    Asset(
        module="xstatic.pkg.leaflet_markercluster",
        distribution="XStatic-Leaflet-MarkerCluster",
        target="markercluster",
        files=(
            "leaflet.markercluster.js",
            "MarkerCluster.css",
            "MarkerCluster.Default.css",
        ),
        license="MIT (Leaflet.markercluster, https://github.com/Leaflet/Leaflet.markercluster)",
    ),
    Asset(
        module="xstatic.pkg.jquery",
        distribution="XStatic-jQuery",
        target="jquery",
        files=("jquery.min.js",),
        license="MIT (jQuery, https://jquery.org/license)",
    ),
)


def source_dir(asset: Asset) -> Path:
    """The data directory of the installed XStatic package."""
    return Path(importlib.import_module(asset.module).BASE_DIR)  # type: ignore[attr-defined]


def manifest() -> str:
    """The text of static/vendor/VENDORED.txt: where each directory came from."""
    lines = [
        "Copied by scripts/vendor_assets.py from these PyPI packages; do not edit by hand.",
        "",
    ]
    for asset in ASSETS:
        version = importlib.metadata.version(asset.distribution)
        lines.append(f"{asset.target}/  {asset.distribution}=={version}  license: {asset.license}")
        lines.extend(f"    {name}" for name in asset.files)
    return "\n".join(lines) + "\n"


def copy_all() -> list[Path]:
    """Replace static/vendor/<target>/ with fresh copies; return the files written."""
    written: list[Path] = []
    for asset in ASSETS:
        src, dst = source_dir(asset), VENDOR / asset.target
        if dst.exists():
            shutil.rmtree(dst)
        for name in asset.files:
            out = dst / name
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / name, out)
            written.append(out)
    (VENDOR / "VENDORED.txt").write_text(manifest(), encoding="utf-8")
    written.append(VENDOR / "VENDORED.txt")
    return written


def differences() -> list[str]:
    """Files in static/vendor/ that are missing or differ from the installed packages."""
    problems: list[str] = []
    for asset in ASSETS:
        src, dst = source_dir(asset), VENDOR / asset.target
        for name in asset.files:
            out = dst / name
            if not out.is_file():
                problems.append(f"missing: {out.relative_to(ROOT)}")
            elif not filecmp.cmp(src / name, out, shallow=False):
                problems.append(f"differs: {out.relative_to(ROOT)}")
    listed = VENDOR / "VENDORED.txt"
    if not listed.is_file() or listed.read_text(encoding="utf-8") != manifest():
        problems.append(f"out of date: {listed.relative_to(ROOT)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, copy nothing")
    args = parser.parse_args(argv)
    if args.check:
        problems = differences()
        for line in problems:
            print(line)
        return 1 if problems else 0
    for path in copy_all():
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())

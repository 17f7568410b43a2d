"""Import the county's areas from the command line, through the same services, permissions
and audit events as the admin page::

    python -m care.areas import streets.csv villages.csv --db URL [--as USERNAME]
    python -m care.areas boundaries 522600_full.json --db URL --datum gcj02 [--as USERNAME]

A refused file prints every problem and exits 2; nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from care import audit, auth
from care.domain.errors import CareError, ValidationError
from care.files.area_files import DATUM_NAMES
from care.i18n import t
from care.scope import Scope
from care.services import areas as services
from care.services.areas import AreaImport, describe_errors, describe_skipped
from db.migrate import upgrade
from db.models import User
from db.session import get_engine, transaction


def _acting_scope(session: Session, username: str | None) -> Scope:
    """The scope of the named active user, or of the only active administrator when none is named."""
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

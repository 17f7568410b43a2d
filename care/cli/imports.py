"""Import roster, visit or service-record files, or write their templates, from the command line.

``python -m care.imports roster|visits|services FILE --db URL [--as USERNAME] [--dry-run]`` and
``python -m care.imports template roster|visits|services --db URL --out FILE.xlsx [--as USERNAME]``.

An import prints its progress on standard error and, as its last line on standard output, one
JSON report: ``{"ok": ..., "rows": N, "committed": N, "errors": [{"row", "column", "reason"}], ...}``.
The exit status is 0 when the file was accepted, 1 when it was refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sqlalchemy import Engine, select

from care.auth import scope_of
from care.domain.errors import CareError
from care.imports import KINDS, run_import
from care.imports.template import build_template
from care.scope import Scope
from db.migrate import upgrade
from db.models import User
from db.session import get_engine, reading, transaction


def _scope(engine: Engine, username: str | None) -> Scope:
    """The acting user: ``--as`` or the first active administrator."""
    with reading(engine) as session:
        stmt = select(User).where(User.active.is_(True))
        stmt = stmt.where(User.username == username) if username else stmt.where(User.role == "admin")
        user = session.scalar(stmt.order_by(User.id).limit(1))
    if user is None:
        raise SystemExit(f"no active user {username!r}" if username else "no active administrator in this database")
    return scope_of(user)


def _progress(checked: int, written: int, total: int) -> None:
    print(f"checked {checked}/{total}, written {written}", file=sys.stderr, flush=True)


def _import(args: argparse.Namespace) -> int:
    engine = get_engine(args.db)
    upgrade(engine)
    scope = _scope(engine, args.as_user)
    path = Path(args.file)
    data = path.read_bytes()
    report = run_import(
        engine, scope, kind=args.command, data=data, filename=path.name, dry_run=args.dry_run, progress=_progress
    )
    print(json.dumps(report.as_json(args.lang), ensure_ascii=False), flush=True)
    return 0 if report.ok else 1


def _template(args: argparse.Namespace) -> int:
    engine = get_engine(args.db)
    upgrade(engine)
    scope = _scope(engine, args.as_user)
    try:
        with transaction(engine) as session:
            data = build_template(session, scope, kind=args.kind)
    except CareError as error:
        print(error.message(args.lang), file=sys.stderr)
        return 2
    Path(args.out).write_bytes(data)
    print(json.dumps({"ok": True, "kind": args.kind, "out": str(args.out), "bytes": len(data)}), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the import or write the template."""
    parser = argparse.ArgumentParser(prog="python -m care.imports", description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of the reasons")
    sub = parser.add_subparsers(dest="command", required=True)
    for kind in KINDS:
        one = sub.add_parser(kind, help=f"import a {kind} file (.xlsx or .csv)")
        one.add_argument("file")
        one.add_argument("--db", help="database URL or SQLite file (default: CARE_DATABASE_URL)")
        one.add_argument("--as", dest="as_user", help="username to import as (default: the first admin)")
        one.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        one.add_argument("--lang", choices=["zh", "en"], default=argparse.SUPPRESS)
    template = sub.add_parser("template", help="write the .xlsx template for the user's villages")
    template.add_argument("kind", choices=KINDS)
    template.add_argument("--db", help="database URL or SQLite file (default: CARE_DATABASE_URL)")
    template.add_argument("--out", required=True)
    template.add_argument("--as", dest="as_user", help="username (default: the first admin)")
    args = parser.parse_args(argv)
    return _template(args) if args.command == "template" else _import(args)

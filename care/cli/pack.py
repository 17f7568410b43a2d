"""Offline visit packs from the command line (``python -m care.admin visit-pack|visit-results``).

``visit-pack`` writes a coordinator's pack for this week; the PIN is read from standard input
(never an argument). ``visit-results`` checks a result file and, with ``--apply``, imports it; a
conflict needs ``--resolve TOKEN=record|discard``. Both act as ``--user`` through the same
services, rules and audit events as 我的巡访. The last line printed is a JSON report.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from sqlalchemy import select

from care.auth import scope_of
from care.domain.errors import CareError
from care.files import visit_pack
from care.scope import Scope
from care.services.visit_packs import apply_results, check_results, issue_pack
from db.migrate import upgrade
from db.models import User
from db.session import get_engine, reading, transaction


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``visit-pack`` and ``visit-results`` sub-commands."""
    pack = sub.add_parser("visit-pack", help="write a coordinator's encrypted offline visit pack (PIN from stdin)")
    pack.add_argument("--db", help="database URL or SQLite file (default: CARE_DATABASE_URL)")
    pack.add_argument("--user", required=True, help="the coordinator's username")
    pack.add_argument("--out", required=True, type=Path, help="the HTML file to write")
    pack.add_argument("--days", type=int, default=visit_pack.PACK_DAYS, help="days until the pack expires")
    results = sub.add_parser("visit-results", help="check (and with --apply import) a pack's result file")
    results.add_argument("--db", help="database URL or SQLite file (default: CARE_DATABASE_URL)")
    results.add_argument("--user", required=True, help="the coordinator's username")
    results.add_argument("file", type=Path)
    results.add_argument("--apply", action="store_true", help="import the visits (all or nothing)")
    results.add_argument("--resolve", action="append", default=[], help="TOKEN=record|discard for a conflict")


def _scope(engine_url: str | None, username: str) -> Scope:
    with reading(get_engine(engine_url)) as session:
        user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
        if user is None:
            raise SystemExit(f"no active user {username!r}")
        return scope_of(user)


def _read_pin() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("PIN: ")
        if first != getpass.getpass("Repeat: "):
            raise SystemExit("The two PINs differ.")
        return first
    return sys.stdin.readline().strip()


def write_pack(args: argparse.Namespace) -> int:
    """Write the user's pack to ``--out``; prints the pack id, persons and expiry."""
    engine = get_engine(args.db)
    upgrade(engine)
    scope = _scope(args.db, args.user)
    try:
        with transaction(engine) as session:
            issued = issue_pack(session, scope, pin=_read_pin(), lang=args.lang, valid_days=args.days)
    except CareError as error:
        print(error.message(args.lang), file=sys.stderr)
        return 2
    args.out.write_text(issued.html, encoding="utf-8")
    report = {"pack_id": issued.pack_id, "persons": len(issued.person_ids), "expires": issued.expires_at.isoformat()}
    print(json.dumps(report | {"file": str(args.out), "bytes": len(issued.html.encode("utf-8"))}))
    return 0


def import_results(args: argparse.Namespace) -> int:
    """Check a result file (and import it with ``--apply``); exit 2 when refused or a conflict is open."""
    engine = get_engine(args.db)
    upgrade(engine)
    scope = _scope(args.db, args.user)
    data = args.file.read_bytes()
    resolutions = dict(r.split("=", 1) for r in args.resolve if "=" in r)
    try:
        with reading(engine) as session:
            checked = check_results(session, scope, data=data)
        report: dict[str, object] = {
            "visits": len(checked.visits),
            "new": checked.count("new"),
            "already": checked.count("already"),
            "problems": [{"visit": p.number, "field": p.field, "reason": p.key} for p in checked.problems],
            "conflicts": [
                {"visit": v.visit.number, "token": v.visit.client_token, "kind": v.conflict} for v in checked.conflicts
            ],
        }
        if args.apply:
            with transaction(engine) as session:
                applied = apply_results(session, scope, data=data, resolutions=resolutions)
            report |= {"written": applied.written, "discarded": applied.discarded}
    except CareError as error:
        print(error.message(args.lang), file=sys.stderr)
        return 2
    print(json.dumps(report, ensure_ascii=False))
    return 0

"""``python -m care.admin backup|restore``: the sub-commands (care/services/backup.py does the work)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from care import audit, audit_anchor
from care.domain.errors import CareError
from care.services.backup import BackupSummary, backup, restore
from db.config import database_url, normalise_url
from db.session import get_engine, transaction


def add_parsers(sub: Any) -> None:
    """The ``backup`` and ``restore`` sub-commands of ``python -m care.admin``."""
    made = sub.add_parser("backup", help="write a consistent copy of the database to a file")
    made.add_argument("--db", help="database URL or SQLite file (default: CARE_DATABASE_URL)")
    made.add_argument("--to", required=True, type=Path, help="the backup file to write (must not exist)")
    back = sub.add_parser("restore", help="load a backup file into a database, then apply migrations")
    back.add_argument("--db", help="database URL or SQLite file (default: CARE_DATABASE_URL)")
    back.add_argument("--from", dest="source", required=True, type=Path, help="the backup file to read")
    back.add_argument("--force", action="store_true", help="overwrite a database that already holds rows")


def _audit_cli(url: str, action: str, summary: BackupSummary) -> None:
    with transaction(get_engine(url)) as session:
        audit.record(
            session,
            scope=None,
            username="cli",
            action=action,
            entity="database",
            entity_id=Path(summary.path).name,
            detail={"sha256": summary.sha256, "bytes": summary.bytes, "rows": sum(summary.counts.values())},
        )


def run_backup(args: Any) -> int:
    """``backup --db URL --to FILE``: prints the summary as one JSON line."""
    url = normalise_url(args.db) if args.db else database_url()
    with transaction(get_engine(url)) as session:
        # The copy carries a signed note of the log's head: a restore cut short of it shows.
        head = audit_anchor.write_checkpoint(session, reason="backup")
    try:
        summary = backup(url, args.to)
    except CareError as error:
        print(error.message(args.lang), file=sys.stderr)
        return 2
    _audit_cli(url, "backup.create", summary)
    audit_head = {"event": head.event_id, "events": head.event_count, "hash": head.head_hash} if head else None
    print(json.dumps({**summary.as_dict(), "audit_head": audit_head}, ensure_ascii=False))
    return 0


def run_restore(args: Any) -> int:
    """``restore --db URL --from FILE [--force]``: prints the restored database's row counts."""
    url = normalise_url(args.db) if args.db else database_url()
    try:
        summary = restore(url, args.source, force=args.force)
    except CareError as error:
        print(error.message(args.lang), file=sys.stderr)
        return 2
    _audit_cli(url, "backup.restore", summary)
    # The counts are those of the file; the restore's own audit event comes after them.
    print(json.dumps({**summary.as_dict(), "own_events": {"audit_events": 1}}, ensure_ascii=False))
    return 0

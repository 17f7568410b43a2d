"""Imports that lose nothing: roster, visit and service-record files checked row by row, written all or nothing.

``run_import`` is the one entry the page and ``python -m care.imports`` share: it reads the file
safely (care/imports/files.py), checks every row by the register's rules, and writes in one
transaction only when every row passed; otherwise (or in a dry run) nothing is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from care import audit
from care.domain.errors import CareError, PermissionDenied, RowError
from care.imports import roster, services, visits
from care.imports.common import ImportReport, Progress, errors_csv
from care.imports.files import read_table
from care.imports.template import build_template
from care.scope import Scope
from db.session import reading, transaction

KINDS = ("roster", "visits", "services")
# Row number given to a problem of the whole file (its type, encoding or size).
FILE_ROW = 0

__all__ = ["KINDS", "ImportReport", "Progress", "build_template", "errors_csv", "run_import"]


class _Discard(Exception):
    """Leaves the transaction without committing (a dry run or a refused file)."""


def _checkers(kind: str) -> tuple[Callable[..., list[Any]], Callable[..., Any]]:
    if kind == "roster":
        return roster.check_roster, roster.write_roster
    if kind == "services":
        return services.check_services, services.write_services
    return visits.check_visits, visits.write_visits


AUDIT_IDS = 5_000


def _audit_detail(report: ImportReport, filename: str) -> dict[str, Any]:
    return {
        "file_sha256": report.file_sha256,
        "file_name": PurePath(filename or "").name[:100],
        "rows": report.rows,
        "committed": report.committed,
        "unchanged": report.unchanged,
        "errors": len(report.errors),
        # The ids of what the import created (persons and enrollments of a roster), so the one
        # event of the import says which records it wrote.
        **{kind: ids[:AUDIT_IDS] for kind, ids in report.created.items()},
    }


def _record(session: Session, scope: Scope, report: ImportReport, filename: str, outcome: str) -> None:
    audit.record(
        session,
        scope=scope,
        action=f"import.{report.kind}",
        entity="import",
        entity_id=report.file_sha256[:16],
        outcome=outcome,
        detail=_audit_detail(report, filename),
    )


# PostgreSQL advisory locks held by a visit or service-record import from its duplicate check to its commit.
IMPORT_LOCKS = {"visits": 727275, "services": 727276}


def _one_import_at_a_time(session: Session, kind: str) -> None:
    """Visit and service-record imports check for records already kept and write in one
    transaction; two at once would each miss the other's. On PostgreSQL they take turns on an
    advisory lock; SQLite writers already take turns at BEGIN IMMEDIATE."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(IMPORT_LOCKS[kind])))


def _check_and_write(
    engine: Engine, scope: Scope, report: ImportReport, table: Any, filename: str, progress: Progress | None
) -> None:
    check, write = _checkers(report.kind)
    if report.kind == "roster" or report.dry_run:
        # The register services check every row again as they write, so the check needs no write lock.
        with reading(engine) as session:
            planned = check(session, scope, table, report, progress)
        if not report.ok or report.dry_run or not planned:
            return
        session_scope = transaction(engine)
    else:
        planned = []
        session_scope = transaction(engine)
    try:
        with session_scope as session:
            if report.kind in IMPORT_LOCKS:
                _one_import_at_a_time(session, report.kind)
                planned = check(session, scope, table, report, progress)
                if not report.ok:
                    raise _Discard
            if planned:
                write(session, scope, planned, report, progress)
            if not report.ok:
                raise _Discard
            if planned:
                _record(session, scope, report, filename, "success")
    except _Discard:
        report.committed = 0


def run_import(
    engine: Engine,
    scope: Scope,
    *,
    kind: str,
    data: bytes,
    filename: str,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Check a roster, visit or service-record file and, when every row passes (and not a dry run), write it all."""
    report = ImportReport(kind=kind, dry_run=dry_run, file_sha256=hashlib.sha256(data).hexdigest())
    try:
        if not scope.can(f"import.{kind}"):
            raise PermissionDenied()
        table = read_table(data, filename)
        _check_and_write(engine, scope, report, table, filename, progress)
    except CareError as error:
        report.errors.append(RowError(FILE_ROW, "", error.key, dict(error.params)))
        report.committed = 0
    if not report.ok and not dry_run:
        outcome = "denied" if report.errors[0].key == "error.permission_denied" else "failure"
        with transaction(engine) as session:
            _record(session, scope, report, filename, outcome)
    return report

"""``python -m care.report --db URL --month YYYY-MM --area CODE --out FILE.xlsx [--as USERNAME]``.

Writes the same workbook as the 统计报表 page (masked), in the scope of ``--as`` (default: the
first county official, else the first administrator), and records the export in the audit log.
Prints one JSON line: file, rows, sha256. For a scheduled monthly job.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select

from care import audit
from care.auth import scope_of
from care.domain import clock
from care.domain.errors import CareError
from care.domain.reports import ServiceSheets
from care.files.exports import ExportMeta, record_export, workbook_bytes
from care.queries.plans import service_report, service_sheets
from care.queries.reports import household_table, month_report, report_meta, trends
from care.scope import Scope
from db.migrate import upgrade
from db.models import User
from db.session import get_engine, reading, transaction

if TYPE_CHECKING:
    import pandas as pd

    from care.domain.reports import MonthReport


def _scope(engine: Engine, username: str | None) -> Scope:
    with reading(engine) as session:
        if username:
            user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
        else:
            user = None
            for role in ("county", "admin"):
                user = session.scalar(select(User).where(User.role == role, User.active.is_(True)).order_by(User.id))
                if user is not None:
                    break
        if user is None:
            raise SystemExit(f"no active user {username or '(county or admin)'} in this database")
        return scope_of(user)


def read(
    engine: Engine, scope: Scope, *, month: str, area: str | None, today: dt.date
) -> tuple[MonthReport, pd.DataFrame, ExportMeta]:
    """The month's report, its trends and its title facts, read in one snapshot."""
    report, trend, meta, _, _ = snapshot(engine, scope, month=month, area=area, today=today)
    return report, trend, meta


def snapshot(
    engine: Engine, scope: Scope, *, month: str, area: str | None, today: dt.date
) -> tuple[MonthReport, pd.DataFrame, ExportMeta, pd.DataFrame, ServiceSheets]:
    """``read``, the household figures by area today and the service sheets, in the same snapshot."""
    with reading(engine) as session:
        report = month_report(session, scope, month=month, area_code=area, today=today)
        trend = trends(session, scope, month=month, area_code=area, today=today)
        facts = report_meta(session, scope, report.area_code)
        households = household_table(session, scope, area_code=report.area_code, today=today)
        services = service_sheets(service_report(session, scope, month=month, area_code=report.area_code, today=today))
    meta = ExportMeta(
        area_code=report.area_code,
        area_name=facts["area_name"],
        month=report.month.label,
        username=scope.username,
        generated_at=clock.now(),
    )
    return report, trend, meta, households, services


def build(
    engine: Engine, scope: Scope, *, month: str, area: str | None, lang: str = "zh"
) -> tuple[bytes, int, ExportMeta]:
    """The workbook bytes, its row count and its title facts, read in one snapshot."""
    report, trend, meta, households, services = snapshot(engine, scope, month=month, area=area, today=clock.today())
    data, rows = workbook_bytes(report, trend, meta, lang, households=households, services=services)
    return data, rows, meta


def main(argv: list[str] | None = None) -> int:
    """Write the month's workbook and print a JSON line (exit 2 with the message on bad input)."""
    parser = argparse.ArgumentParser(prog="python -m care.report", description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL or SQLite file (default: CARE_DATABASE_URL)")
    parser.add_argument("--month", required=True, help="YYYY-MM")
    parser.add_argument("--area", help="12-digit area code (default: the user's own area)")
    parser.add_argument("--out", required=True, help="the .xlsx file to write")
    parser.add_argument("--as", dest="username", help="whose scope to report in")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    args = parser.parse_args(argv)
    engine = get_engine(args.db)
    upgrade(engine)
    scope = _scope(engine, args.username)
    out = Path(args.out)
    try:
        with audit.denials_survive(engine):
            data, rows, meta = build(engine, scope, month=args.month, area=args.area, lang=args.lang)
        out.write_bytes(data)
        try:
            with transaction(engine) as session:
                digest = record_export(
                    session, scope=scope, fmt="xlsx", data=data, rows=rows, meta=meta, what="workbook"
                )
        except BaseException:
            out.unlink(missing_ok=True)  # no export without its audit entry
            raise
    except CareError as error:
        print(error.message(args.lang), file=sys.stderr)
        return 2
    print(json.dumps({"file": str(out), "rows": rows, "sha256": digest, "area": meta.area_code, "month": meta.month}))
    return 0

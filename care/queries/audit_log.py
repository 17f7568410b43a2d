"""Reads of the audit log for the admin: filtered pages, the CSV file and the chain check."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, false, func, select
from sqlalchemy.orm import Session

from care import audit, audit_anchor
from care.scope import Scope
from db.models import AuditEvent

PAGE_SIZE = 50
COLUMNS = ["id", "at", "username", "action", "entity", "entity_id", "outcome", "detail"]
# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


@dataclass(frozen=True)
class AuditFilter:
    """What the admin asked for: user, action, person, date range and page."""

    username: str | None = None
    action: str | None = None
    person_id: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    page: int = 1


@dataclass(frozen=True)
class AuditPage:
    """One page of events (newest first) and how many match in all."""

    rows: pd.DataFrame
    total: int
    page: int
    pages: int


def _conditions(scope: Scope, flt: AuditFilter) -> list[ColumnElement[bool]]:
    if not scope.can("audit.view"):
        return [false()]
    conditions: list[ColumnElement[bool]] = []
    if flt.username:
        conditions.append(AuditEvent.username == flt.username)
    if flt.action:
        conditions.append(AuditEvent.action == flt.action)
    if flt.person_id is not None:
        conditions += [AuditEvent.entity == "person", AuditEvent.entity_id == str(int(flt.person_id))]
    if flt.start is not None:
        conditions.append(AuditEvent.at >= dt.datetime.combine(flt.start, dt.time.min))
    if flt.end is not None:
        conditions.append(AuditEvent.at < dt.datetime.combine(flt.end + dt.timedelta(days=1), dt.time.min))
    return conditions


def _frame(rows: list[Any]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["detail"] = [json.dumps(d or {}, ensure_ascii=False, sort_keys=True, default=str) for d in table["detail"]]
    return table


def audit_page(session: Session, scope: Scope, flt: AuditFilter, page_size: int = PAGE_SIZE) -> AuditPage:
    """The events matching ``flt``, newest first, one page at a time (admin only)."""
    conditions = _conditions(scope, flt)
    total = int(session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0)
    pages = max(1, -(-total // page_size))
    page = min(max(1, flt.page), pages)
    stmt = (
        select(*(getattr(AuditEvent, c) for c in COLUMNS))
        .where(*conditions)
        .order_by(AuditEvent.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return AuditPage(_frame(list(session.execute(stmt).all())), total, page, pages)


def audit_choices(session: Session, scope: Scope) -> tuple[list[str], list[str]]:
    """The usernames and action names that occur in the log, for the filters."""
    if not scope.can("audit.view"):
        return [], []
    users = session.scalars(select(AuditEvent.username).distinct().order_by(AuditEvent.username))
    actions = session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    return [u for u in users if u], list(actions)


def inert(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading ' before anything that starts a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def audit_csv(session: Session, scope: Scope, flt: AuditFilter, headers: list[str]) -> tuple[bytes, int]:
    """Every event matching ``flt`` as CSV (UTF-8 with BOM, formula-safe) and the row count."""
    stmt = select(*(getattr(AuditEvent, c) for c in COLUMNS)).where(*_conditions(scope, flt)).order_by(AuditEvent.id)
    table = _frame(list(session.execute(stmt).all()))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([inert(h) for h in headers])
    for row in table.itertuples(index=False):
        writer.writerow([inert(v) for v in row])
    return out.getvalue().encode("utf-8-sig"), len(table)


def broken_links(session: Session, scope: Scope) -> list[int] | None:
    """Ids of audit events whose hash chain does not verify (None: the user may not check)."""
    if not scope.can("audit.view"):
        return None
    return audit.verify_chain(session)


def anchor_problems(session: Session, scope: Scope) -> list[tuple[str, dict[str, object]]] | None:
    """The log checked against its signed checkpoints: cut-off tail, forged checkpoint (None: may not check)."""
    if not scope.can("audit.view"):
        return None
    return audit_anchor.verify_anchor(session)

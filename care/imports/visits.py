"""Visit import (巡访导入): many visits checked by the visit form's rules and written in bulk.

Each row goes through care/domain/visits.py (the same checks record_visit makes) against the person's
enrollment in the user's scope; the writes are the ones record_visit makes (the visit and its
enrollment link, needs, a completed planned visit, the next due date by policy) done as a few
set-based statements, with one audit event for the whole file. A visit identical in person,
group, date and status to one already recorded is not new: re-importing a file writes nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table as SqlTable
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from care.domain import clock, enums, ids
from care.domain.errors import CareError, RowError, ValidationError
from care.domain.visits import NOTES_MAX, CleanNeed, CleanVisit, check_need, visit_problems
from care.i18n import t
from care.imports.common import (
    Column,
    ImportReport,
    Progress,
    choice,
    is_empty,
    open_sheet,
    row_error,
    text,
    when,
)
from care.imports.files import Table
from care.imports.roster import CARE_GROUPS, is_example_id
from care.queries.scoping import in_area, person_conditions
from care.scope import Scope
from care.services.due import refresh_due_dates
from db.models import Assignment, Enrollment, Need, Person, Visit, VisitEnrollment, Worker

COLUMNS = (
    Column("id_number", "公民身份号码", required=True),
    Column("care_group", "关爱类别"),
    Column("visited_at", "巡访日期", required=True),
    Column("status", "巡访状态", required=True),
    Column("mode", "巡访方式"),
    Column("worker", "巡访人", limit=64),
    Column("notes", "情况记录", limit=NOTES_MAX),
    Column("needs", "需求", limit=2000),
)
TEMPLATE_HEADERS = [c.header for c in COLUMNS]
COLUMN = {c.key: c for c in COLUMNS}
ALIASES = {
    "enrollment_ids": "care_group",
    "cancel_reason": "notes",
    "worker_id": "worker",
    "kind": "needs",
    "department": "needs",
    "description": "needs",
    "findings": "notes",
    "situation": "status",
}
STATUS_WORDS = {
    "完成": "done",
    "已完成": "done",
    "已走访": "done",
    "已巡访": "done",
    "正常": "done",
    "未见到": "not_met",
}
RECORDED = ("done", "not_met", "cancelled")
MODE_WORDS = {"电话": "phone", "视频": "phone", "入户": "home", "上门走访": "home"}
_NEED_SPLIT = re.compile(r"[；;\n]+")
_NEED_KIND = re.compile(r"^\s*([^：:]{1,8})\s*[：:]\s*(.*)$", re.S)
_CHUNK = 900
# From this many persons on, reading the scope's person ids once beats looking each up.
_WHOLE_SCOPE_FROM = 2_000


@dataclass
class _Row:
    """A checked visit row, ready to write."""

    row: int
    person_id: int
    enrollment_id: int
    group: str
    worker_id: int | None
    visit: CleanVisit
    needs: list[CleanNeed]
    due: dt.date | None


@dataclass
class _Raw:
    """A row's cells read and converted, before anything is looked up."""

    row: int
    id_number: str
    group: str | None
    visited_at: dt.datetime | None
    status: str | None
    mode: str | None
    worker: str
    notes: str
    needs: list[CleanNeed]
    errors: list[RowError] = field(default_factory=list)


def _group(value: Any) -> str | None:
    if is_empty(value):
        return None
    found = CARE_GROUPS.get("".join(str(value).split()))
    if found is not None:
        return found[0]
    return cast(str, choice(value, COLUMN["care_group"], "group", enums.GROUPS, {"老人": "elderly", "儿童": "child"}))


@functools.cache
def _need_kinds() -> dict[str, str]:
    kinds = {t(f"enum.need_kind.{k}", "zh"): k for k in enums.NEED_KINDS}
    kinds.update({t(f"enum.need_kind.{k}", "en").lower(): k for k in enums.NEED_KINDS})
    return kinds


def parse_needs(value: str) -> list[CleanNeed]:
    """需求 cell: needs separated by ；, each '类型：说明' (a need type's name) or free text (其他)."""
    kinds = _need_kinds()
    found: list[CleanNeed] = []
    for piece in _NEED_SPLIT.split(value):
        part = piece.strip()
        if not part:
            continue
        kind, description = "other", part
        match = _NEED_KIND.match(part)
        if match and match.group(1).strip().lower() in kinds:
            kind, description = kinds[match.group(1).strip().lower()], match.group(2).strip()
        elif part in kinds or part.lower() in kinds:
            kind, description = kinds.get(part, kinds.get(part.lower(), "other")), ""
        found.append(check_need(kind, "", description))
    return found


def _read(number: int, values: dict[str, Any]) -> _Raw:
    """Convert one row's cells; every problem is kept, so a row shows all of them at once."""
    raw = _Raw(number, "", None, None, None, None, "", "", [])

    def attempt(convert: Any) -> Any:
        try:
            return convert()
        except CareError as error:
            raw.errors.append(row_error(COLUMNS, number, error, ALIASES))
            return None

    # The number only finds someone already registered: an unknown one is reported as not found.
    raw.id_number = attempt(lambda: ids.parse_id_number(values.get("id_number"), check_region=False).number) or ""
    if raw.id_number and is_example_id(raw.id_number):
        raw.errors.append(RowError(number, COLUMN["id_number"].header, "import.example_row"))
    raw.group = attempt(lambda: _group(values.get("care_group")))
    raw.visited_at = attempt(lambda: when(values.get("visited_at"), COLUMN["visited_at"]))
    raw.status = attempt(
        lambda: choice(values.get("status"), COLUMN["status"], "visit_status", RECORDED, STATUS_WORDS),
    )
    # A row without date or status cannot be told apart from the visits already recorded.
    for key, value in (("visited_at", raw.visited_at), ("status", raw.status)):
        if value is None and not any(e.column == COLUMN[key].header for e in raw.errors):
            raw.errors.append(RowError(number, COLUMN[key].header, "import.required"))
    raw.mode = attempt(lambda: choice(values.get("mode"), COLUMN["mode"], "mode", enums.VISIT_MODES, MODE_WORDS))
    raw.worker = attempt(lambda: text(values.get("worker"), COLUMN["worker"])) or ""
    raw.notes = attempt(lambda: text(values.get("notes"), COLUMN["notes"])) or ""
    raw.needs = attempt(lambda: parse_needs(text(values.get("needs"), COLUMN["needs"]))) or []
    return raw


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


@dataclass
class _Lookups:
    """What the rows refer to, fetched in a few set-based reads within the user's scope."""

    persons: dict[str, int] = field(default_factory=dict)
    enrollments: dict[int, list[tuple[int, str, dt.date, dt.date | None]]] = field(default_factory=dict)
    assigned: dict[int, int] = field(default_factory=dict)
    workers: dict[str, list[int]] = field(default_factory=dict)
    recorded: set[tuple[int, dt.date, str]] = field(default_factory=set)


def _visible_persons(session: Session, scope: Scope, numbers: list[str]) -> dict[str, int]:
    """ID number -> person id for the active persons the user may see.

    Looked up by the unique ID index first, then checked against the scope: given both at once,
    SQLite walks the whole county's village-code range instead.
    """
    by_number: dict[str, int] = {}
    for part in _chunks(numbers):
        stmt = select(Person.id_number, Person.id).where(Person.id_number.in_(part))
        by_number.update({row.id_number: row.id for row in session.execute(stmt)})
    visible = select(Person.id).where(Person.status == "active", *person_conditions(scope))
    ids = sorted(by_number.values())
    if len(ids) > _WHOLE_SCOPE_FROM:
        allowed = set(session.scalars(visible))
    else:
        allowed = {pid for part in _chunks(ids) for pid in session.scalars(visible.where(Person.id.in_(part)))}
    return {number: pid for number, pid in by_number.items() if pid in allowed}


def _lookups(session: Session, scope: Scope, raws: list[_Raw]) -> _Lookups:
    found = _Lookups()
    numbers = sorted({r.id_number for r in raws if r.id_number})
    found.persons = _visible_persons(session, scope, numbers)
    person_ids = sorted(found.persons.values())
    today = clock.today()
    current = (Assignment.start_date <= today) & (Assignment.end_date.is_(None) | (Assignment.end_date >= today))
    enrollment_ids: list[int] = []
    for part in _chunks(person_ids):
        stmt = select(
            Enrollment.id, Enrollment.person_id, Enrollment.group, Enrollment.start_date, Enrollment.next_due_on
        ).where(Enrollment.person_id.in_(part), Enrollment.end_date.is_(None))
        if scope.assigned_only:
            mine = select(Assignment.enrollment_id).where(Assignment.worker_id == scope.worker_id, current)
            stmt = stmt.where(Enrollment.id.in_(mine))
        for eid, pid, group, start, due in session.execute(stmt):
            found.enrollments.setdefault(pid, []).append((eid, group, start, due))
            enrollment_ids.append(eid)
    earliest = min((r.visited_at for r in raws if r.visited_at), default=None)
    for part in _chunks(enrollment_ids):
        who = (
            select(Assignment.enrollment_id, Assignment.worker_id)
            .where(Assignment.enrollment_id.in_(part), Assignment.end_date.is_(None))
            .order_by(Assignment.start_date)
        )
        found.assigned.update({row.enrollment_id: row.worker_id for row in session.execute(who)})
        if earliest is not None:
            start = dt.datetime.combine(earliest.date(), dt.time(0))
            stmt2 = (
                select(VisitEnrollment.enrollment_id, Visit.visited_at, Visit.status)
                .join(Visit, Visit.id == VisitEnrollment.visit_id)
                .where(VisitEnrollment.enrollment_id.in_(part), Visit.visited_at >= start)
            )
            found.recorded.update((eid, at.date(), status) for eid, at, status in session.execute(stmt2) if at)
    names = sorted({r.worker for r in raws if r.worker})
    if names and scope.prefix is not None:
        stmt3 = select(Worker.name, Worker.id).where(Worker.name.in_(names), in_area(Worker.area_code, scope.prefix))
        if scope.assigned_only:
            stmt3 = stmt3.where(Worker.id == scope.worker_id)
        for name, wid in session.execute(stmt3):
            found.workers.setdefault(name, []).append(wid)
    return found


def _enrollment(raw: _Raw, person_id: int, found: _Lookups) -> tuple[int, str, dt.date, dt.date | None]:
    active = found.enrollments.get(person_id, [])
    if raw.group is None:
        if len(active) == 1:
            return active[0]
        raise ValidationError("import.group_needed" if active else "import.no_enrollment", field="care_group")
    match = [e for e in active if e[1] == raw.group]
    if not match:
        raise ValidationError("import.no_enrollment", field="care_group")
    return match[0]


def _worker(raw: _Raw, scope: Scope, enrollment_id: int, found: _Lookups) -> int | None:
    """As record_visit: a coordinator's own worker; else the one named, or the one assigned."""
    if not raw.worker:
        return scope.worker_id if scope.assigned_only else found.assigned.get(enrollment_id)
    candidates = found.workers.get(raw.worker, [])
    if len(candidates) > 1 and found.assigned.get(enrollment_id) in candidates:
        return found.assigned[enrollment_id]
    if len(candidates) != 1:
        key = "import.worker_ambiguous" if candidates else "import.worker_unknown"
        raise ValidationError(key, field="worker", name=raw.worker)
    return candidates[0]


def _check(raw: _Raw, scope: Scope, found: _Lookups, now: dt.datetime) -> _Row:
    person_id = found.persons.get(raw.id_number)
    if person_id is None:
        raise ValidationError("import.person_not_found", field="id_number")
    enrollment_id, group, start, due = _enrollment(raw, person_id, found)
    status = raw.status or ""
    clean, problems = visit_problems(
        status=status,
        mode=raw.mode,
        visited_at=raw.visited_at,
        groups=[group],
        starts=[start],
        now=now,
        notes="" if status == "cancelled" else raw.notes,
        cancel_reason=raw.notes if status == "cancelled" else "",
    )
    if problems:
        raise problems[0] if len(problems) == 1 else _Many(problems)
    assert clean is not None
    if status == "cancelled" and raw.needs:
        raise ValidationError("visit.needs_need_visit", field="needs")
    worker_id = _worker(raw, scope, enrollment_id, found)
    return _Row(raw.row, person_id, enrollment_id, group, worker_id, clean, raw.needs, due)


class _Many(CareError):
    """Several problems of one row at once (visit_problems reports them all)."""

    def __init__(self, problems: list[ValidationError]) -> None:
        super().__init__(problems[0].key)
        self.problems = problems


def check_visits(
    session: Session, scope: Scope, table: Table, report: ImportReport, progress: Progress | None = None
) -> list[_Row]:
    """Every row checked (all problems collected in ``report``); the visits that are new."""
    sheet = open_sheet(scope, "import.visits", table, COLUMNS, report)
    if sheet is None:
        return []
    raws = [_read(number, values) for number, values in sheet.rows()]
    found = _lookups(session, scope, [r for r in raws if not r.errors])
    now = clock.now()
    planned: list[_Row] = []
    first: dict[tuple[int, dt.date, str], int] = {}
    for done, raw in enumerate(raws, start=1):
        if raw.errors:
            report.errors.extend(raw.errors)
        else:
            try:
                row = _check(raw, scope, found, now)
            except _Many as many:
                report.errors.extend(row_error(COLUMNS, raw.row, p, ALIASES) for p in many.problems)
            except CareError as error:
                report.errors.append(row_error(COLUMNS, raw.row, error, ALIASES))
            else:
                assert row.visit.visited_at is not None
                key = (row.enrollment_id, row.visit.visited_at.date(), row.visit.status)
                if key in found.recorded:
                    report.unchanged += 1
                elif key in first:
                    report.errors.append(
                        RowError(raw.row, COLUMN["id_number"].header, "import.duplicate_in_file", {"other": first[key]})
                    )
                else:
                    first[key] = raw.row
                    planned.append(row)
        if progress and (done % 500 == 0 or done == len(raws)):
            progress(done, 0, len(raws))
    report.new = len(planned)
    return planned


def _planned_visits(session: Session, rows: list[_Row]) -> dict[tuple[int, int | None], list[int]]:
    """Planned visits (oldest due first) by person and worker, which recorded ones complete."""
    out: dict[tuple[int, int | None], list[int]] = defaultdict(list)
    person_ids = sorted({r.person_id for r in rows})
    for part in _chunks(person_ids):
        stmt = (
            select(Visit.id, Visit.person_id, Visit.worker_id)
            .where(Visit.person_id.in_(part), Visit.status == "planned")
            .order_by(Visit.due_date.nulls_last(), Visit.id)
        )
        for vid, pid, wid in session.execute(stmt):
            out[(pid, wid)].append(vid)
    return out


def _values(row: _Row) -> dict[str, Any]:
    return {
        "status": row.visit.status,
        "mode": row.visit.mode,
        "visited_at": row.visit.visited_at,
        "findings": row.visit.findings,
        "notes": row.visit.notes,
        "cancel_reason": row.visit.cancel_reason,
        "follow_up": "；".join(n.description or n.kind for n in row.needs),
    }


def _insert_visits(session: Session, scope: Scope, rows: list[_Row], now: dt.datetime) -> list[int]:
    """Insert visits in one executemany and return their ids in row order.

    Each row carries a token unique to this import, read back to learn the new ids: RETURNING
    with guaranteed order makes SQLite insert one row per statement.
    """
    if not rows:
        return []
    batch = f"import:{uuid.uuid4().hex}:"
    params = [
        _values(r)
        | {
            "person_id": r.person_id,
            "worker_id": r.worker_id,
            "due_date": r.due,
            "version": 1,
            "created_at": now,
            "created_by": scope.user_id,
            "client_token": f"{batch}{r.row}",
        }
        for r in rows
    ]
    table = cast(SqlTable, Visit.__table__)
    session.execute(insert(table), params)
    ids: dict[str, int] = {}
    tokens = [p["client_token"] for p in params]
    for part in _chunks(tokens):
        found = select(table.c.client_token, table.c.id).where(table.c.client_token.in_(part))
        ids.update({row.client_token: row.id for row in session.execute(found)})
    return [ids[t] for t in tokens]


def _counties_of(session: Session, person_ids: list[int]) -> dict[int, str]:
    """Person id -> county, for the links of the visits written (a link carries its visit's county)."""
    found: dict[int, str] = {}
    for part in _chunks(sorted(set(person_ids))):
        stmt = select(Person.id, Person.county_code).where(Person.id.in_(part))
        found.update(dict(session.execute(stmt).all()))
    return found


def write_visits(
    session: Session, scope: Scope, rows: list[_Row], report: ImportReport, progress: Progress | None = None
) -> list[int]:
    """Insert the checked visits, their links and needs, complete planned visits, move due dates."""
    if not rows:
        return []
    planned = _planned_visits(session, rows)
    now = clock.now()
    completing: list[tuple[_Row, int]] = []
    inserting: list[_Row] = []
    for row in rows:
        waiting = planned.get((row.person_id, row.worker_id))
        if waiting:
            completing.append((row, waiting.pop(0)))
        else:
            inserting.append(row)
    visit_ids = _insert_visits(session, scope, inserting, now)
    table = cast(SqlTable, Visit.__table__)
    if completing:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("vid"))
            .values({name: bindparam(name) for name in _values(completing[0][0])} | {"version": table.c.version + 1}),
            [_values(r) | {"vid": vid} for r, vid in completing],
        )
    pairs = list(zip(inserting, visit_ids, strict=True)) + [(r, vid) for r, vid in completing]
    links = cast(SqlTable, VisitEnrollment.__table__)
    counties = _counties_of(session, [r.person_id for r, _ in pairs])
    session.execute(
        insert(links),
        [{"visit_id": vid, "enrollment_id": r.enrollment_id, "county_code": counties[r.person_id]} for r, vid in pairs],
    )
    needs = [
        {
            "person_id": r.person_id,
            "enrollment_id": r.enrollment_id,
            "visit_id": vid,
            "kind": n.kind,
            "department": n.department,
            "description": n.description,
            "status": "open",
            "opened_on": r.visit.visited_at.date() if r.visit.visited_at else clock.today(),
            "created_by": scope.user_id,
            "updated_by": scope.user_id,
            "updated_at": now,
            "version": 1,
        }
        for r, vid in pairs
        for n in r.needs
    ]
    if needs:
        session.execute(insert(cast(SqlTable, Need.__table__)), needs)
    if progress:
        progress(report.rows, len(pairs), report.rows)
    refresh_due_dates(session, enrollment_ids=sorted({r.enrollment_id for r in rows}))
    report.committed = len(pairs)
    return [vid for _, vid in pairs]

"""Visit benchmarks, on a copy of the database (they write): one visit saved, 10,000 imported.

``save_visit`` records one visit through ``record_visit`` (the visit, its enrollment link, the
next due date by policy and the audit event) and commits, as a coordinator's phone does;
``import_10k_visits`` checks and commits a 10,000-row .xlsx visit file through the import that
the page and ``python -m care.imports`` use; ``reimport_10k_visits`` imports the same file again
(everything already present: nothing written); ``save_household_visit`` records one household
visit through ``record_household_visit`` (one visit per member of the coordinator's, each
enrollment's due date, the audit event) and commits.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import xlsxwriter
from sqlalchemy import Engine, and_, select
from sqlalchemy.engine import make_url

from care.bench.common import active_user, copy_database, line
from care.domain import clock
from care.imports import run_import
from care.imports.visits import TEMPLATE_HEADERS
from care.scope import Scope
from care.services.visits import MemberVisit, record_household_visit, record_visit
from db.models import Assignment, Enrollment, Household, HouseholdMember, Person
from db.session import get_engine, reading, transaction

SAVES = 30
IMPORT_ROWS = 10_000
GROUP_LABELS = {"child": "儿童", "elderly": "老年人", "disabled": "残疾人"}


def _coordinator_enrollments(engine: Engine, scope: Scope) -> list[tuple[int, int, dt.date]]:
    today = clock.today()
    with reading(engine) as session:
        rows = session.execute(
            select(Enrollment.person_id, Enrollment.id, Enrollment.start_date)
            .join(Assignment, and_(Assignment.enrollment_id == Enrollment.id, Assignment.end_date.is_(None)))
            .join(Person, Person.id == Enrollment.person_id)
            .where(
                Assignment.worker_id == scope.worker_id,
                Enrollment.end_date.is_(None),
                Person.status == "active",
                Person.deleted.is_(False),
                Enrollment.start_date < today,
            )
            .order_by(Enrollment.id)
        ).all()
    return [(r.person_id, r.id, r.start_date) for r in rows]


def _save_times(engine: Engine) -> tuple[list[float], Scope]:
    scope = active_user(engine, "coordinator")
    found = _coordinator_enrollments(engine, scope)
    # A small county's coordinator may have fewer than SAVES enrollments: all of them, then.
    picks = random.Random(7).sample(found, min(SAVES, len(found)))  # noqa: S311 - seeded sample
    times = []
    now = clock.now()
    for person_id, enrollment_id, _start in picks:
        start = time.perf_counter()
        with transaction(engine) as session:
            record_visit(
                session,
                scope,
                person_id=person_id,
                enrollment_ids=[enrollment_id],
                status="done",
                mode="home",
                visited_at=now - dt.timedelta(minutes=5),
                notes="入户走访，情况稳定",
                findings={"safety": "ok", "health": "good"},
            )
        times.append(time.perf_counter() - start)
    return times, scope


def _coordinator_households(engine: Engine, scope: Scope) -> list[tuple[int, int, dict[int, list[int]]]]:
    """(household, version, member → enrollments) for households with two or more of the coordinator's persons."""
    by_person: dict[int, list[int]] = {}
    for person_id, enrollment_id, _start in _coordinator_enrollments(engine, scope):
        by_person.setdefault(person_id, []).append(enrollment_id)
    with reading(engine) as session:
        rows = session.execute(
            select(HouseholdMember.household_id, HouseholdMember.person_id, Household.version)
            .join(Household, Household.id == HouseholdMember.household_id)
            .where(HouseholdMember.person_id.in_(list(by_person)), HouseholdMember.end_date.is_(None))
        ).all()
    homes: dict[int, tuple[int, dict[int, list[int]]]] = {}
    for hid, pid, version in rows:
        homes.setdefault(hid, (version, {}))[1][pid] = by_person[pid]
    return [(hid, version, members) for hid, (version, members) in sorted(homes.items()) if len(members) >= 2]


def _household_times(engine: Engine, scope: Scope) -> tuple[list[float], int]:
    homes = _coordinator_households(engine, scope)
    picks = random.Random(7).sample(homes, min(SAVES, len(homes)))  # noqa: S311 - seeded sample
    times, members = [], 0
    now = clock.now()
    for n, (hid, version, people) in enumerate(picks):
        visits = [
            MemberVisit(person_id=pid, enrollment_ids=eids, status="done", findings={"safety": "ok"})
            for pid, eids in people.items()
        ]
        members += len(visits)
        start = time.perf_counter()
        with transaction(engine) as session:
            record_household_visit(
                session,
                scope,
                household_id=hid,
                seen_version=version,
                members=visits,
                mode="home",
                visited_at=now - dt.timedelta(minutes=5),
                notes="入户走访，一家情况稳定",
                client_token=f"bench-household-{n}",
            )
        times.append(time.perf_counter() - start)
    return times, members


def visit_file(engine: Engine, scope: Scope, rows: int) -> bytes:
    """An .xlsx visit file for ``rows`` distinct active enrollments in the user's county."""
    today = clock.today()
    with reading(engine) as session:
        found = session.execute(
            select(Person.id_number, Enrollment.group, Enrollment.start_date)
            .join(Enrollment, Enrollment.person_id == Person.id)
            .where(
                Enrollment.end_date.is_(None),
                Person.status == "active",
                Person.deleted.is_(False),
                Enrollment.start_date < today - dt.timedelta(days=2),
            )
            .order_by(Enrollment.id)
        ).all()
    # A small county has fewer enrollments than ``rows``: the file holds all of them (its ``rows`` says how many).
    picks = random.Random(11).sample(found, min(rows, len(found)))  # noqa: S311 - seeded sample
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, TEMPLATE_HEADERS)
    statuses = ["已访"] * 8 + ["未遇", "已访"]
    for row, (number, group, start) in enumerate(picks, start=1):
        day = max(start + dt.timedelta(days=1), today - dt.timedelta(days=1 + row % 28))
        status = statuses[row % len(statuses)]
        needs = "医疗：复查血压" if row % 50 == 0 else ""
        sheet.write_row(row, 0, [number, GROUP_LABELS[group], day.isoformat(), status, "上门", "", "情况稳定", needs])
    book.close()
    return buffer.getvalue()


def bench_visits(engine: Engine, n: int) -> Iterator[dict[str, Any]]:
    """save_visit and save_household_visit (target < 0.05 s), import_10k_visits (target < 10 s), on a copy."""
    started = time.perf_counter()
    copy = get_engine(str(copy_database(engine)))
    copied = round(time.perf_counter() - started, 1)
    try:
        times, scope = _save_times(copy)
        yield line("visits", "save_visit", n, times, role=scope.role, target=0.05, copy_seconds=copied)
        household_times, members = _household_times(copy, scope)
        if household_times:
            yield line(
                "visits", "save_household_visit", n, household_times, role=scope.role, members=members, target=0.05
            )
        admin = active_user(copy, "admin")
        data = visit_file(copy, admin, IMPORT_ROWS)
        for case in ("import_10k_visits", "reimport_10k_visits"):
            start = time.perf_counter()
            report = run_import(copy, admin, kind="visits", data=data, filename="visits.xlsx")
            seconds = time.perf_counter() - start
            extra = {"rows": report.rows, "committed": report.committed, "unchanged": report.unchanged}
            yield line("visits", case, n, [seconds], ok=report.ok, errors=len(report.errors), target=10, **extra)
    finally:
        copy.dispose()
        path = Path(make_url(copy.url).database or "")
        for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            part.unlink(missing_ok=True)

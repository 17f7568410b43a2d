"""Reads for 服务分配: workers and their caseloads, enrollments to assign, the unassigned list."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from care.domain import areas, enums
from care.queries.scoping import in_area, person_conditions
from care.scope import Scope
from db.models import Area, Assignment, Enrollment, Person, Worker

CASELOAD_COLUMNS = [
    "worker_id",
    "name",
    "kind",
    "area",
    "active",
    "persons",
    "enrollments",
    "high_risk_persons",
    "overdue",
    "due_this_week",
]
ENROLLMENT_COLUMNS = [
    "enrollment_id",
    "person_id",
    "name",
    "village_code",
    "village",
    "group",
    "risk",
    "next_due_on",
    "worker_id",
    "worker",
]


@dataclass(frozen=True)
class EnrollmentFilter:
    """Which active enrollments to list: an area inside the scope, a group, a worker or nobody."""

    area_code: str | None = None
    group: str | None = None
    worker_id: int | None = None
    unassigned_only: bool = False
    limit: int = 5_000


def week_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the week holding ``day``."""
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


def _current_assignment(today: dt.date) -> object:
    return and_(
        Assignment.enrollment_id == Enrollment.id,
        Assignment.start_date <= today,
        Assignment.end_date.is_(None) | (Assignment.end_date >= today),
    )


def workers(session: Session, scope: Scope, *, active_only: bool = False) -> pd.DataFrame:
    """Workers in the user's area (a coordinator: their own worker), by area then name."""
    if scope.sees_nothing or scope.prefix is None:
        return pd.DataFrame(columns=["worker_id", "name", "kind", "area_code", "area", "active", "located"])
    stmt = (
        select(
            Worker.id,
            Worker.name,
            Worker.kind,
            Worker.area_code,
            Area.name,
            Worker.active,
            Worker.office_lat.is_not(None) & Worker.office_lon.is_not(None),
        )
        .join(Area, Area.code == Worker.area_code)
        .where(in_area(Worker.area_code, scope.prefix))
        .order_by(Worker.area_code, Worker.name, Worker.id)
    )
    if scope.assigned_only:
        stmt = stmt.where(Worker.id == scope.worker_id)
    if active_only:
        stmt = stmt.where(Worker.active.is_(True))
    rows = session.execute(stmt).all()
    return pd.DataFrame(rows, columns=["worker_id", "name", "kind", "area_code", "area", "active", "located"])


@dataclass(frozen=True)
class Misfit:
    """Why a worker is unusual for some enrollments: groups their post does not usually serve, and
    how many of the enrollments lie in villages outside their area."""

    groups: tuple[str, ...] = ()
    outside_area: int = 0

    def __bool__(self) -> bool:
        return bool(self.groups or self.outside_area)


def misfit(kind: str, area_code: str, enrollments: Iterable[tuple[str, str]]) -> Misfit:
    """How a worker of ``kind`` in ``area_code`` fits enrollments given as (group, village code)."""
    counts = Counter(enrollments)
    served = enums.worker_groups(kind)
    groups = tuple(sorted({g for g, _ in counts if g not in served}))
    outside = sum(n for (_, village), n in counts.items() if not areas.contains(area_code, village))
    return Misfit(groups, outside)


def fitting_workers(staff: pd.DataFrame, enrollments: Iterable[tuple[str, str]]) -> pd.DataFrame:
    """The workers (rows of ``workers``) whose post serves every group and whose area covers every village."""
    pairs = set(enrollments)
    fits = [not misfit(w.kind, w.area_code, pairs) for w in staff.itertuples(index=False)]
    return staff[pd.Series(fits, index=staff.index, dtype=bool)]


def caseloads(session: Session, scope: Scope, today: dt.date) -> pd.DataFrame:
    """Per worker in scope: persons, enrollments, high-risk persons, overdue, due by Sunday."""
    staff = workers(session, scope)
    if staff.empty:
        return pd.DataFrame(columns=CASELOAD_COLUMNS)
    _, sunday = week_bounds(today)
    stmt = (
        select(
            Assignment.worker_id,
            func.count(func.distinct(Enrollment.person_id)),
            func.count(),
            func.count(func.distinct(case((Enrollment.risk == "high", Enrollment.person_id)))),
            func.sum(case((Enrollment.next_due_on < today, 1), else_=0)),
            func.sum(case(((Enrollment.next_due_on >= today) & (Enrollment.next_due_on <= sunday), 1), else_=0)),
        )
        .join(Enrollment, _current_assignment(today))  # type: ignore[arg-type]
        .join(Person, Person.id == Enrollment.person_id)
        .where(
            Enrollment.end_date.is_(None),
            Assignment.worker_id.in_([int(w) for w in staff["worker_id"]]),
            *person_conditions(scope),
        )
        .group_by(Assignment.worker_id)
    )
    counts = {wid: [int(v or 0) for v in rest] for wid, *rest in session.execute(stmt)}
    rows = [
        [w.worker_id, w.name, w.kind, w.area, bool(w.active), *counts.get(int(w.worker_id), [0] * 5)]
        for w in staff.itertuples(index=False)
    ]
    return pd.DataFrame(rows, columns=CASELOAD_COLUMNS)


def enrollments(session: Session, scope: Scope, filters: EnrollmentFilter, today: dt.date) -> pd.DataFrame:
    """Active enrollments in scope with their current worker (if any), ordered by village, name."""
    current = (
        select(Assignment.enrollment_id, Assignment.worker_id)
        .where(Assignment.start_date <= today, Assignment.end_date.is_(None) | (Assignment.end_date >= today))
        .subquery()
    )
    stmt = (
        select(
            Enrollment.id,
            Person.id,
            Person.name,
            Person.village_code,
            Area.name,
            Enrollment.group,
            Enrollment.risk,
            Enrollment.next_due_on,
            current.c.worker_id,
            Worker.name,
        )
        .join(Person, Person.id == Enrollment.person_id)
        .join(Area, Area.code == Person.village_code)
        .outerjoin(current, current.c.enrollment_id == Enrollment.id)
        .outerjoin(Worker, Worker.id == current.c.worker_id)
        .where(Enrollment.end_date.is_(None), Person.status == "active", *person_conditions(scope))
        .order_by(Person.village_code, Person.name, Person.id, Enrollment.group)
        .limit(filters.limit)
    )
    if filters.area_code:
        stmt = stmt.where(in_area(Person.village_code, areas.prefix_of(filters.area_code)))
    if filters.group:
        stmt = stmt.where(Enrollment.group == filters.group)
    if filters.unassigned_only:
        stmt = stmt.where(current.c.worker_id.is_(None))
    elif filters.worker_id is not None:
        stmt = stmt.where(current.c.worker_id == filters.worker_id)
    frame = pd.DataFrame(session.execute(stmt).all(), columns=ENROLLMENT_COLUMNS)
    frame["worker_id"] = frame["worker_id"].astype("Int64")
    return frame


def unassigned_count(session: Session, scope: Scope, today: dt.date) -> int:
    """How many active enrollments in scope have nobody responsible today."""
    stmt = (
        select(func.count())
        .select_from(Enrollment)
        .join(Person, Person.id == Enrollment.person_id)
        .where(
            Enrollment.end_date.is_(None),
            Person.status == "active",
            *person_conditions(scope),
            ~select(Assignment.id).where(_current_assignment(today)).exists(),  # type: ignore[arg-type]
        )
    )
    return int(session.scalar(stmt) or 0)

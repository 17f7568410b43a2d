"""Reads behind the 统计报表 page: one month and one area, in the user's scope, as plain tables.

The tables go to ``care.reports.compute`` (all arithmetic lives there). Areas are chosen by code
among the current areas (``valid_to`` empty) inside the user's area; persons are selected by the
prefix of their current village code, so persons moved by a re-division count where they are now.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, String, and_, cast, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from care import areas, policy
from care.errors import NotFound, ValidationError
from care.queries.scoping import in_area, person_conditions
from care.reports import (
    AREA_COLUMNS,
    ENROLLMENT_COLUMNS,
    NEED_COLUMNS,
    PERSON_COLUMNS,
    TREND_MONTHS,
    WORKER_COLUMNS,
    Month,
    MonthReport,
    ReportInputs,
    _days,
    compute,
    day_number,
    months_back,
    parse_month,
    trend_rates,
)
from care.scope import Scope
from care.services.common import require
from care.services.due import phone_counts, policy_intervals
from db.models import Area, Assignment, DisabledDetails, Enrollment, Need, Person, Visit, VisitEnrollment, Worker


def _frame(session: Session, stmt: Any, columns: list[str]) -> pd.DataFrame:
    """Rows as a frame, built from the driver's own tuples.

    Every column read here is plain (numbers, text, dates read raw by ``_raw``) and typed by the
    caller, so the rows skip SQLAlchemy's per-row objects, the larger part of reading 100,000 rows.
    """
    result = session.connection().execute(stmt)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.DataFrame.from_records(rows, columns=columns)


def _raw(column: Any) -> Any:
    """A date or time column read as the driver gives it (SQLite: text), parsed in bulk by pandas later."""
    return type_coerce(column, String)


def _day(column: Any) -> Any:
    """The calendar day of a timestamp as 'YYYY-MM-DD' text (short rows, parsed in bulk)."""
    return func.substr(cast(column, String), 1, 10)


def report_areas(session: Session, scope: Scope) -> pd.DataFrame:
    """The current areas (county, townships, villages) inside the user's area, for the area picker."""
    if scope.sees_nothing or scope.prefix is None:
        return pd.DataFrame(columns=AREA_COLUMNS)
    stmt = (
        select(Area.code, Area.name, Area.level, Area.parent_code, Area.lat, Area.lon)
        .where(in_area(Area.code, scope.prefix), Area.valid_to.is_(None))
        .order_by(Area.code)
    )
    return _frame(session, stmt, AREA_COLUMNS)


def check_area(session: Session, scope: Scope, area_code: str | None) -> str:
    """The report's area: the user's own when none is given; refused unless current and inside scope."""
    require(scope, "report.view")
    code = area_code or scope.area_code
    if not code or not areas.is_code(code):
        raise ValidationError("rpt.bad_area", field="area_code", code=str(code)[:20])
    area = session.get(Area, code)
    if area is None or not scope.covers(code) or area.valid_to is not None:
        raise NotFound("rpt.area_not_found", code=code)
    return code


def _areas_with_history(session: Session, prefix: str) -> pd.DataFrame:
    """Areas under ``prefix``, merged-away ones too (flag ``current``): a record still on an old
    code is named, but the rows of the figures by area are the current areas."""
    stmt = select(
        Area.code, Area.name, Area.level, Area.parent_code, Area.lat, Area.lon, Area.valid_to.is_(None)
    ).where(in_area(Area.code, prefix))
    return _frame(session, stmt, [*AREA_COLUMNS, "current"])


def _persons(scope: Scope, prefix: str) -> list[ColumnElement[bool]]:
    return [*person_conditions(scope), in_area(Person.village_code, prefix)]


def _person_ids(conditions: list[ColumnElement[bool]]) -> Any:
    """The ids of the persons in the report, as a subquery to filter by.

    Filtering by this list instead of joining on the village code lets the database read persons
    and their enrollments in id order (neighbouring pages) rather than in village order: on
    SQLite a county's enrollments with their last prior visit read in half the time.
    """
    return select(Person.id).where(*conditions)


def _enrollments(
    session: Session, conditions: list[ColumnElement[bool]], month: Month, *, prior: Any = None
) -> pd.DataFrame:
    """Enrollments listed in ``month`` or active now; with ``prior`` (a correlated column) a
    ``prior`` column beside them, read in the same pass."""
    assigned = Enrollment.id.in_(select(Assignment.enrollment_id).where(Assignment.end_date.is_(None)))
    certified = and_(DisabledDetails.certificate_no.is_not(None), DisabledDetails.certificate_no != "")
    extra = [] if prior is None else [prior]
    stmt = (
        select(
            Enrollment.id,
            Enrollment.person_id,
            Enrollment.group,
            Enrollment.subtype,
            Enrollment.risk,
            _raw(Enrollment.start_date),
            _raw(Enrollment.end_date),
            Enrollment.exit_reason,
            _raw(Enrollment.next_due_on),
            _raw(Enrollment.last_visit_on),
            func.coalesce(certified, False),
            func.coalesce(DisabledDetails.rehab_needs != "", False),
            assigned,
            *extra,
        )
        .outerjoin(DisabledDetails, DisabledDetails.enrollment_id == Enrollment.id)
        .where(
            Enrollment.person_id.in_(_person_ids(conditions)),
            or_(
                Enrollment.end_date.is_(None),
                and_(Enrollment.start_date <= month.last, Enrollment.end_date >= month.first),
            ),
        )
    )
    frame = _frame(session, stmt, ENROLLMENT_COLUMNS + ([] if prior is None else ["prior"]))
    for column in ("certified", "rehab_needs", "assigned"):
        frame[column] = frame[column].astype(bool)
    return frame


def _split_prior(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The enrollments without their ``prior`` column, and that column as (enrollment_id, day) rows."""
    found = frame[frame["prior"].notna()]
    prior = pd.DataFrame(
        {"enrollment_id": found["enrollment_id"].astype("int64"), "day": _days(found["prior"])}
    ).reset_index(drop=True)
    return frame.drop(columns=["prior"]), prior


def _counted_modes(session: Session) -> list[str]:
    return list(policy.COUNTED_MODES_IN_PERSON) + (["phone"] if phone_counts(session) else [])


def _visits(session: Session, prefix: str, month: Month, modes: list[str], *, whole_county: bool) -> pd.DataFrame:
    stmt = (
        select(VisitEnrollment.enrollment_id, _day(Visit.visited_at))
        .join(VisitEnrollment, VisitEnrollment.visit_id == Visit.id)
        .where(
            Visit.visited_at >= dt.datetime.combine(month.first, dt.time()),
            Visit.visited_at < dt.datetime.combine(month.last + dt.timedelta(days=1), dt.time()),
            Visit.status == "done",
            Visit.mode.in_(modes),
        )
    )
    if not whole_county:
        # Below a county, narrow by the visited person's village; a county reads the month whole
        # and compute() keeps only visits linked to its own (scoped) enrollments.
        stmt = stmt.join(Person, Person.id == Visit.person_id).where(in_area(Person.village_code, prefix))
    # Only counted visits are read, so the frame carries no status or mode (see counted_visits).
    return _frame(session, stmt, ["enrollment_id", "visited_on"])


def _last_counted_before(month: Month, modes: list[str], since: dt.date) -> Any:
    """Per enrollment row: its last counted visit in [since, month start), as the driver gives it.

    Driven from the enrollment through the covering (person, visited_at, status, mode) index: a
    scan of the whole look-back window by date would read several months of the county's visits.
    An enrollment that starts inside the month gets one too; it never matters, as its own start
    is later (see ``reports.on_time``).
    """
    return (
        select(func.max(_raw(Visit.visited_at)))
        .join(
            VisitEnrollment,
            and_(VisitEnrollment.visit_id == Visit.id, VisitEnrollment.enrollment_id == Enrollment.id),
        )
        .where(
            Visit.person_id == Enrollment.person_id,
            Visit.visited_at >= dt.datetime.combine(since, dt.time()),
            Visit.visited_at < dt.datetime.combine(month.first, dt.time()),
            Visit.status == "done",
            Visit.mode.in_(modes),
        )
        .scalar_subquery()
    )


def _people(session: Session, conditions: list[ColumnElement[bool]]) -> pd.DataFrame:
    stmt = select(
        Person.id,
        Person.name,
        Person.id_number,
        Person.sex,
        Person.birth_date,
        Person.village_code,
        Person.phone,
        Person.lat,
        Person.lon,
        Person.status,
    ).where(Person.id.in_(_person_ids(conditions)))
    return _frame(session, stmt, PERSON_COLUMNS)


def _needs(session: Session, conditions: list[ColumnElement[bool]]) -> pd.DataFrame:
    stmt = (
        select(
            Need.id,
            Need.person_id,
            Need.kind,
            Need.status,
            _raw(Need.opened_on),
            _raw(Need.resolved_on),
            Need.department,
        )
        .join(Person, Person.id == Need.person_id)
        .where(*conditions)
    )
    return _frame(session, stmt, NEED_COLUMNS)


def _workers(session: Session, prefix: str) -> pd.DataFrame:
    # Counted from the active enrollments (a small covering index) rather than per worker.
    caseload = (
        select(Assignment.worker_id, func.count().label("caseload"))
        .join(Enrollment, Enrollment.id == Assignment.enrollment_id)
        .where(Assignment.end_date.is_(None), Enrollment.end_date.is_(None))
        .group_by(Assignment.worker_id)
        .subquery()
    )
    stmt = (
        select(Worker.id, Worker.name, Worker.kind, Worker.area_code, func.coalesce(caseload.c.caseload, 0))
        .outerjoin(caseload, caseload.c.worker_id == Worker.id)
        .where(in_area(Worker.area_code, prefix), Worker.active.is_(True))
    )
    return _frame(session, stmt, WORKER_COLUMNS)


def report_inputs(session: Session, scope: Scope, *, month: Month, area_code: str, today: dt.date) -> ReportInputs:
    """The plain tables of one month and area (area already checked by ``check_area``)."""
    prefix = areas.prefix_of(area_code)
    conditions = _persons(scope, prefix)
    intervals = policy_intervals(session)
    modes = _counted_modes(session)
    # A visit older than the longest interval cannot keep anything on time (see reports.on_time).
    since = month.first - dt.timedelta(days=max(intervals.values()) + 1)
    enrollments, prior = _split_prior(
        _enrollments(session, conditions, month, prior=_last_counted_before(month, modes, since))
    )
    return ReportInputs(
        month=month,
        today=today,
        area_code=area_code,
        enrollments=enrollments,
        persons=_people(session, conditions),
        visits=_visits(session, prefix, month, modes, whole_county=areas.level_of(area_code) == "county"),
        needs=_needs(session, conditions),
        workers=_workers(session, prefix),
        areas=_areas_with_history(session, prefix),
        intervals=intervals,
        phone_counts="phone" in modes,
        prior=prior,
    )


def month_report(session: Session, scope: Scope, *, month: str, area_code: str | None, today: dt.date) -> MonthReport:
    """Every figure and list of one month for one area in the user's scope."""
    code = check_area(session, scope, area_code)
    chosen = parse_month(month, today=today)
    return compute(report_inputs(session, scope, month=chosen, area_code=code, today=today))


def trends(
    session: Session, scope: Scope, *, month: str, area_code: str | None, today: dt.date, count: int = TREND_MONTHS
) -> pd.DataFrame:
    """Monthly visit rate per group for the ``count`` months ending with ``month``."""
    code = check_area(session, scope, area_code)
    months = months_back(parse_month(month, today=today), count)
    prefix = areas.prefix_of(code)
    conditions = _persons(scope, prefix)
    enrollments = _enrollments(session, conditions, Month("", months[0].first, months[-1].last))
    modes = _counted_modes(session)
    ym = func.substr(cast(Visit.visited_at, String), 1, 7)
    stmt = (
        select(VisitEnrollment.enrollment_id, ym)
        .join(VisitEnrollment, VisitEnrollment.visit_id == Visit.id)
        .where(Visit.status == "done", Visit.mode.in_(modes))
        .group_by(VisitEnrollment.enrollment_id, ym)
    )
    if areas.level_of(code) == "county":
        # A year of a county's visits is most of the table: filtering on the month text makes the
        # planner read the table in order instead of hopping through the visited_at index.
        stmt = stmt.where(ym >= months[0].label, ym <= months[-1].label)
    else:
        stmt = (
            stmt.join(Person, Person.id == Visit.person_id)
            .where(in_area(Person.village_code, prefix))
            .where(
                Visit.visited_at >= dt.datetime.combine(months[0].first, dt.time()),
                Visit.visited_at < dt.datetime.combine(months[-1].last + dt.timedelta(days=1), dt.time()),
            )
        )
    pairs = _frame(session, stmt, ["enrollment_id", "ym"])
    first_days = {m.label: day_number(m.first) for m in months}
    counted = pd.DataFrame(
        {"enrollment_id": pairs["enrollment_id"], "day": pairs["ym"].map(first_days).astype("float64")}
    )
    return trend_rates(enrollments, counted, months)


def report_meta(session: Session, scope: Scope, area_code: str) -> dict[str, Any]:
    """The area's name with its parents, for titles ('青山县 丹江镇')."""
    names = []
    code: str | None = area_code
    while code:
        area = session.get(Area, code)
        if area is None:
            break
        names.append(area.name)
        code = area.parent_code
    return {"area_code": area_code, "area_name": " ".join(reversed(names)), "username": scope.username}

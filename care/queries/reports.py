"""Reads behind the 统计报表 page: one month and one area, in the user's scope, as plain tables.

The tables go to ``care.domain.reports.compute`` (all arithmetic lives there). Areas are chosen by code
among the current areas (``valid_to`` empty) inside the user's area; persons are selected by the
prefix of their current village code, so persons moved by a re-division count where they are now.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Engine,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from care import audit
from care.domain import area_cells, areas, policy
from care.domain.errors import NotFound, ValidationError
from care.domain.reports import (
    AREA_COLUMNS,
    BOUNDARY_COLUMNS,
    ENROLLMENT_COLUMNS,
    NEED_COLUMNS,
    PERSON_COLUMNS,
    TREND_MONTHS,
    WORKER_COLUMNS,
    Month,
    MonthReport,
    ReportInputs,
    combine,
    compute,
    day_number,
    months_back,
    parse_month,
    person_id_problems,
    rate,
    trend_rates,
)
from care.permissions import require
from care.queries import bulk
from care.queries.households import NO_FIGURES, HouseholdFigures, household_figures, household_figures_by_area
from care.queries.policy import child_age_limits, phone_counts, policy_intervals
from care.queries.scoping import in_area, person_conditions
from care.queries.settings import county_of_area
from care.scope import Scope
from db.models import Area, Assignment, DisabledDetails, Enrollment, Need, Person, Visit, VisitEnrollment, Worker
from db.session import reading

T = TypeVar("T")

_AREA_KINDS = {"lat": "float", "lon": "float"}
# Enrollment text columns with few distinct values: kept as read, made categories by compute.
_ENUMS = ("group", "subtype", "risk", "exit_reason")


def _raw(column: Any) -> Any:
    """A date or time column read as the driver gives it (SQLite: text), parsed in bulk by pandas later."""
    return type_coerce(column, String)


def report_areas(session: Session, scope: Scope) -> pd.DataFrame:
    """The current areas (county, townships, villages) inside the user's area, for the area picker."""
    if scope.sees_nothing or scope.prefix is None:
        return pd.DataFrame(columns=AREA_COLUMNS)
    stmt = (
        select(Area.code, Area.name, Area.level, Area.parent_code, Area.lat, Area.lon)
        .where(in_area(Area.code, scope.prefix), Area.valid_to.is_(None))
        .order_by(Area.code)
    )
    return bulk.frame(session, stmt, AREA_COLUMNS, _AREA_KINDS)


def check_area(session: Session, scope: Scope, area_code: str | None) -> str:
    """The report's area: the user's own when none is given; refused unless current and inside scope."""
    require(scope, "report.view")
    code = area_code or scope.area_code
    if not code or not areas.is_code(code):
        raise ValidationError("report.bad_area", field="area_code", code=str(code)[:20])
    area = session.get(Area, code)
    if area is None or not scope.covers(code) or area.valid_to is not None:
        # Audited as a denied access (by whoever runs the read: the page or the command line).
        raise audit.denied(
            NotFound("report.area_not_found", code=code),
            scope=scope,
            action="report.view",
            entity="area",
            entity_id=code,
        )
    return code


def _areas_with_history(session: Session, prefix: str) -> pd.DataFrame:
    """Areas under ``prefix``, merged-away ones too (flag ``current``): a record still on an old
    code is named, but the rows of the figures by area are the current areas."""
    stmt = select(
        Area.code, Area.name, Area.level, Area.parent_code, Area.lat, Area.lon, Area.valid_to.is_(None)
    ).where(in_area(Area.code, prefix))
    return bulk.frame(session, stmt, [*AREA_COLUMNS, "current"], {**_AREA_KINDS, "current": "bool"})


def _boundaries(session: Session, area_code: str) -> pd.DataFrame:
    """The stored outlines the report's map draws: the area's own and its current areas one level
    below (a county's townships, a township's villages)."""
    stmt = select(Area.code, Area.level, Area.boundary).where(
        in_area(Area.code, areas.prefix_of(area_code)),
        Area.boundary.is_not(None),
        or_(Area.code == area_code, and_(Area.parent_code == area_code, Area.valid_to.is_(None))),
    )
    return bulk.frame(session, stmt, BOUNDARY_COLUMNS)


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
    conditions: list[ColumnElement[bool]], month: Month, county: str | None, *, visits: dict[str, Any] | None = None
) -> tuple[Any, list[str], dict[str, str]]:
    """The read of the enrollments of ``county`` listed in ``month`` or active now, with ``visits``
    (named correlated columns, see ``_visits_column``) beside them: statement, columns and their
    kinds. The county is the range of its index, whatever other counties the database holds (None:
    an area above the counties with none below it yet, so none)."""
    # A correlated EXISTS through (enrollment_id, end_date): an IN over every open assignment is
    # rescanned row by row on PostgreSQL once the assignments outgrow its hash memory (a city's).
    assigned = exists().where(Assignment.enrollment_id == Enrollment.id, Assignment.end_date.is_(None))
    certified = and_(DisabledDetails.certificate_no.is_not(None), DisabledDetails.certificate_no != "")
    visits = visits or {}
    stmt = (
        select(
            Enrollment.id,
            Enrollment.person_id,
            Enrollment.group,
            Enrollment.subtype,
            Enrollment.risk,
            bulk.day_number(Enrollment.start_date),
            bulk.day_number(Enrollment.end_date),
            Enrollment.exit_reason,
            bulk.day_number(Enrollment.next_due_on),
            bulk.day_number(Enrollment.last_visit_on),
            func.coalesce(certified, False),
            func.coalesce(DisabledDetails.rehab_needs != "", False),
            assigned,
            *visits.values(),
        )
        .outerjoin(DisabledDetails, DisabledDetails.enrollment_id == Enrollment.id)
        .where(
            Enrollment.county_code == county if county else false(),
            Enrollment.person_id.in_(_person_ids(conditions)),
            or_(
                Enrollment.end_date.is_(None),
                and_(Enrollment.start_date <= month.last, Enrollment.end_date >= month.first),
            ),
        )
    )
    kinds = {"enrollment_id": "int", "person_id": "int", "certified": "bool", "rehab_needs": "bool", "assigned": "bool"}
    # Dates as day numbers (see ``care.domain.reports._days``).
    numbers = dict.fromkeys(("start_date", "end_date", "next_due_on", "last_visit_on", *visits), "float")
    return stmt, ENROLLMENT_COLUMNS + list(visits), {**kinds, **numbers, **dict.fromkeys(_ENUMS, "raw")}


def _counted_modes(session: Session, area_code: str) -> list[str]:
    """The visit modes that count in the area's county."""
    phone = phone_counts(session, county_of_area(area_code))
    return list(policy.COUNTED_MODES_IN_PERSON) + (["phone"] if phone else [])


def _per_enrollment(session: Session) -> bool:
    """Whether the month report reads the counted visits beside each enrollment (SQLite) or as one
    read of the county's period grouped by enrollment (PostgreSQL).

    Measured on the 100,000-person demo county: SQLite takes 1.4 s per enrollment and 2.6 s per
    period (it walks each person's few visits in the per-person index cheaply; its join of a
    period's visits to their links is slow); PostgreSQL 3.2 s and 3.0 s alone, 3.7 s and 3.4 s
    as one county of a ten-county city. Both give the same figures (tested against the whole
    tables filtered in pandas, on both databases). The trends read per enrollment on both.
    """
    return session.get_bind().dialect.name == "sqlite"


def _visits_column(what: Any, start: dt.date, end: dt.date, modes: list[str]) -> Any:
    """``what`` over the enrollment's counted visits in [start, end), as a column of its row.

    Driven from the enrollment through the covering (person, visited_at, status, mode) index, so
    the database reads each person's few visits side by side instead of the whole period's
    visits in date order. A visit is the visited person's: it counts for the enrollments of that
    person it is linked to.
    """
    return (
        select(what)
        .join(
            VisitEnrollment,
            and_(VisitEnrollment.visit_id == Visit.id, VisitEnrollment.enrollment_id == Enrollment.id),
        )
        .where(
            Visit.person_id == Enrollment.person_id,
            Visit.visited_at >= dt.datetime.combine(start, dt.time()),
            Visit.visited_at < dt.datetime.combine(end, dt.time()),
            Visit.status == "done",
            Visit.mode.in_(modes),
        )
        .scalar_subquery()
    )


def _split_visits(frame: pd.DataFrame, month: Month) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The enrollments, their counted visits of the month (enrollment_id, visited_on as a day number)
    and their last counted visit before it (enrollment_id, day), from the ``days`` (one bit per day
    of the month) and ``prior`` (day number) columns."""
    ids = frame["enrollment_id"].to_numpy(dtype="int64")
    bits = frame.pop("days").fillna(0).to_numpy(dtype="int64")
    prior = frame.pop("prior").to_numpy(dtype="float64")
    first = day_number(month.first)
    offsets = range((month.last - month.first).days + 1)
    visits = pd.DataFrame(
        {
            "enrollment_id": np.concatenate([ids[(bits >> k) & 1 == 1] for k in offsets]),
            "visited_on": np.concatenate([np.full(int(((bits >> k) & 1).sum()), float(first + k)) for k in offsets]),
        }
    )
    found = ~np.isnan(prior)
    before = pd.DataFrame({"enrollment_id": ids[found], "day": prior[found]})
    return frame, visits, before


def _counted_visits(
    conditions: list[ColumnElement[bool]], area_code: str, start: dt.date, end: dt.date, modes: list[str]
) -> Any:
    """The counted visits of the area's county in [start, end), one row per enrollment each is linked
    to (a visit counts for the enrollments of the visited person it is linked to), as a statement
    whose columns the caller chooses: ``_counted_visits(...).with_only_columns(...)``.

    One range of the county's visits index (county_code, visited_at, status, mode, id) joined to one
    range of its links index (county_code, visit_id, enrollment_id), whatever other counties the
    database holds; below a county the area's persons only. Grouped by the caller, so the database reads the
    period's visits once in date order instead of once per enrollment.
    """
    county = county_of_area(area_code)
    where = [
        Visit.county_code == county,
        VisitEnrollment.county_code == county,
        Visit.visited_at >= dt.datetime.combine(start, dt.time()),
        Visit.visited_at < dt.datetime.combine(end, dt.time()),
        Visit.status == "done",
        Visit.mode.in_(modes),
    ]
    if areas.level_of(area_code) != "county":
        where.append(Visit.person_id.in_(_person_ids(conditions)))
    return select(VisitEnrollment.enrollment_id).join(Visit, Visit.id == VisitEnrollment.visit_id).where(*where)


def _month_visits(
    session: Session,
    conditions: list[ColumnElement[bool]],
    area_code: str,
    month: Month,
    since: dt.date,
    modes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The month's counted visits (enrollment_id, visited_on as a day number; one row per day) and
    each enrollment's last counted visit in [since, month start) (enrollment_id, day).

    One read of [since, month end]: grouped by enrollment and by the day when inside the month, or
    by nothing before it (its latest day then), so the county's visits and links are joined once.
    """
    day = bulk.day_number(Visit.visited_at)
    in_month = case((day >= day_number(month.first), day), else_=None)
    stmt = (
        _counted_visits(conditions, area_code, since, month.last + dt.timedelta(days=1), modes)
        .with_only_columns(VisitEnrollment.enrollment_id, in_month, func.max(day))
        .group_by(VisitEnrollment.enrollment_id, in_month)
    )
    rows = bulk.frame(
        session,
        stmt,
        ["enrollment_id", "in_month", "day"],
        {"enrollment_id": "int", "in_month": "float", "day": "float"},
    )
    earlier = rows["in_month"].isna()
    visits = pd.DataFrame(
        {"enrollment_id": rows.loc[~earlier, "enrollment_id"], "visited_on": rows.loc[~earlier, "day"]}
    )
    prior = rows.loc[earlier, ["enrollment_id", "day"]]
    return visits.reset_index(drop=True), prior.reset_index(drop=True)


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
    return bulk.frame(session, stmt, PERSON_COLUMNS, {"person_id": "int", "lat": "float", "lon": "float"})


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
    return bulk.frame(session, stmt, NEED_COLUMNS, {"need_id": "int", "person_id": "int"})


def _workers(session: Session, prefix: str, county: str | None) -> pd.DataFrame:
    # Counted from the county's active enrollments (a small covering index) rather than per worker.
    active = select(Enrollment.id).where(Enrollment.county_code == county, Enrollment.end_date.is_(None))
    caseload = (
        select(Assignment.worker_id, func.count().label("caseload"))
        .where(Assignment.end_date.is_(None), Assignment.enrollment_id.in_(active))
        .group_by(Assignment.worker_id)
        .subquery()
    )
    stmt = (
        select(Worker.id, Worker.name, Worker.kind, Worker.area_code, func.coalesce(caseload.c.caseload, 0))
        .outerjoin(caseload, caseload.c.worker_id == Worker.id)
        .where(in_area(Worker.area_code, prefix), Worker.active.is_(True))
    )
    return bulk.frame(session, stmt, WORKER_COLUMNS, {"worker_id": "int", "caseload": "int"})


def report_inputs(session: Session, scope: Scope, *, month: Month, area_code: str, today: dt.date) -> ReportInputs:
    """The plain tables of one month and area (area already checked by ``check_area``)."""
    prefix = areas.prefix_of(area_code)
    conditions = _persons(scope, prefix)
    intervals = policy_intervals(session, county_of_area(area_code))
    modes = _counted_modes(session, area_code)
    # A visit older than the longest interval cannot keep anything on time (see reports.on_time).
    since = month.first - dt.timedelta(days=max(intervals.values()) + 1)
    per_enrollment = _per_enrollment(session)
    # Enrollments starting inside the month get a prior visit too; their own start is later, so it
    # never matters (see reports.on_time).
    if per_enrollment:
        following = month.last + dt.timedelta(days=1)
        # Bit k set: a counted visit on the month's day k + 1 (DISTINCT: two visits that day are one).
        day_bit = literal(1).op("<<")(bulk.day_number(Visit.visited_at) - day_number(month.first))
        visits = {
            "days": _visits_column(func.sum(day_bit.distinct()), month.first, following, modes),
            "prior": _visits_column(bulk.day_number(func.max(Visit.visited_at)), since, month.first, modes),
        }
        pending = bulk.read_beside(session, *_enrollments(conditions, month, county_of_area(area_code), visits=visits))
    else:
        pending = bulk.read_beside(session, *_enrollments(conditions, month, county_of_area(area_code)))
        month_visits, prior = _month_visits(session, conditions, area_code, month, since, modes)
    persons = _people(session, conditions)
    # Checked here, while the database is still busy with the enrollments (see compute's _quality).
    persons["id_problem"] = person_id_problems(persons)
    needs = _needs(session, conditions)
    workers = _workers(session, prefix, county_of_area(area_code))
    area_rows = _areas_with_history(session, prefix)
    boundaries = _boundaries(session, area_code)
    if per_enrollment:
        enrollments, month_visits, prior = _split_visits(pending.result(), month)
    else:
        enrollments = pending.result()
    return ReportInputs(
        month=month,
        today=today,
        area_code=area_code,
        enrollments=enrollments,
        persons=persons,
        visits=month_visits,
        needs=needs,
        workers=workers,
        areas=area_rows,
        intervals=intervals,
        phone_counts="phone" in modes,
        prior=prior,
        child_age_limits=child_age_limits(session, county_of_area(area_code)),
        boundaries=boundaries,
    )


def month_report(session: Session, scope: Scope, *, month: str, area_code: str | None, today: dt.date) -> MonthReport:
    """Every figure and list of one month for one area in the user's scope."""
    code = check_area(session, scope, area_code)
    chosen = parse_month(month, today=today)
    return _area_report(session, scope, chosen, code, today)


def parts_of(session: Session, area_code: str) -> list[tuple[str, str]]:
    """The current areas directly below a city or a province (its counties, its cities): (code, name)."""
    level = areas.LEVEL_BELOW[areas.level_of(area_code)]
    stmt = select(Area.code, Area.name).where(
        in_area(Area.code, areas.prefix_of(area_code)), Area.level == level, Area.valid_to.is_(None)
    )
    return [(code, name) for code, name in session.execute(stmt.order_by(Area.code))]


# Parts of a city or province read at once, each on its own connection: the database works on one
# county's reads while this process computes another's figures (see ``_each_part``).
PARTS_AT_ONCE = 2


def _each_part(session: Session, codes: list[str], read: Callable[[Session, str], T]) -> list[T]:
    """``read(part_session, code)`` for each county (or city) below a city or province, in order.

    On PostgreSQL ``PARTS_AT_ONCE`` parts are read at a time, each in its own read-only session: a
    county's report is mostly waiting for the database, so two overlap. Each part is one county's
    own consistent read; two parts may be read a moment apart, as two officials' reports would be.
    SQLite reads them one after the other in the caller's session (one file, one reader's snapshot).
    """
    engine = session.get_bind()
    if not isinstance(engine, Engine) or engine.dialect.name == "sqlite" or len(codes) < 2:
        return [read(session, code) for code in codes]

    def one(code: str) -> T:
        with reading(engine) as part:
            return read(part, code)

    with ThreadPoolExecutor(max_workers=PARTS_AT_ONCE, thread_name_prefix="report-part") as pool:
        return list(pool.map(one, codes))


def _area_report(session: Session, scope: Scope, month: Month, code: str, today: dt.date) -> MonthReport:
    """One area's report. Above a county it is its parts' reports added up (``care.domain.reports.combine``):
    each county is read and computed with its own policy, phone setting and age limits, and its row
    is exactly its own report's total."""
    below = parts_of(session, code) if areas.above_county(code) else []
    if below:
        reports = _each_part(session, [c for c, _ in below], lambda part, c: _area_report(part, scope, month, c, today))
        parts = [(c, n, report) for (c, n), report in zip(below, reports, strict=True)]
        return combine(code, month, today, parts, _boundaries(session, code))
    # A county or below; or a city with no county on the list yet (an empty report of its area).
    with bulk.collection_paused():
        return compute(report_inputs(session, scope, month=month, area_code=code, today=today))


def trends(
    session: Session, scope: Scope, *, month: str, area_code: str | None, today: dt.date, count: int = TREND_MONTHS
) -> pd.DataFrame:
    """Monthly visit rate per group for the ``count`` months ending with ``month``."""
    code = check_area(session, scope, area_code)
    return _trends(session, scope, months_back(parse_month(month, today=today), count), code)


def _trends(session: Session, scope: Scope, months: list[Month], code: str) -> pd.DataFrame:
    """``trends`` of one area; above a county its parts' listed and visited added up, each county
    counted by its own rule for phone visits."""
    below = parts_of(session, code) if areas.above_county(code) else []
    if below:
        parts = _each_part(session, [c for c, _ in below], lambda part, c: _trends(part, scope, months, c))
        summed = pd.concat(parts).groupby(["month", "group"], sort=False)[["listed", "visited"]].sum().reset_index()
        summed["rate"] = [rate(int(v), int(n)) for v, n in zip(summed["visited"], summed["listed"], strict=True)]
        return summed
    conditions = _persons(scope, areas.prefix_of(code))
    modes = _counted_modes(session, code)
    span = Month("", months[0].first, months[-1].last)
    following = span.last + dt.timedelta(days=1)
    label = func.substr(cast(Visit.visited_at, String), 1, 7)
    # Read beside each enrollment on both databases: over twelve months this is the faster read
    # on PostgreSQL too (a county of a ten-county city: 4.3 s, against 5.8 s per period).
    # One number per enrollment: bit i set when it had a counted visit in months[i].
    bit = case({m.label: 1 << i for i, m in enumerate(months)}, value=label)
    visited = _visits_column(func.sum(bit.distinct()), span.first, following, modes)
    with bulk.collection_paused():
        enrollments = bulk.frame(
            session, *_enrollments(conditions, span, county_of_area(code), visits={"months": visited})
        )
    bits = enrollments.pop("months").fillna(0).to_numpy(dtype="int64")
    ids = enrollments["enrollment_id"].to_numpy(dtype="int64")
    counted = pd.concat(
        [
            pd.DataFrame({"enrollment_id": ids[(bits >> i) & 1 == 1], "day": float(day_number(m.first))})
            for i, m in enumerate(months)
        ],
        ignore_index=True,
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


def household_report(session: Session, scope: Scope, *, area_code: str | None, today: dt.date) -> HouseholdFigures:
    """The household figures of an area in the user's scope, as of today."""
    code = check_area(session, scope, area_code)
    return household_figures(session, scope, areas.prefix_of(code), today)


def household_table(session: Session, scope: Scope, *, area_code: str | None, today: dt.date) -> pd.DataFrame:
    """The household figures today by area one level below the chosen one (townships of a county,
    villages of a township; a village itself): area_code, area and the counts, one row per current
    area (every one, with zeros), for the workbook sheet and the PDF section."""
    code = check_area(session, scope, area_code)
    level = areas.level_of(code)

    below = areas.LEVEL_BELOW.get(level)

    def area_of(village: str) -> str:
        if below is None:
            return code
        return village[: areas.PREFIX_LENGTH[below]].ljust(12, "0")

    figures = household_figures_by_area(session, scope, areas.prefix_of(code), today, area_of)
    if level == "village":
        names = dict(session.execute(select(Area.code, Area.name).where(Area.code == code)).all())
    else:
        names = dict(
            session.execute(select(Area.code, Area.name).where(Area.parent_code == code, Area.valid_to.is_(None))).all()
        )
    codes = sorted(set(names) | set(figures))
    return household_rows({c: names.get(c, c) for c in codes}, figures)


HOUSEHOLD_COLUMNS = (
    "area_code",
    "area",
    "households_covered",
    "multi_group",
    "children",
    "children_guardian_in_care",
    "guardian_in_care_rate",
)


def household_rows(names: dict[str, str], figures: dict[str, HouseholdFigures]) -> pd.DataFrame:
    """One row per area (in the order of ``names``) of the household figures, zeros where none."""
    rows = []
    for code, name in names.items():
        f = figures.get(code, NO_FIGURES)
        rows.append(
            (
                code,
                name,
                f.households_covered,
                f.multi_group,
                f.children,
                f.children_guardian_in_care,
                float("nan") if f.guardian_in_care_share is None else f.guardian_in_care_share,
            )
        )
    return pd.DataFrame(rows, columns=list(HOUSEHOLD_COLUMNS))


def area_outlines(session: Session, scope: Scope, codes: list[str]) -> dict[str, str]:
    """The imported outlines (GeoJSON) of these areas that the user's scope reaches."""
    wanted = [c for c in codes if c and scope.covers(c)]
    if not wanted:
        return {}
    stmt = select(Area.code, Area.boundary).where(Area.code.in_(wanted), Area.boundary.is_not(None))
    return {code: boundary for code, boundary in session.execute(stmt) if boundary}


def map_outlines(session: Session, scope: Scope, codes: list[str]) -> tuple[dict[str, str], set[str]]:
    """The outlines of these areas for the report's map: the imported ones, and for the others the
    union of their villages' cells (care.domain.area_cells); with the codes drawn from cells."""
    outlines = area_outlines(session, scope, codes)
    missing = [c for c in codes if c and c not in outlines and scope.covers(c)]
    if not missing:
        return outlines, set()
    # The villages of the smallest area holding every missing one: their county, or a city's counties.
    county: str | None = areas.county_of(missing[0])
    while county is not None and not all(areas.contains(county, c) for c in missing):
        county = areas.parent_of(county)
    if county is None:
        return outlines, set()
    villages = session.execute(
        select(Area.code, Area.lat, Area.lon).where(
            in_area(Area.code, areas.prefix_of(county)),
            Area.level == "village",
            Area.valid_to.is_(None),
            Area.lat.is_not(None),
            Area.lon.is_not(None),
        )
    ).all()
    county_outline = session.scalar(select(Area.boundary).where(Area.code == county))
    points = [area_cells.VillagePoint(c, lat, lon) for c, lat, lon in villages if lat is not None and lon is not None]
    cells = area_cells.village_cells(points, county_outline)
    wanted = set(missing)
    area_of = {}  # each village's cell goes to the area asked for: the village, its township or county
    for village in cells:
        for owner in (village, areas.township_of(village), areas.county_of(village)):
            if owner in wanted:
                area_of[village] = owner
    drawn = area_cells.area_cells(cells, area_of)
    return {**outlines, **drawn}, set(drawn)


# Days since an active enrollment's last counted visit, in the buckets the report shows.
VISIT_AGE_BUCKETS = ((0, 30), (31, 60), (61, 90), (91, 180), (181, None))


def days_since_visit(session: Session, scope: Scope, *, area_code: str | None, today: dt.date) -> pd.DataFrame:
    """Active enrollments of the area by days since their last visit (bucket, group, enrollments),
    ``never`` for those never visited; every bucket and group listed, zeros included."""
    code = check_area(session, scope, area_code)
    stmt = (
        select(Enrollment.group, Enrollment.last_visit_on)
        .join(Person, Person.id == Enrollment.person_id)
        .where(
            Enrollment.end_date.is_(None),
            Person.status == "active",
            *person_conditions(scope),
            in_area(Person.village_code, areas.prefix_of(code)),
        )
    )
    counts: dict[tuple[str, str], int] = {}
    for group, last in session.execute(stmt):
        key = (_visit_bucket(None if last is None else (today - last).days), group)
        counts[key] = counts.get(key, 0) + 1
    buckets = [_bucket_name(low, high) for low, high in VISIT_AGE_BUCKETS] + ["never"]
    rows = [(b, g, counts.get((b, g), 0)) for b in buckets for g in ("child", "elderly", "disabled")]
    return pd.DataFrame(rows, columns=["bucket", "group", "enrollments"])


def _bucket_name(low: int, high: int | None) -> str:
    return f"{low}-{high}" if high is not None else f"{low}+"


def _visit_bucket(days: int | None) -> str:
    if days is None:
        return "never"
    for low, high in VISIT_AGE_BUCKETS:
        if days >= low and (high is None or days <= high):
            return _bucket_name(low, high)
    return _bucket_name(*VISIT_AGE_BUCKETS[0])  # a visit dated after today counts as recent

"""Keeping each active enrollment's last counted visit, risk and next due date current."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Date,
    String,
    Table,
    bindparam,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.orm import Session, selectinload

from care import audit_anchor
from care.domain import clock, ids, policy, rules
from care.domain.enums import ADULT_AGE, FRAIL_GUARDIAN_AGE
from care.domain.facts import facts_of
from care.queries.households import LARGE_SELECTION, current_household_ids, family_of, member_ids
from care.queries.policy import county_intervals, phone_counts
from care.queries.settings import counties
from db.models import Enrollment, Person, RiskChange, Setting, Visit, VisitEnrollment, VisitPolicy

_CHUNK = 900  # stays under SQLite's bound-parameter limit


def ensure_default_policy(session: Session, *, county_code: str) -> None:
    """Insert the default intervals (care.domain.policy) for a county where none are set yet."""
    have = {
        (g, r)
        for g, r in session.execute(
            select(VisitPolicy.group, VisitPolicy.risk).where(VisitPolicy.county_code == county_code)
        )
    }
    for (group, risk), days in policy.DEFAULT_INTERVALS.items():
        if (group, risk) not in have:
            session.add(VisitPolicy(county_code=county_code, group=group, risk=risk, interval_days=days))
    session.flush()


def _chunks(values: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def last_counted_visits(
    session: Session, enrollment_ids: list[int] | None, *, county_code: str, phone: bool | None = None
) -> dict[int, dt.date]:
    """Enrollment → day of its last counted visit, for enrollments of one county (all of its
    enrollments when ``enrollment_ids`` is None); ``phone``: whether phone visits count (None: the
    county's setting)."""
    phone = phone_counts(session, county_code) if phone is None else phone
    modes = list(policy.COUNTED_MODES_IN_PERSON) + (["phone"] if phone else [])
    stmt = (
        select(VisitEnrollment.enrollment_id, func.max(Visit.visited_at))
        .join(Visit, Visit.id == VisitEnrollment.visit_id)
        .where(Visit.county_code == county_code, Visit.status == "done", Visit.mode.in_(modes))
        .group_by(VisitEnrollment.enrollment_id)
    )
    found: dict[int, dt.date] = {}
    batches = [None] if enrollment_ids is None else list(_chunks(enrollment_ids))
    for batch in batches:
        # The whole county: its range of the links' county index. Some enrollments: their links by
        # enrollment (the county range would make the planner read every link of the county for one).
        part = (
            stmt.where(VisitEnrollment.county_code == county_code)
            if batch is None
            else stmt.where(VisitEnrollment.enrollment_id.in_(batch))
        )
        for enrollment_id, visited_at in session.execute(part):
            if visited_at is not None:
                found[enrollment_id] = visited_at.date() if isinstance(visited_at, dt.datetime) else visited_at
    return found


def refresh_due_dates(
    session: Session,
    *,
    enrollment_ids: list[int] | None = None,
    county_code: str | None = None,
    recount: bool = True,
) -> int:
    """Recompute next due dates of active enrollments, each by its county's policy: these ids, or
    every one of ``county_code`` (of every county when both are None); returns how many changed.

    ``recount`` first finds each enrollment's last counted visit again from the visits (needed
    after a visit or when phone visits start or stop counting); without it the stored last
    visit is used, which is all an interval or risk change needs.
    """
    if enrollment_ids is None:
        codes = [county_code] if county_code is not None else counties(session)
        intervals = county_intervals(session, codes)
        if not recount:
            return sum(_shift_all(session, code, intervals[code]) for code in codes)
        return sum(_refresh(session, code, None, intervals[code], recount=True) for code in codes)
    by_county: dict[str, list[int]] = {}
    for batch in _chunks(enrollment_ids):
        for eid, code in session.execute(select(Enrollment.id, Enrollment.county_code).where(Enrollment.id.in_(batch))):
            by_county.setdefault(code, []).append(eid)
    intervals = county_intervals(session, list(by_county))
    return sum(_refresh(session, code, ids_, intervals[code], recount=recount) for code, ids_ in by_county.items())


def _refresh(
    session: Session,
    county_code: str,
    enrollment_ids: list[int] | None,
    intervals: dict[tuple[str, str], int],
    *,
    recount: bool,
) -> int:
    """``refresh_due_dates`` for one county's enrollments (all of them when ids is None)."""
    last = last_counted_visits(session, enrollment_ids, county_code=county_code) if recount else None
    stmt = select(
        Enrollment.id,
        Enrollment.group,
        Enrollment.risk,
        Enrollment.start_date,
        Enrollment.last_visit_on,
        Enrollment.next_due_on,
    ).where(Enrollment.county_code == county_code, Enrollment.end_date.is_(None))
    rows: list[Any] = []
    batches = [None] if enrollment_ids is None else list(_chunks(enrollment_ids))
    for batch in batches:
        part = stmt if batch is None else stmt.where(Enrollment.id.in_(batch))
        rows.extend(session.execute(part).all())
    params = []
    for eid, group, risk, start, stored_last, stored_due in rows:
        last_on = last.get(eid) if last is not None else stored_last
        due = policy.next_due(start, last_on, intervals[(group, risk)])
        if due != stored_due or last_on != stored_last:
            params.append({"eid": eid, "last": last_on, "due": due})
    if params:
        table = cast(Table, Enrollment.__table__)
        # Core executemany: one statement, many parameter sets (not per-row ORM updates).
        session.execute(
            update(table)
            .where(table.c.id == bindparam("eid"))
            .values(last_visit_on=bindparam("last"), next_due_on=bindparam("due")),
            params,
        )
    return len(params)


def due_date_sql(dialect: str, intervals: dict[tuple[str, str], int]) -> ColumnElement[Any]:
    """``policy.next_due`` as one SQL expression over the enrollments row (stored last visit)."""
    days = case(
        *[((Enrollment.group == g) & (Enrollment.risk == r), n) for (g, r), n in sorted(intervals.items())],
        else_=None,
    )
    start = Enrollment.start_date
    last = func.coalesce(Enrollment.last_visit_on, start)
    if dialect == "sqlite":
        offset = literal("+") + cast_(days, String) + literal(" days")
        return func.date(func.max(last, start), offset, type_=Date)
    return cast_(func.greatest(last, start) + days, Date)


def _shift_all(session: Session, county_code: str, intervals: dict[tuple[str, str], int]) -> int:
    """Every active due date of a county from the stored last visit, in one UPDATE; returns how many moved."""
    due = due_date_sql(session.get_bind().dialect.name, intervals)
    result = session.execute(
        update(Enrollment)
        .where(
            Enrollment.county_code == county_code,
            Enrollment.end_date.is_(None),
            Enrollment.next_due_on.is_distinct_from(due),
        )
        .values(next_due_on=due)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# Ages at which a risk rule changes its answer: under 6, out of school below the school-leaving
# age, 80 and over. A child's age limit changes no risk: the exit at the limit is recorded by staff
# from the home page's age-out list (care.queries.home.age_out_list).
# A household member turning 18 or 70 changes the family rules of the others.
RISK_AGE_THRESHOLDS = (6, rules.SCHOOL_LEAVING_AGE, 80, ADULT_AGE, FRAIL_GUARDIAN_AGE)
SETTING_RISKS_REFRESHED = "risk.refreshed_on"


def record_risk_changes(
    session: Session, changes: Iterable[tuple[int, int, str | None, str]], *, cause: str, day: dt.date
) -> None:
    """Keep (enrollment, person, old level, new level) changes for the person file's timeline."""
    now = clock.now()
    rows = [
        {"enrollment_id": eid, "person_id": pid, "day": day, "old": old, "new": new, "cause": cause, "created_at": now}
        for eid, pid, old, new in changes
        if old != new
    ]
    if rows:
        session.execute(insert(RiskChange), rows)


def refresh_risks(
    session: Session,
    *,
    today: dt.date | None = None,
    since: dt.date | None = None,
    person_ids: Collection[int] | None = None,
) -> list[int]:
    """Recompute the rule-based risk of active enrollments; returns the ids whose level changed.

    With ``since``, only persons who crossed an age threshold after that day, and the members of
    their households, are looked at (a daily run touches a handful of rows instead of the whole
    county); with ``person_ids``, only these persons.
    """
    today = today or clock.today()
    if since is not None:
        crossed = [
            Person.birth_date.between(
                rules.years_before(since, age) + dt.timedelta(days=1), rules.years_before(today, age)
            )
            for age in RISK_AGE_THRESHOLDS
        ]
        found = set(session.scalars(select(Person.id).where(or_(*crossed))))
        found |= set(member_ids(session, current_household_ids(session, found)))
        person_ids = found if person_ids is None else found & set(person_ids)
    stmt = (
        select(Enrollment, Person.birth_date)
        .join(Person, Person.id == Enrollment.person_id)
        .where(Enrollment.end_date.is_(None))
        .options(selectinload(Enrollment.child), selectinload(Enrollment.elderly), selectinload(Enrollment.disabled))
    )
    if person_ids is not None:
        if not person_ids:
            return []
        if len(person_ids) <= LARGE_SELECTION:
            stmt = stmt.where(Enrollment.person_id.in_(list(person_ids)))
    wanted = None if person_ids is None else set(person_ids)
    rows = [(e, birth) for e, birth in session.execute(stmt) if wanted is None or e.person_id in wanted]
    family = family_of(session, wanted, today)
    changed: list[int] = []
    moves: list[tuple[int, int, str | None, str]] = []
    for enrollment, birth_date in rows:
        result = rules.compute_risk(
            enrollment.group,
            enrollment.subtype,
            facts_of(enrollment),
            ids.age_on(birth_date, today),
            family.get(enrollment.person_id, rules.NO_FAMILY),
        )
        if result.level != enrollment.risk_auto:
            before = enrollment.risk
            enrollment.risk_auto = result.level
            enrollment.risk = rules.effective_risk(result.level, enrollment.risk_override)
            changed.append(enrollment.id)
            moves.append((enrollment.id, enrollment.person_id, before, enrollment.risk))
    session.flush()
    record_risk_changes(session, moves, cause="rules", day=today)
    if changed:
        refresh_due_dates(session, enrollment_ids=changed)
    return changed


def daily_upkeep(session: Session, *, today: dt.date | None = None) -> list[int]:
    """Once a day: risks of persons who had a threshold birthday since the last run."""
    today = today or clock.today()
    row = session.get(Setting, SETTING_RISKS_REFRESHED)
    last = dt.date.fromisoformat(row.value) if row is not None else None
    if last is not None and last >= today:
        return []
    changed = refresh_risks(session, today=today, since=last)
    audit_anchor.write_checkpoint(session, reason="daily")
    if row is None:
        session.add(Setting(key=SETTING_RISKS_REFRESHED, value=today.isoformat()))
    else:
        row.value = today.isoformat()
    session.flush()
    return changed

"""Keeping each active enrollment's last counted visit, risk and next due date current."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, selectinload

from care import clock, ids, policy, rules
from care.services.facts import facts_of
from db.models import Enrollment, Person, Setting, Visit, VisitEnrollment, VisitPolicy

_CHUNK = 900  # stays under SQLite's bound-parameter limit


def ensure_default_policy(session: Session, *, county_code: str) -> None:
    """Insert DESIGN's default intervals for a county where none are set yet."""
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


def policy_intervals(session: Session) -> dict[tuple[str, str], int]:
    """Interval days by (group, risk); the defaults fill anything the table lacks."""
    intervals = dict(policy.DEFAULT_INTERVALS)
    for group, risk, days in session.execute(select(VisitPolicy.group, VisitPolicy.risk, VisitPolicy.interval_days)):
        intervals[(group, risk)] = days
    return intervals


def phone_counts(session: Session) -> bool:
    """Whether phone or video visits reset the clock (a county setting)."""
    value = session.get(Setting, policy.SETTING_PHONE_COUNTS)
    return policy.DEFAULT_PHONE_COUNTS if value is None else value.value == "1"


def _chunks(values: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _last_counted_visits(session: Session, enrollment_ids: list[int] | None) -> dict[int, dt.date]:
    modes = list(policy.COUNTED_MODES_IN_PERSON) + (["phone"] if phone_counts(session) else [])
    stmt = (
        select(VisitEnrollment.enrollment_id, func.max(Visit.visited_at))
        .join(Visit, Visit.id == VisitEnrollment.visit_id)
        .where(Visit.status == "done", Visit.mode.in_(modes))
        .group_by(VisitEnrollment.enrollment_id)
    )
    found: dict[int, dt.date] = {}
    batches = [None] if enrollment_ids is None else list(_chunks(enrollment_ids))
    for batch in batches:
        part = stmt if batch is None else stmt.where(VisitEnrollment.enrollment_id.in_(batch))
        for enrollment_id, visited_at in session.execute(part):
            if visited_at is not None:
                found[enrollment_id] = visited_at.date() if isinstance(visited_at, dt.datetime) else visited_at
    return found


def refresh_due_dates(session: Session, *, enrollment_ids: list[int] | None = None) -> int:
    """Recompute last counted visit and next due date (all active enrollments when ids is None)."""
    intervals = policy_intervals(session)
    last = _last_counted_visits(session, enrollment_ids)
    stmt = select(Enrollment.id, Enrollment.group, Enrollment.risk, Enrollment.start_date).where(
        Enrollment.end_date.is_(None)
    )
    rows = []
    batches = [None] if enrollment_ids is None else list(_chunks(enrollment_ids))
    for batch in batches:
        part = stmt if batch is None else stmt.where(Enrollment.id.in_(batch))
        rows.extend(session.execute(part).all())
    params = [
        {
            "eid": eid,
            "last": last.get(eid),
            "due": policy.next_due(start, last.get(eid), intervals[(group, risk)]),
        }
        for eid, group, risk, start in rows
    ]
    if params:
        table = Enrollment.__table__
        # Core executemany: one statement, many parameter sets (not per-row ORM updates).
        session.execute(
            update(table)
            .where(table.c.id == bindparam("eid"))
            .values(last_visit_on=bindparam("last"), next_due_on=bindparam("due")),
            params,
        )
    return len(params)


def refresh_risks(session: Session, *, today: dt.date | None = None) -> list[int]:
    """Recompute the rule-based risk of every active enrollment (ages change); returns changed ids."""
    today = today or clock.today()
    changed: list[int] = []
    stmt = (
        select(Enrollment, Person.birth_date)
        .join(Person, Person.id == Enrollment.person_id)
        .where(Enrollment.end_date.is_(None))
        .options(selectinload(Enrollment.child), selectinload(Enrollment.elderly), selectinload(Enrollment.disabled))
    )
    for enrollment, birth_date in session.execute(stmt):
        result = rules.compute_risk(
            enrollment.group, enrollment.subtype, facts_of(enrollment), ids.age_on(birth_date, today)
        )
        if result.level != enrollment.risk_auto:
            enrollment.risk_auto = result.level
            enrollment.risk = rules.effective_risk(result.level, enrollment.risk_override)
            changed.append(enrollment.id)
    session.flush()
    if changed:
        refresh_due_dates(session, enrollment_ids=changed)
    return changed

"""The home page's figures: who is on the registers in the user's scope and what needs attention."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session

from care import enums, ids, policy
from care.queries.scoping import person_conditions
from care.scope import Scope
from db.models import Area, Assignment, Enrollment, Person


@dataclass(frozen=True)
class HomeSummary:
    """Counts for the user's scope; ``by_group`` rows are group, enrolled, high risk, overdue."""

    persons: int
    by_group: pd.DataFrame
    overdue: int
    due_soon: int
    high_risk: int
    unassigned: int
    never_visited: int


def _current_assignment() -> object:
    return exists(select(Assignment.id).where(Assignment.enrollment_id == Enrollment.id, Assignment.end_date.is_(None)))


def home_summary(session: Session, scope: Scope, today: dt.date) -> HomeSummary:
    """Register counts and alerts over the active enrollments the user may see."""
    where = person_conditions(scope)
    persons = session.scalar(select(func.count()).select_from(Person).where(*where, Person.status == "active")) or 0
    soon = today + dt.timedelta(days=policy.DUE_SOON_DAYS)
    stmt = (
        select(
            Enrollment.group,
            func.count(),
            func.sum(case((Enrollment.risk == "high", 1), else_=0)),
            func.sum(case((Enrollment.next_due_on < today, 1), else_=0)),
            func.sum(case(((Enrollment.next_due_on >= today) & (Enrollment.next_due_on <= soon), 1), else_=0)),
            func.sum(case((_current_assignment(), 0), else_=1)),  # type: ignore[arg-type]
            func.sum(case((Enrollment.last_visit_on.is_(None), 1), else_=0)),
        )
        .join(Person, Person.id == Enrollment.person_id)
        .where(*where, Enrollment.end_date.is_(None))
        .group_by(Enrollment.group)
    )
    rows = {group: [int(v or 0) for v in values] for group, *values in session.execute(stmt)}
    table = pd.DataFrame(
        [[g, *rows.get(g, [0] * 6)[:3]] for g in enums.GROUPS], columns=["group", "enrolled", "high_risk", "overdue"]
    )
    totals = [sum(r[i] for r in rows.values()) for i in range(6)]
    return HomeSummary(
        persons=int(persons),
        by_group=table,
        overdue=totals[2],
        due_soon=totals[3],
        high_risk=totals[1],
        unassigned=totals[4],
        never_visited=totals[5],
    )


def age_out_list(session: Session, scope: Scope, today: dt.date, within_days: int = 90) -> pd.DataFrame:
    """Children enrolled now who are 16 already or turn 16 within ``within_days`` (动态调整 due)."""
    horizon = today + dt.timedelta(days=within_days)
    # Born on or before this day = 16 by the horizon (29 February counts from 1 March).
    cutoff = _years_before(horizon, enums.CHILD_AGE_LIMIT)
    stmt = (
        select(Person.id, Person.name, Person.birth_date, Area.name, Enrollment.id, Enrollment.version)
        .join(Enrollment, Enrollment.person_id == Person.id)
        .join(Area, Area.code == Person.village_code)
        .where(
            *person_conditions(scope),
            Enrollment.group == "child",
            Enrollment.end_date.is_(None),
            Person.birth_date <= cutoff,
        )
        .order_by(Person.birth_date)
    )
    records = []
    for pid, name, birth, village, eid, version in session.execute(stmt):
        turns = _sixteenth_birthday(birth)
        records.append(
            {
                "person_id": pid,
                "name": name,
                "village": village,
                "age": ids.age_on(birth, today),
                "turns_16_on": turns,
                "enrollment_id": eid,
                "version": version,
            }
        )
    return pd.DataFrame(
        records, columns=["person_id", "name", "village", "age", "turns_16_on", "enrollment_id", "version"]
    )


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return dt.date(day.year - years, 2, 28)


def _sixteenth_birthday(birth: dt.date) -> dt.date:
    try:
        return birth.replace(year=birth.year + enums.CHILD_AGE_LIMIT)
    except ValueError:  # born on 29 February
        return dt.date(birth.year + enums.CHILD_AGE_LIMIT, 3, 1)

"""The home page's figures: who is on the registers in the user's scope and what needs attention."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import case, distinct, exists, func, or_, select
from sqlalchemy.orm import Session

from care import enums, ids, policy, rules
from care.queries.scoping import person_conditions
from care.scope import Scope
from care.services.age_limits import child_age_limits
from db.models import Area, Assignment, Enrollment, Person


@dataclass(frozen=True)
class HomeSummary:
    """Counts for the user's scope; ``by_group`` rows are group, enrolled, high risk, overdue."""

    persons: int  # with at least one active enrollment, each once
    by_group: pd.DataFrame
    overdue: int  # enrollments; ``overdue_persons`` counts the persons behind them
    due_soon: int
    high_risk: int
    unassigned: int
    never_visited: int
    overdue_persons: int = 0


def _current_assignment() -> object:
    return exists(select(Assignment.id).where(Assignment.enrollment_id == Enrollment.id, Assignment.end_date.is_(None)))


def home_summary(session: Session, scope: Scope, today: dt.date) -> HomeSummary:
    """Register counts and alerts over the active enrollments the user may see."""
    where = person_conditions(scope)
    active = (
        select(func.count(distinct(Person.id)))
        .join(Enrollment, Enrollment.person_id == Person.id)
        .where(*where, Enrollment.end_date.is_(None))
    )
    persons = session.scalar(active) or 0
    overdue_persons = session.scalar(active.where(Enrollment.next_due_on < today)) or 0
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
        overdue_persons=int(overdue_persons),
    )


AGE_OUT_COLUMNS = ["person_id", "name", "village", "subtype", "age", "limit", "ages_out_on", "enrollment_id", "version"]


def age_out_list(session: Session, scope: Scope, today: dt.date, within_days: int = 90) -> pd.DataFrame:
    """Children enrolled now who are at their sub-type's age limit already or reach it within
    ``within_days`` (动态调整 due); each enrollment ages out at its own sub-type's limit."""
    horizon = today + dt.timedelta(days=within_days)
    limits = child_age_limits(session)
    # Born on or before the cutoff = at the limit by the horizon (29 February counts from 1 March).
    reaching = or_(
        *[
            (Enrollment.subtype == subtype) & (Person.birth_date <= rules.latest_birth_at_age(horizon, limit))
            for subtype, limit in sorted(limits.items())
        ]
    )
    stmt = (
        select(
            Person.id, Person.name, Person.birth_date, Area.name, Enrollment.id, Enrollment.subtype, Enrollment.version
        )
        .join(Enrollment, Enrollment.person_id == Person.id)
        .join(Area, Area.code == Person.village_code)
        .where(*person_conditions(scope), Enrollment.group == "child", Enrollment.end_date.is_(None), reaching)
    )
    records = []
    for pid, name, birth, village, eid, subtype, version in session.execute(stmt):
        limit = rules.child_age_limit(subtype, limits)
        records.append(
            {
                "person_id": pid,
                "name": name,
                "village": village,
                "subtype": subtype,
                "age": ids.age_on(birth, today),
                "limit": limit,
                "ages_out_on": rules.reaches_age_on(birth, limit),
                "enrollment_id": eid,
                "version": version,
            }
        )
    frame = pd.DataFrame(records, columns=AGE_OUT_COLUMNS)
    return frame.sort_values(["ages_out_on", "person_id"], ignore_index=True)

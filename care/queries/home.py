"""The home page's figures: who is on the registers in the user's scope and what needs attention."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session

from care.domain import areas, enums, ids, policy, rules
from care.queries.needs import needs_list, open_needs
from care.queries.plans import service_alerts
from care.queries.policy import child_age_limits
from care.queries.registers import WORKLISTS, worklist_conditions
from care.queries.scoping import in_area, person_conditions
from care.queries.settings import scope_county
from care.queries.visits import MyWeek, my_week
from care.scope import Scope
from db.models import Area, Enrollment, Person

# The figures of one pass over the active enrollments, in their order: per group the enrollments,
# those of high risk and those overdue; then enrollments due soon, unassigned, never visited,
# visited this month, of high risk not visited this month; then persons, and persons on each worklist.
PASS = (
    *[f"{g}.{f}" for g in enums.GROUPS for f in ("enrolled", "high_risk", "overdue")],
    "due_soon",
    "unassigned",
    "never_visited",
    "visited_this_month",
    "high_risk_unvisited",
    "persons",
    *[f"list.{name}" for name in WORKLISTS],
)
# What the areas below the user's are ranked by, worst first: overdue now, then high risk not visited.
SHORTFALLS = ("overdue", "high_risk_unvisited", "unassigned", "not_visited_this_month")
# The open needs the home page lists, longest waiting first.
NEEDS_SHOWN = 5
# How long a code's prefix is one level down: province → city → county → township → village.
NEXT_PREFIX = {2: 4, 4: 6, 6: 9, 9: 12}


@dataclass(frozen=True)
class AreaFigures:
    """One area's figures as the home page ranks them (enrollments, except ``persons``)."""

    code: str
    name: str
    persons: int
    enrolled: int
    visited_this_month: int
    overdue: int
    high_risk_unvisited: int
    unassigned: int

    @property
    def not_visited_this_month(self) -> int:
        return self.enrolled - self.visited_this_month


@dataclass(frozen=True)
class HomeSummary:
    """Counts for the user's scope; ``by_group`` rows are group, enrolled, high risk, overdue;
    ``worklist`` the persons on each register worklist; ``areas`` the areas one level below the
    user's (townships of a county, villages of a township), worst first (empty for a coordinator)."""

    persons: int  # with at least one active enrollment, each once
    by_group: pd.DataFrame
    overdue: int  # enrollments; ``overdue_persons`` counts the persons behind them
    due_soon: int
    high_risk: int
    unassigned: int
    never_visited: int
    overdue_persons: int = 0
    worklist: dict[str, int] = field(default_factory=dict)
    areas: list[AreaFigures] = field(default_factory=list)


def _one_pass(session: Session, scope: Scope, today: dt.date, prefix: str | None) -> list[int]:
    """One pass over the active enrollments of the persons in scope (and inside ``prefix``): PASS
    in order. The worklists are counted by their own conditions, so the counts are the register's.
    The persons are picked first, by the index on their village, and their enrollments then by
    theirs: joining the persons to every active enrollment costs twice as much."""
    where = person_conditions(scope)
    if prefix is not None:
        where.append(in_area(Person.village_code, prefix))
    soon = today + dt.timedelta(days=policy.DUE_SOON_DAYS)
    lists = {name: and_(*worklist_conditions(name, today)) for name in WORKLISTS}
    figures = {
        "due_soon": and_(Enrollment.next_due_on >= today, Enrollment.next_due_on <= soon),
        "unassigned": lists["unassigned"],
        "never_visited": lists["never_visited"],
        "visited_this_month": Enrollment.last_visit_on >= today.replace(day=1),
        "high_risk_unvisited": lists["high_risk_unvisited"],
    }
    columns: list[Any] = []
    for group in enums.GROUPS:
        mine = Enrollment.group == group
        columns.append(func.sum(case((mine, 1), else_=0)))
        columns.append(func.sum(case((and_(mine, Enrollment.risk == "high"), 1), else_=0)))
        columns.append(func.sum(case((and_(mine, lists["overdue"]), 1), else_=0)))
    columns += [func.sum(case((flag, 1), else_=0)) for flag in figures.values()]
    columns.append(func.count(distinct(Enrollment.person_id)))
    columns += [func.count(distinct(case((flag, Enrollment.person_id)))) for flag in lists.values()]
    stmt = select(*columns).where(
        Enrollment.end_date.is_(None), Enrollment.person_id.in_(select(Person.id).where(*where))
    )
    return [int(v or 0) for v in session.execute(stmt).one()]


def _below(session: Session, scope: Scope) -> list[tuple[str, str]]:
    """The areas one level below the user's that hold persons in scope: (prefix, name).

    Above a county they are the counties (or cities) on the area list, each checked for persons
    by its own range of the village index: finding them from the persons' codes would read every
    person of the city."""
    if scope.assigned_only or scope.prefix is None or len(scope.prefix) not in NEXT_PREFIX:
        return []
    size = NEXT_PREFIX[len(scope.prefix)]
    if size <= len("000000"):
        level = areas.LEVEL_BELOW[areas.level_of(scope.area_code or "")]
        listed = session.execute(
            select(Area.code, Area.name)
            .where(in_area(Area.code, scope.prefix), Area.level == level, Area.valid_to.is_(None))
            .order_by(Area.code)
        ).all()
        found = [(code[:size], name) for code, name in listed]
        return [(p, n) for p, n in found if _holds_persons(session, scope, p)]
    part = func.substr(Person.village_code, 1, size)
    prefixes = list(session.scalars(select(part).where(*person_conditions(scope)).distinct().order_by(part)))
    codes = [(p + "0" * 12)[:12] for p in prefixes]
    names = dict(session.execute(select(Area.code, Area.name).where(Area.code.in_(codes))).all())
    return [(p, names.get(c, c)) for p, c in zip(prefixes, codes, strict=True)]


def _holds_persons(session: Session, scope: Scope, prefix: str) -> bool:
    stmt = select(Person.id).where(*person_conditions(scope), in_area(Person.village_code, prefix)).limit(1)
    return session.scalar(stmt) is not None


def home_summary(session: Session, scope: Scope, today: dt.date) -> HomeSummary:
    """Register counts, alerts and the worklist over the active enrollments the user may see, with
    the same figures for each area below the user's. The areas do not overlap (a person lives in
    one village), so the user's figures are their sums, persons included."""
    below = _below(session, scope)
    passes = [_one_pass(session, scope, today, prefix) for prefix, _ in below]
    totals = [sum(column) for column in zip(*passes, strict=True)] if below else _one_pass(session, scope, today, None)
    figures = dict(zip(PASS, totals, strict=True))
    table = pd.DataFrame(
        [[g, figures[f"{g}.enrolled"], figures[f"{g}.high_risk"], figures[f"{g}.overdue"]] for g in enums.GROUPS],
        columns=["group", "enrolled", "high_risk", "overdue"],
    )
    ranked = []
    for (prefix, name), values in zip(below, passes, strict=True):
        area = dict(zip(PASS, values, strict=True))
        ranked.append(
            AreaFigures(
                code=(prefix + "0" * 12)[:12],
                name=name,
                persons=area["persons"],
                enrolled=sum(area[f"{g}.enrolled"] for g in enums.GROUPS),
                visited_this_month=area["visited_this_month"],
                overdue=sum(area[f"{g}.overdue"] for g in enums.GROUPS),
                high_risk_unvisited=area["high_risk_unvisited"],
                unassigned=area["unassigned"],
            )
        )
    ranked.sort(key=lambda a: (*(-getattr(a, f) for f in SHORTFALLS), a.code))
    return HomeSummary(
        persons=figures["persons"],
        by_group=table,
        overdue=int(table["overdue"].sum()),
        due_soon=figures["due_soon"],
        high_risk=int(table["high_risk"].sum()),
        unassigned=figures["unassigned"],
        never_visited=figures["never_visited"],
        overdue_persons=figures["list.overdue"],
        worklist={name: figures[f"list.{name}"] for name in WORKLISTS},
        areas=ranked,
    )


AGE_OUT_COLUMNS = ["person_id", "name", "village", "subtype", "age", "limit", "ages_out_on", "enrollment_id", "version"]


def age_out_list(session: Session, scope: Scope, today: dt.date, within_days: int = 90) -> pd.DataFrame:
    """Children enrolled now who are at their sub-type's age limit already or reach it within
    ``within_days`` (动态调整 due); each enrollment ages out at its own sub-type's limit."""
    horizon = today + dt.timedelta(days=within_days)
    limits = child_age_limits(session, scope_county(scope))
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


@dataclass(frozen=True)
class HomePage:
    """Everything the home page shows for one user: the summary, the service alerts (orders past
    due, plans waiting), the coordinator's week, the children reaching their age limit and the
    open needs waiting longest with how many are open (each None when the role does not see it)."""

    summary: HomeSummary
    orders_overdue: int
    plans_waiting: int
    week: MyWeek | None
    ageing_out: pd.DataFrame | None
    needs_waiting: pd.DataFrame | None = None
    needs_open: int = 0


def home_page(session: Session, scope: Scope, today: dt.date) -> HomePage:
    """The home page's reads, in one place (the page draws them; the benchmark times them)."""
    orders_overdue, plans_waiting = service_alerts(session, scope, today)
    supervises = scope.may_open("needs") and not scope.assigned_only
    return HomePage(
        summary=home_summary(session, scope, today),
        orders_overdue=orders_overdue,
        plans_waiting=plans_waiting,
        week=my_week(session, scope, today) if scope.may_open("my_visits") else None,
        ageing_out=age_out_list(session, scope, today) if scope.can("enrollment.exit") else None,
        needs_waiting=needs_list(session, scope, today, limit=NEEDS_SHOWN) if supervises else None,
        needs_open=open_needs(session, scope) if supervises else 0,
    )

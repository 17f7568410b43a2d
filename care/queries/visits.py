"""我的巡访: a coordinator's visits due and overdue this week, in the route order of the schedule."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from care.domain import ids, rules
from care.domain.facts import facts_of
from care.domain.visits import concerns_of
from care.queries.households import RELATION_ORDER, family_of
from care.queries.schedule import stop_persons
from care.queries.scoping import person_conditions, visible_person
from care.scope import Scope
from db.models import (
    Area,
    Assignment,
    Enrollment,
    Household,
    HouseholdMember,
    Need,
    Person,
    ScheduleDay,
    Visit,
    VisitEnrollment,
)

# How far back the last findings are looked up for "what to check".
FINDINGS_LOOKBACK_DAYS = 400
# The rules' "nothing found" reason: nothing to check, so not listed.
NO_RISK_REASON = "risk.reason.none"


@dataclass(frozen=True)
class DueEnrollment:
    """One of the person's enrollments this worker is responsible for."""

    id: int
    group: str
    subtype: str
    risk: str
    start_date: dt.date
    last_visit_on: dt.date | None
    next_due_on: dt.date | None
    facts: dict[str, Any]


@dataclass(frozen=True)
class WeekVisit:
    """A visit recorded this week by the worker (the latest one per person)."""

    id: int
    status: str
    mode: str | None
    visited_at: dt.datetime | None
    findings: dict[str, Any]
    notes: str
    cancel_reason: str
    version: int


@dataclass(frozen=True)
class VisitItem:
    """One person to visit: key facts, what to check, due date, and this week's visit if any."""

    person_id: int
    name: str
    sex: str
    age: int
    village: str
    address: str
    phone_masked: str
    enrollments: tuple[DueEnrollment, ...]
    next_due_on: dt.date | None
    state: str  # done / not_met / overdue / due
    planned_day: dt.date | None
    risk_reasons: tuple[str, ...]
    concerns: tuple[str, ...]
    open_needs: tuple[str, ...]
    this_week: WeekVisit | None

    @property
    def risk(self) -> str:
        """The highest risk over the enrollments listed."""
        order = {"high": 0, "medium": 1, "low": 2}
        return min((e.risk for e in self.enrollments), key=order.__getitem__, default="low")


# Which state a household shows when its members differ: the most urgent one.
STATE_ORDER = {"overdue": 0, "due": 1, "not_met": 2, "done": 3}


@dataclass(frozen=True)
class HouseholdItem:
    """One household to visit: two or more of its members due for this worker, one stop, one form.

    ``members`` pairs each member's relation to the head with their own item; members of the
    household who are not this worker's (or not due) are only counted in ``others``.
    """

    household_id: int
    version: int
    village: str
    address: str
    members: tuple[tuple[str, VisitItem], ...]
    others: int

    @property
    def person_id(self) -> int:
        """The first member listed (the head when they are on the list): the card's key."""
        return self.members[0][1].person_id

    @property
    def people(self) -> tuple[VisitItem, ...]:
        """The members' own items, in the order listed."""
        return tuple(item for _, item in self.members)

    @property
    def name(self) -> str:
        """The members' names, as one line."""
        return "、".join(item.name for item in self.people)

    @property
    def state(self) -> str:
        """The most urgent of the members' states."""
        return min((i.state for i in self.people), key=STATE_ORDER.__getitem__)

    @property
    def next_due_on(self) -> dt.date | None:
        """The earliest due date over the members."""
        return min((i.next_due_on for i in self.people if i.next_due_on), default=None)

    @property
    def planned_day(self) -> dt.date | None:
        """The day the schedule puts the household on."""
        return min((i.planned_day for i in self.people if i.planned_day), default=None)

    @property
    def risk(self) -> str:
        """The highest risk over the members."""
        order = {"high": 0, "medium": 1, "low": 2}
        return min((i.risk for i in self.people), key=order.__getitem__)


Stop = VisitItem | HouseholdItem


@dataclass(frozen=True)
class MyWeek:
    """The coordinator's week: Monday to Sunday and the stops (a person or a household), in visiting order."""

    start: dt.date
    end: dt.date
    items: list[Stop]

    def count(self, state: str) -> int:
        """How many persons are in ``state`` (a household's members each count)."""
        return sum(1 for item in self.persons if item.state == state)

    @property
    def persons(self) -> list[VisitItem]:
        """Every person of the week, households opened up."""
        return [p for item in self.items for p in (item.people if isinstance(item, HouseholdItem) else (item,))]


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the week holding ``day``."""
    start = day - dt.timedelta(days=day.weekday())
    return start, start + dt.timedelta(days=6)


def _assigned(session: Session, scope: Scope, worker_id: int, today: dt.date) -> list[tuple[Enrollment, Person, str]]:
    stmt = (
        select(Enrollment, Person, Area.name)
        .join(Person, Person.id == Enrollment.person_id)
        .join(Area, Area.code == Person.village_code)
        .join(Assignment, Assignment.enrollment_id == Enrollment.id)
        .where(
            *person_conditions(scope),
            Person.status == "active",
            Enrollment.end_date.is_(None),
            Assignment.worker_id == worker_id,
            Assignment.start_date <= today,
            Assignment.end_date.is_(None) | (Assignment.end_date >= today),
        )
        .options(selectinload(Enrollment.child), selectinload(Enrollment.elderly), selectinload(Enrollment.disabled))
        .order_by(Enrollment.id)
    )
    return [(e, p, v) for e, p, v in session.execute(stmt)]


def _this_week(session: Session, worker_id: int, start: dt.date, end: dt.date) -> dict[int, WeekVisit]:
    rows = session.scalars(
        select(Visit)
        .where(
            Visit.worker_id == worker_id,
            Visit.status != "planned",
            Visit.visited_at >= dt.datetime.combine(start, dt.time()),
            Visit.visited_at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()),
        )
        .order_by(Visit.visited_at, Visit.id)
    )
    latest: dict[int, WeekVisit] = {}
    for v in rows:
        latest[v.person_id] = WeekVisit(
            v.id, v.status, v.mode, v.visited_at, dict(v.findings or {}), v.notes, v.cancel_reason, v.version
        )
    return latest


def _route(session: Session, worker_id: int, start: dt.date, end: dt.date) -> dict[int, tuple[dt.date, int]]:
    """Person id → (day, stop number) from the worker's schedule days of this week."""
    order: dict[int, tuple[dt.date, int]] = {}
    days = session.execute(
        select(ScheduleDay.day, ScheduleDay.stops)
        .where(ScheduleDay.worker_id == worker_id, ScheduleDay.day >= start, ScheduleDay.day <= end)
        .order_by(ScheduleDay.day)
    )
    for day, stops in days:
        for n, stop in enumerate(stops or []):
            for pid in stop_persons(stop):
                order.setdefault(pid, (day, n))
    return order


def _concerns(session: Session, person_ids: list[int], today: dt.date) -> dict[int, tuple[str, ...]]:
    """Areas the last done visit to each person found wanting."""
    since = dt.datetime.combine(today - dt.timedelta(days=FINDINGS_LOOKBACK_DAYS), dt.time())
    found: dict[int, tuple[str, ...]] = {}
    rows = session.execute(
        select(Visit.person_id, Visit.findings)
        .where(Visit.person_id.in_(person_ids), Visit.status == "done", Visit.visited_at >= since)
        .order_by(Visit.person_id, Visit.visited_at.desc(), Visit.id.desc())
    )
    for pid, findings in rows:
        if pid not in found:
            found[pid] = concerns_of(findings)
    return found


def _open_needs(session: Session, person_ids: list[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {}
    rows = session.execute(
        select(Need.person_id, Need.kind)
        .where(Need.person_id.in_(person_ids), Need.status.in_(("open", "in_progress")))
        .order_by(Need.opened_on)
    )
    for pid, kind in rows:
        found.setdefault(pid, []).append(kind)
    return {pid: tuple(kinds) for pid, kinds in found.items()}


def _state(week_visit: WeekVisit | None, next_due: dt.date | None, today: dt.date) -> str:
    if week_visit is not None and week_visit.status in ("done", "not_met"):
        return week_visit.status
    return "overdue" if next_due is not None and next_due < today else "due"


def my_week(session: Session, scope: Scope, today: dt.date) -> MyWeek:
    """The coordinator's persons due by Sunday (overdue included) or visited this week, route order first."""
    start, end = week_of(today)
    if scope.worker_id is None or scope.sees_nothing:
        return MyWeek(start, end, [])
    worker = scope.worker_id
    by_person: dict[int, tuple[Person, str, list[Enrollment]]] = {}
    for enrollment, person, village in _assigned(session, scope, worker, today):
        by_person.setdefault(person.id, (person, village, []))[2].append(enrollment)
    visited = _this_week(session, worker, start, end)
    wanted = [
        pid
        for pid, (_, _, es) in by_person.items()
        if pid in visited
        or min((e.next_due_on for e in es if e.next_due_on), default=end + dt.timedelta(days=1)) <= end
    ]
    route = _route(session, worker, start, end)
    concerns = _concerns(session, wanted, today) if wanted else {}
    needs = _open_needs(session, wanted) if wanted else {}
    family = family_of(session, wanted, today) if wanted else {}
    people = {
        pid: _item(
            by_person[pid], route.get(pid), visited.get(pid), concerns, needs, today, family.get(pid, rules.NO_FAMILY)
        )
        for pid in wanted
    }
    items = _households(session, people)
    far = dt.date.max

    def position(item: Stop) -> tuple[dt.date, int]:
        pids = [p.person_id for p in item.people] if isinstance(item, HouseholdItem) else [item.person_id]
        return min(route.get(pid, (far, 0)) for pid in pids)

    items.sort(key=lambda i: (i.planned_day is None, position(i), i.next_due_on or far, i.name))
    return MyWeek(start, end, items)


def _households(session: Session, people: dict[int, VisitItem]) -> list[Stop]:
    """Persons of one current household become one household item; anyone else stays alone."""
    if not people:
        return []
    rows = session.execute(
        select(HouseholdMember.household_id, HouseholdMember.person_id, HouseholdMember.relation).where(
            HouseholdMember.person_id.in_(list(people)), HouseholdMember.end_date.is_(None)
        )
    ).all()
    grouped: dict[int, list[tuple[str, VisitItem]]] = {}
    for hid, pid, relation in rows:
        grouped.setdefault(hid, []).append((relation, people[pid]))
    shared = {hid: members for hid, members in grouped.items() if len(members) >= 2}
    in_household = {item.person_id for members in shared.values() for _, item in members}
    items: list[Stop] = [item for pid, item in people.items() if pid not in in_household]
    if not shared:
        return items
    sizes = dict(
        session.execute(
            select(HouseholdMember.household_id, func.count())
            .where(HouseholdMember.household_id.in_(list(shared)), HouseholdMember.end_date.is_(None))
            .group_by(HouseholdMember.household_id)
        ).all()
    )
    for household, village in session.execute(
        select(Household, Area.name)
        .join(Area, Area.code == Household.village_code)
        .where(Household.id.in_(list(shared)))
    ):
        members = sorted(shared[household.id], key=lambda m: (RELATION_ORDER.get(m[0], 9), -m[1].age, m[1].person_id))
        items.append(
            HouseholdItem(
                household_id=household.id,
                version=household.version,
                village=village,
                address=household.address or members[0][1].address,
                members=tuple(members),
                others=int(sizes.get(household.id, 0)) - len(members),
            )
        )
    return items


def _item(
    entry: tuple[Person, str, list[Enrollment]],
    planned: tuple[dt.date, int] | None,
    week_visit: WeekVisit | None,
    concerns: dict[int, tuple[str, ...]],
    needs: dict[int, tuple[str, ...]],
    today: dt.date,
    family: rules.Family,
) -> VisitItem:
    person, village, enrollments = entry
    age = ids.age_on(person.birth_date, today)
    due = tuple(
        DueEnrollment(e.id, e.group, e.subtype, e.risk, e.start_date, e.last_visit_on, e.next_due_on, facts_of(e))
        for e in enrollments
    )
    reasons: list[str] = []
    for e in due:
        for reason in rules.compute_risk(e.group, e.subtype, e.facts, age, family).reasons:
            if reason not in reasons and reason != NO_RISK_REASON:
                reasons.append(reason)
    next_due = min((e.next_due_on for e in due if e.next_due_on), default=None)
    return VisitItem(
        person_id=person.id,
        name=person.name,
        sex=person.sex,
        age=age,
        village=village,
        address=person.address,
        phone_masked=ids.mask_phone(person.phone),
        enrollments=due,
        next_due_on=next_due,
        state=_state(week_visit, next_due, today),
        planned_day=planned[0] if planned else None,
        risk_reasons=tuple(reasons),
        concerns=concerns.get(person.id, ()),
        open_needs=needs.get(person.id, ()),
        this_week=week_visit,
    )


def visit_detail(session: Session, scope: Scope, visit_id: int) -> dict[str, Any] | None:
    """A visit's values and version for its edit form (None when missing or out of scope)."""
    visit = session.get(Visit, visit_id) if isinstance(visit_id, int) else None
    if visit is None or visible_person(session, scope, visit.person_id) is None:
        return None
    groups = session.scalars(
        select(Enrollment.group)
        .join(VisitEnrollment, VisitEnrollment.enrollment_id == Enrollment.id)
        .where(VisitEnrollment.visit_id == visit.id)
    ).all()
    return {
        "id": visit.id,
        "person_id": visit.person_id,
        "status": visit.status,
        "mode": visit.mode,
        "visited_at": visit.visited_at,
        "findings": dict(visit.findings or {}),
        "notes": visit.notes,
        "cancel_reason": visit.cancel_reason,
        "groups": sorted(groups),
        "version": visit.version,
    }

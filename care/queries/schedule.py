"""Reads for 巡访排班: one worker's saved week with every stop's facts, and a township's weeks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from care.domain import areas, enums, policy, schedule
from care.domain.errors import NotFound
from care.domain.schedule import working_days
from care.queries.assignments import workers
from care.queries.households import RELATION_ORDER
from care.queries.scoping import person_conditions, visible_worker
from care.queries.settings import setting_value
from care.scope import Scope
from db.models import (
    Area,
    Assignment,
    Enrollment,
    HouseholdMember,
    Need,
    Person,
    ScheduleDay,
    Visit,
    Worker,
)


@dataclass(frozen=True)
class Stop:
    """One household on the route: its members due for the worker and every enrollment of theirs
    the worker covers (a person alone, or in no household, is a stop of one)."""

    person_id: int
    enrollment_ids: tuple[int, ...]
    due_on: dt.date
    risk: str
    overdue: bool
    point: schedule.Point | None
    person_ids: tuple[int, ...] = ()

    @property
    def persons(self) -> tuple[int, ...]:
        """Every member at this stop (the first is ``person_id``)."""
        return self.person_ids or (self.person_id,)

    def stored(self) -> dict[str, Any]:
        """The stop as a schedule day keeps it (``person_ids`` only for a household of two or more)."""
        row: dict[str, Any] = {"person_id": self.person_id, "enrollment_ids": list(self.enrollment_ids)}
        if len(self.persons) > 1:
            row["person_ids"] = list(self.persons)
        return row


def stop_persons(stop: Any) -> list[int]:
    """The persons of a stored stop: ``person_ids`` (a household), else the one ``person_id`` (older rows)."""
    if not isinstance(stop, dict):
        return []
    many = stop.get("person_ids")
    if isinstance(many, list) and many:
        return [p for p in many if isinstance(p, int) and not isinstance(p, bool)]
    one = stop.get("person_id")
    return [one] if isinstance(one, int) and not isinstance(one, bool) else []


@dataclass(frozen=True)
class StopMember:
    """One member at a household stop, as the sheet lists them."""

    person_id: int
    name: str
    relation: str
    groups: tuple[str, ...]
    risk: str
    due_on: dt.date | None


@dataclass(frozen=True)
class StopView:
    """One numbered stop of a day's route, with what the visitor needs at the door."""

    seq: int
    person_id: int
    name: str
    village: str
    address: str
    groups: tuple[str, ...]
    risk: str
    due_on: dt.date | None
    overdue: bool
    lat: float | None
    lon: float | None
    open_needs: int
    status: str | None
    # Every member at the stop (one for a person alone); ``name`` is the first of them.
    members: tuple[StopMember, ...] = ()

    @property
    def located(self) -> bool:
        """Whether the stop has coordinates (a stop without them is routed last and flagged)."""
        return self.lat is not None and self.lon is not None


@dataclass(frozen=True)
class DayView:
    """One working day of the plan."""

    day: dt.date
    fixed: bool
    version: int
    distance_km: float
    stops: list[StopView]


@dataclass(frozen=True)
class WeekPlan:
    """A worker's saved week: the worker, their office, and the days (empty when not generated)."""

    worker_id: int
    worker_name: str
    worker_kind: str
    area: str
    office: tuple[float, float] | None
    week_start: dt.date
    daily_limit: int
    days: list[DayView] = field(default_factory=list)
    # Households due by Sunday that the saved plan does not hold (it filled up, or they are new).
    unplaced: list[int] = field(default_factory=list)

    @property
    def generated(self) -> bool:
        """Whether a plan was saved for this week."""
        return bool(self.days)

    @property
    def stops(self) -> int:
        """Households planned over the week."""
        return sum(len(d.stops) for d in self.days)

    @property
    def distance_km(self) -> float:
        """Kilometres over the week's routes."""
        return round(sum(d.distance_km for d in self.days), 2)


def office_point(worker: Worker) -> tuple[float, float] | None:
    """The worker's village office as (lat, lon), or None when it was never located."""
    if worker.office_lat is None or worker.office_lon is None:
        return None
    return (worker.office_lat, worker.office_lon)


def daily_limit(session: Session, county_code: str | None) -> int:
    """The county's daily visit limit (default 8)."""
    value = setting_value(session, policy.SETTING_DAILY_LIMIT, county_code)
    return int(value) if value is not None else policy.DEFAULT_DAILY_LIMIT


def visited_on(session: Session, *, worker_id: int, days: list[dt.date]) -> dict[tuple[int, dt.date], str]:
    """(person, day) → status of visits this worker recorded in those days (planned ones aside)."""
    start = dt.datetime.combine(days[0], dt.time())
    end = dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time())
    rows = session.execute(
        select(Visit.person_id, Visit.visited_at, Visit.status).where(
            Visit.worker_id == worker_id,
            Visit.visited_at >= start,
            Visit.visited_at < end,
            Visit.status != "planned",
        )
    )
    found: dict[tuple[int, dt.date], str] = {}
    for person_id, at, status in rows:
        if at is None:
            continue
        key = (person_id, at.date())
        if found.get(key) != "done":
            found[key] = status
    return found


def due_stops(
    session: Session, *, worker_id: int, until: dt.date, today: dt.date, exclude: Collection[int] = ()
) -> list[Stop]:
    """Households with an enrollment of this worker due on or before ``until``, one stop each:
    the members due (``exclude``: persons already settled) with the enrollments the worker covers."""
    stmt = (
        select(Enrollment.id, Enrollment.person_id, Enrollment.risk, Enrollment.next_due_on, Person.lat, Person.lon)
        .join(Assignment, Assignment.enrollment_id == Enrollment.id)
        .join(Person, Person.id == Enrollment.person_id)
        .where(
            Assignment.worker_id == worker_id,
            Assignment.start_date <= today,
            Assignment.end_date.is_(None) | (Assignment.end_date >= today),
            Enrollment.end_date.is_(None),
            Enrollment.next_due_on <= until,
            Person.status == "active",
            Person.deleted.is_(False),
        )
    )
    by_person: dict[int, list[Any]] = {}
    for row in session.execute(stmt):
        if row.person_id not in exclude:
            by_person.setdefault(row.person_id, []).append(row)
    homes = _homes(session, list(by_person))
    by_stop: dict[tuple[str, int], list[int]] = {}
    for pid in by_person:
        home = homes.get(pid)
        by_stop.setdefault(("household", home[0]) if home else ("person", pid), []).append(pid)
    stops = []
    for members in by_stop.values():
        members.sort(key=lambda p: (RELATION_ORDER.get(homes[p][1], 9) if p in homes else 0, p))
        rows = [r for pid in members for r in by_person[pid]]
        due_on = min(r.next_due_on for r in rows)
        risk = min((r.risk for r in rows), key=lambda level: enums.RISK_ORDER.get(level, 9))
        located = next((r for r in rows if r.lat is not None and r.lon is not None), None)
        stops.append(
            Stop(
                person_id=members[0],
                enrollment_ids=tuple(sorted(r.id for r in rows)),
                due_on=due_on,
                risk=risk,
                overdue=due_on < today,
                point=(located.lat, located.lon) if located is not None else None,
                person_ids=tuple(members) if len(members) > 1 else (),
            )
        )
    return stops


_CHUNK = 900  # under SQLite's bound-parameter limit


def _homes(session: Session, person_ids: list[int]) -> dict[int, tuple[int, str]]:
    """Person → (current household, relation to the head)."""
    found: dict[int, tuple[int, str]] = {}
    for at in range(0, len(person_ids), _CHUNK):
        batch = person_ids[at : at + _CHUNK]
        for hid, pid, relation in session.execute(
            select(HouseholdMember.household_id, HouseholdMember.person_id, HouseholdMember.relation).where(
                HouseholdMember.person_id.in_(batch), HouseholdMember.end_date.is_(None)
            )
        ):
            found[pid] = (hid, relation)
    return found


def _stop_facts(session: Session, scope: Scope, person_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not person_ids:
        return {}
    facts: dict[int, dict[str, Any]] = {}
    rows = session.execute(
        select(Person.id, Person.name, Area.name, Person.address, Person.lat, Person.lon)
        .join(Area, Area.code == Person.village_code)
        .where(Person.id.in_(person_ids), *person_conditions(scope))
    )
    for pid, name, village, address, lat, lon in rows:
        facts[pid] = {"name": name, "village": village, "address": address, "lat": lat, "lon": lon}
    for pid, group, risk, due in session.execute(
        select(Enrollment.person_id, Enrollment.group, Enrollment.risk, Enrollment.next_due_on).where(
            Enrollment.person_id.in_(list(facts)), Enrollment.end_date.is_(None)
        )
    ):
        entry = facts[pid]
        entry.setdefault("groups", []).append(group)
        entry.setdefault("risks", []).append(risk)
        if due is not None and (entry.get("due") is None or due < entry["due"]):
            entry["due"] = due
    for pid, count in session.execute(
        select(Need.person_id, func.count())
        .where(Need.person_id.in_(list(facts)), Need.status != "resolved")
        .group_by(Need.person_id)
    ):
        facts[pid]["needs"] = int(count)
    return facts


def week_plan(session: Session, scope: Scope, *, worker_id: int, week_start: dt.date, today: dt.date) -> WeekPlan:
    """The saved plan of one worker's week in route order (stops the user may not see are left out)."""
    worker = visible_worker(session, scope, worker_id)
    if worker is None:
        raise NotFound()
    days = working_days(week_start)
    rows = list(
        session.scalars(
            select(ScheduleDay)
            .where(ScheduleDay.worker_id == worker.id, ScheduleDay.day.between(days[0], days[-1]))
            .order_by(ScheduleDay.day)
        )
    )
    area = session.get(Area, worker.area_code)
    office = office_point(worker)
    plan = WeekPlan(
        worker.id,
        worker.name,
        worker.kind,
        area.name if area else "",
        office,
        days[0],
        daily_limit(session, areas.county_of(worker.area_code)),
    )
    if not rows:
        return plan
    person_ids = sorted({pid for row in rows for s in row.stops for pid in stop_persons(s)})
    facts = _stop_facts(session, scope, person_ids)
    homes = _homes(session, person_ids)
    visited = visited_on(session, worker_id=worker.id, days=days)
    for row in rows:
        stops: list[StopView] = []
        for stop in row.stops:
            view = _stop_view(
                [pid for pid in stop_persons(stop) if pid in facts], facts, homes, visited, row.day, today, len(stops)
            )
            if view is not None:
                stops.append(view)
        plan.days.append(DayView(row.day, row.fixed, row.version, row.distance_km, stops))
    planned = {
        m.person_id for d in plan.days for s in d.stops if d.day >= today or s.status == "done" for m in s.members
    }
    sunday = days[0] + dt.timedelta(days=6)
    if sunday >= today:
        due = due_stops(session, worker_id=worker.id, until=sunday, today=today, exclude=planned)
        plan.unplaced.extend(sorted(s.person_id for s in due))
    return plan


def _stop_view(
    pids: list[int],
    facts: dict[int, dict[str, Any]],
    homes: dict[int, tuple[int, str]],
    visited: dict[tuple[int, dt.date], str],
    day: dt.date,
    today: dt.date,
    before: int,
) -> StopView | None:
    """A stored stop as shown: its members the user may see, their groups, risk, due date and needs."""
    if not pids:
        return None
    members = []
    for pid in pids:
        f = facts[pid]
        risks = f.get("risks", [])
        members.append(
            StopMember(
                person_id=pid,
                name=f["name"],
                relation=homes[pid][1] if pid in homes else "head",
                groups=tuple(sorted(set(f.get("groups", [])), key=enums.GROUPS.index)),
                risk=min(risks, key=lambda r: enums.RISK_ORDER.get(r, 9)) if risks else "low",
                due_on=f.get("due"),
            )
        )
    first = facts[pids[0]]
    located = next((facts[p] for p in pids if facts[p]["lat"] is not None and facts[p]["lon"] is not None), first)
    dues = [m.due_on for m in members if m.due_on is not None]
    due = min(dues) if dues else None
    statuses = [visited.get((pid, day)) for pid in pids]
    return StopView(
        seq=before + 1,
        person_id=pids[0],
        name=first["name"],
        village=first["village"],
        address=first["address"],
        groups=tuple(sorted({g for m in members for g in m.groups}, key=enums.GROUPS.index)),
        risk=min((m.risk for m in members), key=lambda r: enums.RISK_ORDER.get(r, 9)),
        due_on=due,
        overdue=due is not None and due < today,
        lat=located["lat"],
        lon=located["lon"],
        open_needs=sum(facts[p].get("needs", 0) for p in pids),
        status=_stop_status(statuses),
        members=tuple(members),
    )


def _stop_status(statuses: list[str | None]) -> str | None:
    """Done when every member was visited; otherwise what was recorded for any of them."""
    if statuses and all(s == "done" for s in statuses):
        return "done"
    recorded = [s for s in statuses if s is not None and s != "done"]
    return recorded[0] if recorded else None


def township_weeks(session: Session, scope: Scope, *, week_start: dt.date, today: dt.date) -> pd.DataFrame:
    """Every worker in scope side by side: due by Sunday, and each day's stops and kilometres."""
    days = working_days(week_start)
    staff = workers(session, scope, active_only=True)
    columns = ["worker_id", "name", "kind", "area", "due", "planned", "km", *[d.isoformat() for d in days]]
    if staff.empty:
        return pd.DataFrame(columns=columns)
    ids = [int(w) for w in staff["worker_id"]]
    sunday = days[0] + dt.timedelta(days=6)
    due = dict(
        session.execute(
            select(Assignment.worker_id, func.count(func.distinct(Enrollment.person_id)))
            .join(Enrollment, Enrollment.id == Assignment.enrollment_id)
            .join(Person, Person.id == Enrollment.person_id)
            .where(
                Assignment.worker_id.in_(ids),
                Assignment.start_date <= today,
                Assignment.end_date.is_(None) | (Assignment.end_date >= today),
                Enrollment.end_date.is_(None),
                Enrollment.next_due_on <= sunday,
                *person_conditions(scope),
            )
            .group_by(Assignment.worker_id)
        ).all()
    )
    saved: dict[int, dict[dt.date, tuple[int, float]]] = {}
    for wid, day, stops, km in session.execute(
        select(ScheduleDay.worker_id, ScheduleDay.day, ScheduleDay.stops, ScheduleDay.distance_km).where(
            ScheduleDay.worker_id.in_(ids), ScheduleDay.day.between(days[0], days[-1])
        )
    ):
        saved.setdefault(wid, {})[day] = (len(stops), km)
    rows = []
    for w in staff.itertuples(index=False):
        mine = saved.get(int(w.worker_id), {})
        cells = [mine.get(d) for d in days]
        rows.append(
            [
                int(w.worker_id),
                w.name,
                w.kind,
                w.area,
                int(due.get(int(w.worker_id), 0)),
                sum(c[0] for c in cells if c) if mine else None,
                round(sum(c[1] for c in cells if c), 1) if mine else None,
                *[c[0] if c else None for c in cells],
            ]
        )
    return pd.DataFrame(rows, columns=columns)

"""Patrol schedules (巡访排班): a worker's week of visits, spread over days and routed.

A week's plan is kept as one ``ScheduleDay`` row per working day. Regenerating a week keeps
what already happened or was decided: days before today, days the user fixed, and every stop
whose visit was recorded that day. Everything else that is due or overdue by Sunday is spread
again over the open days under the daily limit and each day is routed from the worker's office.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from care import audit
from care.domain import areas, clock, schedule
from care.domain.errors import StaleRecord, ValidationError
from care.permissions import require
from care.queries.schedule import daily_limit, due_stops, office_point, stop_persons, visited_on
from care.scope import Scope
from care.services.assignments import worker_in_scope
from db.models import Person, ScheduleDay


@dataclass
class WeekResult:
    """What generating a week did: stops placed per day, what was kept, what did not fit."""

    placed: int = 0
    kept: int = 0
    left: list[int] = field(default_factory=list)
    days: dict[dt.date, int] = field(default_factory=dict)

    @property
    def warnings(self) -> list[tuple[str, dict[str, Any]]]:
        """What the user should know: households that did not fit under the daily limit."""
        return [("schedule.left_over", {"n": len(self.left)})] if self.left else []


def _points(session: Session, person_ids: list[int]) -> dict[int, schedule.Point | None]:
    if not person_ids:
        return {}
    rows = session.execute(select(Person.id, Person.lat, Person.lon).where(Person.id.in_(person_ids)))
    return {pid: (lat, lon) if lat is not None and lon is not None else None for pid, lat, lon in rows}


def route_day(
    office: schedule.Point | None, stops: list[dict[str, Any]], points: Mapping[int, Any]
) -> tuple[list[dict[str, Any]], float]:
    """Order a day's stops as a route from the office; returns them and the route's kilometres.

    A household stop is routed once, at the first of its members with a location."""
    coords = [next((points[p] for p in stop_persons(s) if points.get(p) is not None), None) for s in stops]
    order = schedule.route(office, coords)
    ordered = [stops[i] for i in order]
    located = [c for c in (coords[i] for i in order) if c is not None]
    return ordered, round(schedule.path_km(office, located), 2)


def _settled(
    kept: Mapping[dt.date, list[dict[str, Any]]], visited: Mapping[tuple[int, dt.date], str], today: dt.date
) -> set[int]:
    """Persons the kept days already cover: planned from today on, or visited (done) earlier."""
    settled: set[int] = set()
    for day, stops in kept.items():
        for stop in stops:
            persons = stop_persons(stop)
            if day >= today:
                settled.update(persons)
            else:
                settled.update(p for p in persons if visited.get((p, day)) == "done")
    return settled


def _check_versions(existing: Mapping[dt.date, ScheduleDay], seen: Mapping[dt.date, int] | None) -> None:
    if seen is None:
        return
    for day, row in existing.items():
        if seen.get(day) != row.version:
            raise StaleRecord({"day": day.isoformat()}, seen=seen.get(day, 0), now=row.version)


def _week_rows(session: Session, *, worker_id: int, days: list[dt.date]) -> dict[dt.date, ScheduleDay]:
    """The worker's stored schedule days of the week, by day."""
    return {
        row.day: row
        for row in session.scalars(
            select(ScheduleDay).where(ScheduleDay.worker_id == worker_id, ScheduleDay.day.between(days[0], days[-1]))
        )
    }


def _kept_stops(
    days: list[dt.date],
    existing: Mapping[dt.date, ScheduleDay],
    frozen: set[dt.date],
    visited: Mapping[tuple[int, dt.date], str],
) -> dict[dt.date, list[dict[str, Any]]]:
    """Each day's stops that stay: all of a frozen day, else only the stops already visited that day."""
    kept: dict[dt.date, list[dict[str, Any]]] = {}
    for day in days:
        stops = existing[day].stops if day in existing else []
        kept[day] = (
            list(stops) if day in frozen else [s for s in stops if any((p, day) in visited for p in stop_persons(s))]
        )
    return kept


def _write_days(
    session: Session,
    result: WeekResult,
    *,
    worker_id: int,
    days: list[dt.date],
    existing: Mapping[dt.date, ScheduleDay],
    frozen: set[dt.date],
    kept: Mapping[dt.date, list[dict[str, Any]]],
    placed: Mapping[dt.date, list[dict[str, Any]]],
    office: schedule.Point | None,
    points: Mapping[int, schedule.Point | None],
) -> None:
    """Route and store every open day with its kept and newly placed stops, counting them in ``result``."""
    now = clock.now()
    for day in days:
        new = placed[day]
        result.placed += len(new)
        if day in frozen and day in existing:
            result.days[day] = len(existing[day].stops)
            continue
        stops, km = route_day(office, kept[day] + new, points)
        result.days[day] = len(stops)
        row = existing.get(day)
        if row is None:
            session.add(
                ScheduleDay(
                    worker_id=worker_id, day=day, fixed=False, stops=stops, distance_km=km, generated_at=now, version=1
                )
            )
        else:
            row.stops, row.distance_km, row.generated_at, row.version = stops, km, now, row.version + 1


def generate_week(
    session: Session,
    scope: Scope,
    *,
    worker_id: int,
    week_start: dt.date,
    seen_versions: Mapping[dt.date, int] | None = None,
) -> WeekResult:
    """(Re)plan one worker's week; ``seen_versions`` (day → version) detects a concurrent edit."""
    require(scope, "schedule.edit")
    worker = worker_in_scope(session, scope, worker_id)
    days = schedule.working_days(week_start)
    today = clock.today()
    existing = _week_rows(session, worker_id=worker.id, days=days)
    _check_versions(existing, seen_versions)
    visited = visited_on(session, worker_id=worker.id, days=days)
    frozen = {d for d in days if d < today or (d in existing and existing[d].fixed)}
    kept = _kept_stops(days, existing, frozen, visited)
    settled = _settled(kept, visited, today)
    sunday = days[0] + dt.timedelta(days=6)
    candidates = due_stops(session, worker_id=worker.id, until=sunday, today=today, exclude=settled)
    open_days = [d for d in days if d not in frozen]
    by_person = {s.person_id: s for s in candidates}
    items = [schedule.Due(key=s.person_id, due_on=s.due_on, risk=s.risk, overdue=s.overdue) for s in candidates]
    plan, left = schedule.spread(
        items, open_days, daily_limit(session, areas.county_of(worker.area_code)), {d: len(kept[d]) for d in open_days}
    )
    office = office_point(worker)
    all_ids = sorted(
        {p for stops in kept.values() for s in stops for p in stop_persons(s)}
        | {p for s in candidates for p in s.persons}
    )
    points = _points(session, all_ids)
    result = WeekResult(kept=sum(len(v) for v in kept.values()), left=[i.key for i in left])
    _write_days(
        session,
        result,
        worker_id=worker.id,
        days=days,
        existing=existing,
        frozen=frozen,
        kept=kept,
        placed={day: [by_person[i.key].stored() for i in plan.get(day, [])] for day in days},
        office=office,
        points=points,
    )
    session.flush()
    audit.record(
        session,
        scope=scope,
        action="schedule.generate",
        entity="worker",
        entity_id=worker.id,
        detail={"week": days[0].isoformat(), "placed": result.placed, "kept": result.kept, "left": len(result.left)},
    )
    return result


def fix_day(session: Session, scope: Scope, *, worker_id: int, day: dt.date, fixed: bool, seen_version: int) -> int:
    """Fix a planned day (regenerating the week leaves it as it is) or release it; new version."""
    require(scope, "schedule.edit")
    worker = worker_in_scope(session, scope, worker_id)
    row = session.scalar(select(ScheduleDay).where(ScheduleDay.worker_id == worker.id, ScheduleDay.day == day))
    if row is None:
        raise ValidationError("schedule.not_generated_day", field="day")
    if row.version != seen_version:
        raise StaleRecord({"day": day.isoformat(), "fixed": row.fixed}, seen=seen_version, now=row.version)
    row.fixed = fixed
    row.version += 1
    session.flush()
    audit.record(
        session,
        scope=scope,
        action="schedule.fix_day",
        entity="worker",
        entity_id=worker.id,
        detail={"day": day.isoformat(), "fixed": fixed},
    )
    return row.version

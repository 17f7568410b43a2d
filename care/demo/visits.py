"""The demo county's visit history: a year of visits, phone calls and needs, and the risk changes."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, insert, literal, null, select, update
from sqlalchemy.orm import Session

from care.demo.common import (
    BEHIND_SHARE,
    CANCEL_REASONS,
    CHUNK,
    COORDINATOR_BEHIND,
    HISTORY_DAYS,
    NEED_DETAILS,
    NEED_SHARE,
    NEEDS_BY_GROUP,
    NOT_MET_NOTES,
    PHONE_NOTES,
    VISIT_NOTES,
    _at,
    _BuilderBase,
    _Enrollment,
    _Person,
    _weighted,
    _working_minutes,
    demo_rng,
)
from care.domain import clock
from db.models import (
    Enrollment,
    Need,
    RiskChange,
    Visit,
    VisitEnrollment,
)


def _covering_worker(members: list[_Enrollment], day: dt.date) -> tuple[int | None, list[int]]:
    """The worker responsible on ``day`` for these enrollments, and those of them it covers."""
    worker: int | None = None
    covered: list[int] = []
    for e in members:
        if day < e.start or (e.end is not None and day > e.end):
            continue
        for who, start, end in e.segments:
            if start <= day and (end is None or day <= end):
                worker = who
                covered.append(e.id)
                break
    return worker, covered


def _due_date(
    rng: random.Random, enrollment: _Enrollment, previous: dt.date | None, day: dt.date, first: dt.date, interval: int
) -> dt.date:
    """When the visit on ``day`` was due: an interval after the one before it, or after the
    enrollment started, or (when the history begins after that) a little after ``day``."""
    if previous is not None:
        return previous + dt.timedelta(days=interval)
    if enrollment.start >= first - dt.timedelta(days=1):
        return enrollment.start + dt.timedelta(days=interval)
    return day + dt.timedelta(days=rng.randint(0, interval // 4))


def _current_worker(enrollment: _Enrollment) -> int | None:
    """The worker responsible for an enrollment today (its open last segment), if any."""
    if enrollment.segments and enrollment.segments[-1][2] is None:
        return enrollment.segments[-1][0]
    return None


def _risk_history(session: Session, *, today: dt.date, county_code: str) -> None:
    """Each of the county's enrollments' risk as known since it started (the demo keeps no older history)."""
    now = clock.now()
    session.execute(
        insert(RiskChange).from_select(
            ["enrollment_id", "person_id", "day", "old", "new", "cause", "created_at"],
            select(
                Enrollment.id,
                Enrollment.person_id,
                case((Enrollment.start_date > today, literal(today)), else_=Enrollment.start_date),
                null(),
                Enrollment.risk,
                literal("enroll"),
                literal(now),
            )
            .where(Enrollment.county_code == county_code)
            .order_by(Enrollment.id),
        )
    )


class _VisitsPart(_BuilderBase):
    """The builder's visits."""

    def _visits(self, persons: list[_Person], coordinator: int) -> None:
        rng = demo_rng(self.seed, f"visits:{len(persons)}")
        streams = [
            (p, [e] + [o for o in p.enrollments if o.joined_to is e])
            for p in persons
            for e in p.enrollments
            if e.joined_to is None
        ]
        with_needs = set(rng.sample(range(len(streams)), min(len(streams), max(12, round(len(persons) * NEED_SHARE)))))
        visits: list[dict[str, Any]] = []
        links: list[dict[str, Any]] = []
        needs: list[dict[str, Any]] = []
        last_exited: dict[int, dt.date] = {}
        # The demo coordinator always has a few visits behind, whatever the weekday, so that 我的巡访
        # has work on it to show.
        theirs = [k for k, (_, members) in enumerate(streams) if _current_worker(members[0]) == coordinator]
        kept_behind = set(theirs[:COORDINATOR_BEHIND])
        # The database takes each chunk of visits while the next is made.
        with self.write.overlapping():
            for k, (person, members) in enumerate(streams):
                done = self._stream(rng, person, members, visits, links, last_exited, behind=k in kept_behind)
                if k in with_needs and done:
                    # Most needs come from the latest rounds, so many are still open.
                    found_on = rng.choice(done[-3:]) if rng.random() < 0.7 else rng.choice(done)
                    needs.append(self._need(rng, person, members[0], found_on))
                if len(visits) >= CHUNK:
                    self._flush_visits(visits, links)
            self._flush_visits(visits, links)
        self._insert(Need, needs)
        # Exited enrollments keep the last visit they had; refresh_due_dates looks at active ones only.
        if last_exited:
            self.session.execute(
                update(cast(Table, Enrollment.__table__))
                .where(Enrollment.id == bindparam("eid"))
                .values(last_visit_on=bindparam("day")),
                [{"eid": eid, "day": day} for eid, day in last_exited.items()],
            )

    def _flush_visits(self, visits: list[dict[str, Any]], links: list[dict[str, Any]]) -> None:
        self._insert(Visit, visits)
        self._insert(VisitEnrollment, links)
        self.visits += len(visits)
        visits.clear()
        links.clear()

    def _schedule(
        self, rng: random.Random, first: dt.date, last_day: dt.date, interval: int, behind: bool
    ) -> list[dt.date]:
        """Counted visit days, oldest first, from ``first`` to ``last_day``."""
        if behind:
            last = last_day - dt.timedelta(days=interval + rng.randint(5, max(21, interval)))
        else:
            last = last_day - dt.timedelta(days=rng.randint(0, interval - 1))
        days: list[dt.date] = []
        day = last
        while day >= first:
            if day.weekday() >= 5 and rng.random() < 0.8:
                day -= dt.timedelta(days=day.weekday() - 4)
                if day < first:
                    break
            days.append(day)
            stretch = rng.uniform(1.1, 1.8) if rng.random() < 0.06 else rng.uniform(0.7, 1.0)
            day -= dt.timedelta(days=max(1, round(interval * stretch)))
        days.reverse()
        return days

    def _stream(
        self,
        rng: random.Random,
        person: _Person,
        members: list[_Enrollment],
        visits: list[dict[str, Any]],
        links: list[dict[str, Any]],
        last_exited: dict[int, dt.date],
        *,
        behind: bool = False,
    ) -> list[dict[str, Any]]:
        """Visits to one person for these enrollments (one worker's round); returns the counted ones.

        ``behind``: this round is overdue now (otherwise a random share is).
        """
        today = self.today
        start = min(e.start for e in members)
        active = any(e.end is None for e in members)
        last_day = today - dt.timedelta(days=1) if active else max(e.end or today for e in members)
        first = max(start + dt.timedelta(days=1), today - dt.timedelta(days=HISTORY_DAYS))
        interval = min(e.interval for e in members)
        behind = active and (rng.random() < BEHIND_SHARE or behind)
        days = self._schedule(rng, first, last_day, interval, behind)
        group = members[0].group
        counted: list[dict[str, Any]] = []
        previous: dt.date | None = None
        for n, day in enumerate(days):
            due = _due_date(rng, members[0], previous, day, first, interval)
            previous = day
            self._missed_attempt(rng, person, members, day, first, visits, links, due=due, group=group)
            mode = _weighted(rng, (("home", 88), ("third_party", 6), ("volunteer", 6)))
            row = self._add_visit(
                rng, person, members, day, first, visits, links, status="done", mode=mode, due=due, group=group
            )
            if row is not None:
                counted.append(row)
                for e in members:
                    if e.end is not None and e.start <= day <= e.end:
                        last_exited[e.id] = day
            following = days[n + 1] if n + 1 < len(days) else last_day
            if rng.random() < 0.11 and (following - day).days >= 4:
                call = day + dt.timedelta(days=(following - day).days // 2)
                self._add_visit(
                    rng, person, members, call, first, visits, links, status="done", mode="phone", due=None, group=group
                )
        return counted

    def _missed_attempt(
        self,
        rng: random.Random,
        person: _Person,
        members: list[_Enrollment],
        day: dt.date,
        first: dt.date,
        visits: list[dict[str, Any]],
        links: list[dict[str, Any]],
        *,
        due: dt.date,
        group: str,
    ) -> None:
        """Now and then a cancelled or not-met attempt a few days before the visit on ``day``."""
        roll = rng.random()
        if roll >= 0.07:
            return
        status = "cancelled" if roll < 0.02 else "not_met"
        tried = day - dt.timedelta(days=rng.randint(1, 3))
        self._add_visit(rng, person, members, tried, first, visits, links, status=status, due=due, group=group)

    def _add_visit(
        self,
        rng: random.Random,
        person: _Person,
        members: list[_Enrollment],
        day: dt.date,
        first: dt.date,
        visits: list[dict[str, Any]],
        links: list[dict[str, Any]],
        *,
        status: str,
        due: dt.date | None,
        group: str,
        mode: str | None = None,
    ) -> dict[str, Any] | None:
        if day < first:
            return None
        worker, covered = _covering_worker(members, day)
        if worker is None:
            return None
        vid = self.ids["visits"].take()
        at = _at(day, _working_minutes(rng))
        mode, findings, notes, cancel_reason = self._outcome(rng, status, mode, group, members[0].facts)
        row = {
            "id": vid,
            "person_id": person.id,
            "county_code": self.code,
            "worker_id": worker,
            "due_date": due,
            "status": status,
            "visited_at": None if status == "cancelled" else at,
            "mode": mode,
            "findings": findings,
            "notes": notes,
            "follow_up": "",
            "cancel_reason": cancel_reason,
            "version": 1,
            "created_at": at + dt.timedelta(minutes=rng.randint(3, 90)),
            "created_by": None,
            "client_token": None,
        }
        visits.append(row)
        links.extend({"visit_id": vid, "enrollment_id": eid, "county_code": self.code} for eid in covered)
        return row if status == "done" and mode != "phone" else None

    def _outcome(
        self, rng: random.Random, status: str, mode: str | None, group: str, facts: dict[str, Any]
    ) -> tuple[str | None, dict[str, Any], str, str]:
        """A visit's mode, findings, notes and cancel reason for its status."""
        findings: dict[str, Any] = {}
        notes = ""
        cancel_reason = ""
        if status == "done":
            findings = self._findings(rng, group, facts, phone=mode == "phone")
            if mode == "phone":
                notes = rng.choice(PHONE_NOTES)
            elif rng.random() < 0.25:
                notes = rng.choice(VISIT_NOTES[group])
        elif status == "not_met":
            mode = "home"
            notes = rng.choice(NOT_MET_NOTES)
        else:
            cancel_reason = rng.choice(CANCEL_REASONS)
        return mode, findings, notes, cancel_reason

    @staticmethod
    def _findings(rng: random.Random, group: str, facts: dict[str, Any], *, phone: bool) -> dict[str, Any]:
        found: dict[str, Any] = {
            "safety": "concern" if rng.random() < 0.05 else "ok",
            "health": _weighted(rng, (("good", 70), ("fair", 24), ("poor", 6))),
        }
        if phone:
            return found
        found["living"] = "poor" if rng.random() < 0.07 else "ok"
        if group == "child":
            poor = facts.get("poor_guardianship") or facts.get("guardianship") == "none"
            found["guardianship"] = "concern" if poor or rng.random() < 0.04 else "ok"
            found["schooling"] = {"out_of_school": "absent", "not_school_age": "n/a"}.get(
                facts.get("schooling", ""), "attending"
            )
        elif group == "disabled":
            found["rehab"] = _weighted(rng, (("improving", 30), ("stable", 55), ("needs_support", 15)))
        return found

    def _need(
        self, rng: random.Random, person: _Person, enrollment: _Enrollment, visit: dict[str, Any]
    ) -> dict[str, Any]:
        kind = rng.choice(NEEDS_BY_GROUP[enrollment.group])
        department, description = NEED_DETAILS[kind]
        opened = visit["visited_at"].date()
        visit["follow_up"] = description
        age = (self.today - opened).days
        if age > 60:
            status = _weighted(rng, (("resolved", 75), ("in_progress", 15), ("open", 10)))
        else:
            status = _weighted(rng, (("open", 50), ("in_progress", 35), ("resolved", 15)))
        resolved = None
        if status == "resolved":
            resolved = min(self.today, opened + dt.timedelta(days=rng.randint(3, 60)))
        return {
            "id": self.ids["needs"].take(),
            "person_id": person.id,
            "enrollment_id": enrollment.id,
            "visit_id": visit["id"],
            "kind": kind,
            "department": department,
            "description": description,
            "status": status,
            "opened_on": opened,
            "resolved_on": resolved,
            "resolved_by": None,
            "created_by": None,
            "version": 1,
        }

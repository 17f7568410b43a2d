"""The person file (一人一档): identity, enrollments with facts and risk, workers, visits, needs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from care.domain import ids, policy, rules
from care.domain.enums import FRAIL_GUARDIAN_AGE, RISK_ORDER
from care.domain.facts import facts_of
from care.domain.visits import concerns_of
from care.queries.households import current_household_ids, disabled_persons, family_of
from care.queries.policy import policy_intervals
from care.queries.scoping import visible_person
from care.scope import Scope
from db.models import Area, Assignment, Enrollment, HouseholdMember, Need, Person, Visit, VisitEnrollment, Worker

VISIT_HISTORY_LIMIT = 50


@dataclass(frozen=True)
class GuardianView:
    """A child's guardian linked to a household member, as the person file shows them."""

    person_id: int
    name: str
    age: int
    aged: bool  # 70 or older
    disabled: bool
    # Still a current member of the child's household (a link stays as history when they leave).
    at_home: bool


@dataclass(frozen=True)
class EnrollmentView:
    """One enrollment as the person file shows it."""

    id: int
    group: str
    subtype: str
    start_date: dt.date
    end_date: dt.date | None
    exit_reason: str | None
    exit_note: str
    risk: str
    risk_auto: str
    risk_override: str | None
    risk_override_reason: str
    risk_reasons: tuple[str, ...]
    facts: dict[str, Any]
    last_visit_on: dt.date | None
    next_due_on: dt.date | None
    worker: str | None
    version: int
    # Next due date under each risk level (what a risk change would move it to).
    due_if_risk: dict[str, dt.date] = field(default_factory=dict)
    # A child's guardian linked to a household member the user may see.
    guardian: GuardianView | None = None


@dataclass(frozen=True)
class PersonFile:
    """Everything the person file shows, as plain values."""

    id: int
    name: str
    sex: str
    birth_date: dt.date
    age: int
    id_masked: str
    phone_masked: str
    phone: str
    village_code: str
    village: str
    township: str
    address: str
    lat: float | None
    lon: float | None
    status: str
    notes: str
    deleted: bool
    version: int
    enrollments: list[EnrollmentView]
    visits: list[dict[str, Any]] = field(default_factory=list)
    needs: list[dict[str, Any]] = field(default_factory=list)
    assignment_history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def next_due_on(self) -> dt.date | None:
        """The earliest due date over the active enrollments."""
        return min((e.next_due_on for e in self.enrollments if e.end_date is None and e.next_due_on), default=None)

    @property
    def risk(self) -> str | None:
        """The highest risk over the active enrollments."""
        levels = [e.risk for e in self.enrollments if e.end_date is None]
        return min(levels, key=RISK_ORDER.__getitem__, default=None)


def person_file(session: Session, scope: Scope, person_id: int, today: dt.date) -> PersonFile | None:
    """The file of a person the user may see, or None (missing and out-of-scope look the same)."""
    person = visible_person(session, scope, person_id, include_deleted=True)
    if person is None:
        return None
    village = session.get(Area, person.village_code)
    township = session.get(Area, village.parent_code) if village and village.parent_code else None
    age = ids.age_on(person.birth_date, today)
    enrollments = session.scalars(
        select(Enrollment)
        .where(Enrollment.person_id == person.id)
        .options(selectinload(Enrollment.child), selectinload(Enrollment.elderly), selectinload(Enrollment.disabled))
        .order_by(Enrollment.end_date.is_not(None), Enrollment.start_date)
    ).all()
    history = _assignments(session, [e.id for e in enrollments], today)
    current = {row["enrollment_id"]: row["worker"] for row in history if row["current"]}
    intervals = policy_intervals(session, person.county_code)
    family = family_of(session, [person.id], today).get(person.id, rules.NO_FAMILY)
    views = [_enrollment_view(e, age, current.get(e.id), intervals, family) for e in enrollments]
    views = _with_guardians(session, scope, person.id, views, today)
    return PersonFile(
        id=person.id,
        name=person.name,
        sex=person.sex,
        birth_date=person.birth_date,
        age=age,
        id_masked=ids.mask_id_number(person.id_number),
        phone_masked=ids.mask_phone(person.phone),
        phone=person.phone,
        village_code=person.village_code,
        village=village.name if village else person.village_code,
        township=township.name if township else "",
        address=person.address,
        lat=person.lat,
        lon=person.lon,
        status=person.status,
        notes=person.notes,
        deleted=person.deleted,
        version=person.version,
        enrollments=views,
        visits=_visits(session, person.id),
        needs=_needs(session, person.id),
        assignment_history=history,
    )


def _enrollment_view(
    e: Enrollment, age: int, worker: str | None, intervals: dict[tuple[str, str], int], family: rules.Family
) -> EnrollmentView:
    facts = facts_of(e)
    reasons = rules.compute_risk(e.group, e.subtype, facts, age, family).reasons
    return EnrollmentView(
        id=e.id,
        group=e.group,
        subtype=e.subtype,
        start_date=e.start_date,
        end_date=e.end_date,
        exit_reason=e.exit_reason,
        exit_note=e.exit_note,
        risk=e.risk,
        risk_auto=e.risk_auto,
        risk_override=e.risk_override,
        risk_override_reason=e.risk_override_reason,
        risk_reasons=reasons,
        facts=facts,
        last_visit_on=e.last_visit_on,
        next_due_on=e.next_due_on,
        worker=worker,
        version=e.version,
        due_if_risk={
            risk: policy.next_due(e.start_date, e.last_visit_on, intervals[(e.group, risk)]) for risk in RISK_ORDER
        },
    )


def _with_guardians(
    session: Session, scope: Scope, child_id: int, views: list[EnrollmentView], today: dt.date
) -> list[EnrollmentView]:
    """Each child enrollment with its linked guardian (only one the user may see)."""
    linked = {int(g) for v in views if v.group == "child" and (g := v.facts.get("guardian_person_id")) is not None}
    if not linked:
        return views
    guardians = {pid: p for pid in linked if (p := visible_person(session, scope, pid)) is not None}
    home = current_household_ids(session, [child_id])
    at_home = {
        pid
        for pid, hid in session.execute(
            select(HouseholdMember.person_id, HouseholdMember.household_id).where(
                HouseholdMember.person_id.in_(list(guardians)), HouseholdMember.end_date.is_(None)
            )
        )
        if hid in home
    }
    disabled = disabled_persons(session, list(guardians))
    shown = {}
    for pid, p in guardians.items():
        age = ids.age_on(p.birth_date, today)
        living = p.status in ("active", "exited")
        shown[pid] = GuardianView(
            pid, p.name, age, age >= FRAIL_GUARDIAN_AGE, pid in disabled, pid in at_home and living
        )
    return [replace(v, guardian=shown.get(v.facts.get("guardian_person_id", 0) or 0)) for v in views]


def _assignments(session: Session, enrollment_ids: list[int], today: dt.date) -> list[dict[str, Any]]:
    if not enrollment_ids:
        return []
    rows = session.execute(
        select(Assignment.enrollment_id, Worker.name, Worker.kind, Assignment.start_date, Assignment.end_date)
        .join(Worker, Worker.id == Assignment.worker_id)
        .where(Assignment.enrollment_id.in_(enrollment_ids))
        .order_by(Assignment.start_date.desc())
    )
    return [
        {
            "enrollment_id": eid,
            "worker": name,
            "kind": kind,
            "start_date": start,
            "end_date": end,
            "current": start <= today and (end is None or end >= today),
        }
        for eid, name, kind, start, end in rows
    ]


def _visits(session: Session, person_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            Visit.id,
            Visit.visited_at,
            Visit.due_date,
            Visit.status,
            Visit.mode,
            Visit.notes,
            Worker.name,
            Visit.findings,
        )
        .outerjoin(Worker, Worker.id == Visit.worker_id)
        .where(Visit.person_id == person_id)
        .order_by(Visit.visited_at.desc().nulls_last(), Visit.id.desc())
        .limit(VISIT_HISTORY_LIMIT)
    ).all()
    groups: dict[int, list[str]] = {}
    if rows:
        for vid, group in session.execute(
            select(VisitEnrollment.visit_id, Enrollment.group)
            .join(Enrollment, Enrollment.id == VisitEnrollment.enrollment_id)
            .where(VisitEnrollment.visit_id.in_([r[0] for r in rows]))
        ):
            groups.setdefault(vid, []).append(group)
    return [
        {
            "id": vid,
            "visited_at": at,
            "due_date": due,
            "status": status,
            "mode": mode,
            "notes": notes,
            "worker": worker or "",
            "groups": sorted(groups.get(vid, [])),
            "concerns": concerns_of(findings),
        }
        for vid, at, due, status, mode, notes, worker, findings in rows
    ]


def _needs(session: Session, person_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Need.id, Need.kind, Need.department, Need.description, Need.status, Need.opened_on, Need.resolved_on)
        .where(Need.person_id == person_id)
        .order_by(Need.status == "resolved", Need.opened_on)
    )
    return [
        {
            "id": nid,
            "kind": kind,
            "department": dept,
            "description": desc,
            "status": status,
            "opened_on": opened,
            "resolved_on": resolved,
        }
        for nid, kind, dept, desc, status, opened, resolved in rows
    ]


def full_id_number(session: Session, scope: Scope, person_id: int) -> str | None:
    """The whole ID number, for the audited "show" toggle only (None without the right or the person)."""
    if not scope.can("person.view_full_id"):
        return None
    person = visible_person(session, scope, person_id, include_deleted=True)
    return person.id_number if person is not None else None


def ref_of(session: Session, person_id: int) -> str | None:
    """The reference a link to this person's file carries (None when there is no such row)."""
    return session.scalar(select(Person.ref).where(Person.id == person_id))

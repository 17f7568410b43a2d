"""Recording a visit (巡访记录) and correcting one: one call = everything of one save."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from care import audit
from care.domain import clock, policy
from care.domain.errors import NotFound, StaleRecord, ValidationError
from care.domain.visits import SITUATION_EXIT_REASON, CleanNeed, CleanVisit, check_need, check_visit
from care.permissions import require
from care.queries.policy import phone_counts
from care.queries.scoping import visible_person
from care.scope import Scope
from care.services.common import Saved
from care.services.due import refresh_due_dates
from care.services.enrollments import exit_enrollment
from care.services.needs import add_need
from db.models import (
    Assignment,
    Enrollment,
    Household,
    HouseholdMember,
    Person,
    Visit,
    VisitEnrollment,
    Worker,
)

TOKEN_MAX = 64
T = TypeVar("T")
E = TypeVar("E")


@dataclass(frozen=True)
class NeedInput:
    """A follow-up need found on a visit."""

    kind: str
    department: str = ""
    description: str = ""


def _enrollments(session: Session, scope: Scope, person: Person, enrollment_ids: Sequence[int]) -> list[Enrollment]:
    """The person's active enrollments named; a coordinator only those assigned to their worker."""
    if any(not isinstance(i, int) or isinstance(i, bool) for i in enrollment_ids):
        raise NotFound()
    wanted = sorted(set(enrollment_ids))
    if not wanted:
        raise ValidationError("visit.no_enrollment", field="enrollment_ids")
    stmt = select(Enrollment).where(Enrollment.id.in_(wanted), Enrollment.person_id == person.id)
    if scope.assigned_only:
        today = clock.today()
        stmt = stmt.where(
            Enrollment.id.in_(
                select(Assignment.enrollment_id).where(
                    Assignment.worker_id == scope.worker_id,
                    Assignment.start_date <= today,
                    Assignment.end_date.is_(None) | (Assignment.end_date >= today),
                )
            )
        )
    found = list(session.scalars(stmt.order_by(Enrollment.id)))
    if len(found) != len(wanted):
        raise NotFound()
    if any(e.end_date is not None for e in found):
        raise ValidationError("visit.enrollment_ended", field="enrollment_ids")
    return found


def _worker(session: Session, scope: Scope, worker_id: int | None, enrollments: list[Enrollment]) -> int | None:
    """Who made the visit: a coordinator's own worker; for others the one named or assigned."""
    if scope.assigned_only:
        if worker_id is not None and worker_id != scope.worker_id:
            raise NotFound()
        return scope.worker_id
    if worker_id is None:
        return session.scalar(
            select(Assignment.worker_id)
            .where(Assignment.enrollment_id.in_([e.id for e in enrollments]), Assignment.end_date.is_(None))
            .order_by(Assignment.start_date.desc())
            .limit(1)
        )
    worker = session.get(Worker, worker_id) if isinstance(worker_id, int) else None
    if worker is None or not scope.covers(worker.area_code):
        raise ValidationError("visit.unknown_worker", field="worker_id")
    return worker.id


def _planned(session: Session, person_id: int, worker_id: int | None) -> Visit | None:
    """The oldest planned visit to this person by this worker, which a recorded visit completes."""
    return session.scalar(
        select(Visit)
        .where(Visit.person_id == person_id, Visit.status == "planned", Visit.worker_id == worker_id)
        .order_by(Visit.due_date.nulls_last(), Visit.id)
        .limit(1)
        .with_for_update()  # two saves never complete the same planned visit
    )


def _earlier_save(session: Session, scope: Scope, client_token: str | None) -> Saved | None:
    if not client_token:
        return None
    row = session.execute(
        select(Visit.id, Visit.version, Visit.person_id).where(Visit.client_token == client_token)
    ).first()
    if row is None:
        return None
    if visible_person(session, scope, row.person_id) is None:
        raise NotFound()
    return Saved(row.id, row.version)


def _warnings(session: Session, clean: CleanVisit, county: str) -> list[tuple[str, dict[str, Any]]]:
    if clean.status == "not_met":
        return [("visit.not_met_keeps_due", {})]
    counted = policy.counts(clean.status, clean.mode, phone_counts=phone_counts(session, county))
    if clean.status == "done" and not counted:
        return [("visit.phone_not_counted", {})]
    return []


def _write_visit(
    session: Session,
    scope: Scope,
    *,
    person: Person,
    enrollments: list[Enrollment],
    worker_id: int | None,
    clean: CleanVisit,
    needs: Sequence[CleanNeed],
    client_token: str | None,
    household: tuple[int, str] | None = None,
) -> Visit:
    values: dict[str, Any] = {
        "status": clean.status,
        "mode": clean.mode,
        "visited_at": clean.visited_at,
        "findings": clean.findings,
        "notes": clean.notes,
        "cancel_reason": clean.cancel_reason,
        "follow_up": "；".join(n.description or n.kind for n in needs),
        "client_token": client_token,
    }
    if household is not None:
        values["household_id"], values["household_visit"] = household
    planned = _planned(session, person.id, worker_id)
    if planned is not None:
        for name, value in values.items():
            setattr(planned, name, value)
        planned.version += 1
        session.execute(delete(VisitEnrollment).where(VisitEnrollment.visit_id == planned.id))
        visit = planned
    else:
        due = min((e.next_due_on for e in enrollments if e.next_due_on is not None), default=None)
        visit = Visit(
            person_id=person.id,
            county_code=person.county_code,
            worker_id=worker_id,
            due_date=due,
            version=1,
            created_at=clock.now(),
            created_by=scope.user_id,
            **values,
        )
        session.add(visit)
    session.flush()
    session.add_all(
        VisitEnrollment(visit_id=visit.id, enrollment_id=e.id, county_code=visit.county_code) for e in enrollments
    )
    session.flush()
    return visit


def _change_situation(
    session: Session, scope: Scope, person: Person, enrollments: list[Enrollment], clean: CleanVisit
) -> None:
    """Parent home: the child enrollment ends; died or moved: every enrollment ends with the person."""
    if clean.situation is None or clean.visited_at is None:
        return
    reason = SITUATION_EXIT_REASON[clean.situation]
    if clean.situation == "parent_returned":
        targets = [e for e in enrollments if e.group == "child"]
    else:
        targets = enrollments[:1]
    for enrollment in targets:
        session.refresh(enrollment)
        exit_enrollment(
            session,
            scope,
            enrollment_id=enrollment.id,
            seen_version=enrollment.version,
            reason=reason,
            end_date=clean.visited_at.date(),
            note="",
            permission="visit.record",
        )


def _check_for(enrollments: Sequence[Enrollment], **values: Any) -> CleanVisit:
    """The visit form's values checked against the groups and start dates of the enrollments it covers."""
    return check_visit(groups=[e.group for e in enrollments], starts=[e.start_date for e in enrollments], **values)


def _visit_needs(clean: CleanVisit, needs: Sequence[NeedInput]) -> list[CleanNeed]:
    """The needs a visit found, checked; a cancelled visit finds none."""
    if clean.status == "cancelled" and needs:
        raise ValidationError("visit.needs_need_visit", field="needs")
    return [check_need(n.kind, n.department, n.description) for n in needs]


def _first_save(session: Session, write: Callable[[], T], earlier: Callable[[], E | None]) -> T | E:
    """``write()`` in a savepoint; when a concurrent save of the same token committed first, that save."""
    try:
        with session.begin_nested():
            return write()
    except IntegrityError:
        # The same token committed by a concurrent save (PostgreSQL waits for it, then refuses ours).
        found = earlier()
        if found is None:
            raise
        return found


def _open_needs(
    session: Session,
    scope: Scope,
    *,
    visit: Visit,
    person: Person,
    enrollment: Enrollment,
    needs: Sequence[CleanNeed],
    on: dt.date,
) -> None:
    """Open each need a visit found, on the person's first enrollment the visit covers."""
    for need in needs:
        add_need(session, scope, person_id=person.id, enrollment_id=enrollment.id, visit_id=visit.id, need=need, on=on)


def _opened_on(clean: CleanVisit) -> dt.date:
    """The day a visit's needs open: the day of the visit, or today when it has none."""
    return clean.visited_at.date() if clean.visited_at else clock.today()


def _audit_visit(
    session: Session,
    scope: Scope,
    *,
    visit: Visit,
    person: Person,
    enrollments: list[Enrollment],
    clean: CleanVisit,
    needs: list[CleanNeed],
) -> None:
    """The audit event of one recorded visit."""
    audit.record(
        session,
        scope=scope,
        action="visit.record",
        entity="visit",
        entity_id=visit.id,
        detail={
            "person_id": person.id,
            "enrollment_ids": [e.id for e in enrollments],
            "status": clean.status,
            "mode": clean.mode,
            "visited_at": clean.visited_at.isoformat() if clean.visited_at else None,
            "needs": [n.kind for n in needs],
            "situation": clean.situation,
        },
    )


def _visit_subject(
    session: Session, scope: Scope, person_id: int, enrollment_ids: Sequence[int]
) -> tuple[Person, list[Enrollment]]:
    """The person visited, visible to the user, and the active enrollments the visit covers."""
    person = visible_person(session, scope, person_id)
    if person is None:
        raise NotFound()
    return person, _enrollments(session, scope, person, enrollment_ids)


def _save_once(
    session: Session,
    scope: Scope,
    *,
    person: Person,
    enrollments: list[Enrollment],
    worker_id: int | None,
    clean: CleanVisit,
    needs: list[CleanNeed],
    client_token: str | None,
) -> Visit | Saved:
    """The visit written, or the earlier save of the same ``client_token`` that committed first."""
    return _first_save(
        session,
        lambda: _write_visit(
            session,
            scope,
            person=person,
            enrollments=enrollments,
            worker_id=worker_id,
            clean=clean,
            needs=needs,
            client_token=client_token,
        ),
        lambda: _earlier_save(session, scope, client_token),
    )


def record_visit(
    session: Session,
    scope: Scope,
    *,
    person_id: int,
    enrollment_ids: Sequence[int],
    status: str,
    mode: str | None,
    visited_at: dt.datetime | dt.date | None,
    findings: Mapping[str, Any] | None = None,
    notes: str = "",
    cancel_reason: str = "",
    needs: Sequence[NeedInput] = (),
    situation: str | None = None,
    client_token: str | None = None,
    worker_id: int | None = None,
) -> Saved:
    """Save one visit with its enrollments, needs, due dates, situation change and audit event.

    A second call with the same ``client_token`` (a double click) returns the first visit and
    writes nothing. A planned visit of the same person and worker is completed, not duplicated.
    """
    require(scope, "visit.record")
    if client_token is not None and (not client_token or len(client_token) > TOKEN_MAX):
        raise ValidationError("visit.bad_token", field="client_token")
    earlier = _earlier_save(session, scope, client_token)
    if earlier is not None:
        return earlier
    person, enrollments = _visit_subject(session, scope, person_id, enrollment_ids)
    clean = _check_for(
        enrollments,
        status=status,
        mode=mode,
        visited_at=visited_at,
        now=clock.now(),
        findings=findings,
        notes=notes,
        cancel_reason=cancel_reason,
        situation=situation,
    )
    cleaned_needs = _visit_needs(clean, needs)
    who = _worker(session, scope, worker_id, enrollments)
    visit = _save_once(
        session,
        scope,
        person=person,
        enrollments=enrollments,
        worker_id=who,
        clean=clean,
        needs=cleaned_needs,
        client_token=client_token,
    )
    if isinstance(visit, Saved):
        return visit
    opened = _opened_on(clean)
    _open_needs(session, scope, visit=visit, person=person, enrollment=enrollments[0], needs=cleaned_needs, on=opened)
    refresh_due_dates(session, enrollment_ids=[e.id for e in enrollments])
    _change_situation(session, scope, person, enrollments, clean)
    _audit_visit(session, scope, visit=visit, person=person, enrollments=enrollments, clean=clean, needs=cleaned_needs)
    return Saved(visit.id, visit.version, _warnings(session, clean, person.county_code))


MEMBER_STATUSES = ("done", "not_met")


@dataclass(frozen=True)
class MemberVisit:
    """One member's part of a household visit: met or not (未见到), their findings, a need."""

    person_id: int
    enrollment_ids: Sequence[int]
    status: str = "done"
    findings: Mapping[str, Any] | None = None
    need: NeedInput | None = None


@dataclass(frozen=True)
class HouseholdSaved:
    """A saved household visit: one visit per member, in the order the members were given."""

    visit_ids: list[int]
    warnings: list[tuple[str, dict[str, Any]]]


class HouseholdChanged(StaleRecord):
    """The household changed (members, relations, address) since the form was opened."""

    def __init__(self, *, seen: int, now: int) -> None:
        super().__init__({}, seen=seen, now=now)
        self.key = "household_visit.stale"


def _earlier_household_save(session: Session, scope: Scope, token: str) -> HouseholdSaved | None:
    # Sorted here: an ORDER BY id would let SQLite scan the table in id order instead of the index.
    rows = sorted(session.execute(select(Visit.id, Visit.person_id).where(Visit.household_visit == token)).all())
    if not rows:
        return None
    if any(visible_person(session, scope, r.person_id) is None for r in rows):
        raise NotFound()
    return HouseholdSaved([r.id for r in rows], [])


def _household_for_visit(session: Session, household_id: int, seen_version: int) -> Household:
    """The current household, locked against a concurrent change, on the version the form showed."""
    if not isinstance(household_id, int) or isinstance(household_id, bool):
        raise NotFound()
    household = session.scalar(select(Household).where(Household.id == household_id).with_for_update())
    if household is None:
        raise NotFound()
    if household.ended_on is not None or household.version != seen_version:
        raise HouseholdChanged(seen=seen_version, now=household.version)
    return household


def _member_people(
    session: Session, scope: Scope, household: Household, members: Sequence[MemberVisit]
) -> list[tuple[Person, list[Enrollment]]]:
    """Each member named, visible to the user and still in the household, with the enrollments covered."""
    pids = [m.person_id for m in members]
    if not members or len(set(pids)) != len(pids):
        raise ValidationError("household_visit.no_members", field="members")
    current = set(
        session.scalars(
            select(HouseholdMember.person_id).where(
                HouseholdMember.household_id == household.id, HouseholdMember.end_date.is_(None)
            )
        )
    )
    found: list[tuple[Person, list[Enrollment]]] = []
    for member in members:
        person = visible_person(session, scope, member.person_id)
        if person is None:
            raise NotFound()
        if person.id not in current:
            raise HouseholdChanged(seen=household.version, now=household.version)
        found.append((person, _enrollments(session, scope, person, member.enrollment_ids)))
    return found


def _member_warnings(
    session: Session, people: list[tuple[Person, list[Enrollment]]], cleans: list[CleanVisit]
) -> list[tuple[str, dict[str, Any]]]:
    missed = [p.name for (p, _), c in zip(people, cleans, strict=True) if c.status == "not_met"]
    warnings: list[tuple[str, dict[str, Any]]] = []
    if missed:
        warnings.append(("household_visit.not_met_keeps_due", {"names": "、".join(missed)}))
    if any(c.status == "done" for c in cleans):
        done = next(c for c in cleans if c.status == "done")
        county = people[0][0].county_code
        warnings += [w for w in _warnings(session, done, county) if w[0] == "visit.phone_not_counted"]
    return warnings


def _member_checks(
    members: Sequence[MemberVisit],
    people: list[tuple[Person, list[Enrollment]]],
    *,
    mode: str | None,
    visited_at: dt.datetime | dt.date | None,
    notes: str,
) -> list[CleanVisit]:
    """Each member's visit checked: met or 未见到, findings only when met, the shared when, how and notes."""
    now = clock.now()
    cleans: list[CleanVisit] = []
    for member, (_, enrollments) in zip(members, people, strict=True):
        if member.status not in MEMBER_STATUSES:
            raise ValidationError("visit.bad_status", field="status")
        cleans.append(
            _check_for(
                enrollments,
                status=member.status,
                mode=mode,
                visited_at=visited_at,
                now=now,
                findings=member.findings if member.status == "done" else None,
                notes=notes,
            )
        )
    return cleans


def _audit_household_visit(
    session: Session,
    scope: Scope,
    *,
    household: Household,
    visits: list[Visit],
    people: list[tuple[Person, list[Enrollment]]],
    cleans: list[CleanVisit],
    needs: list[CleanNeed | None],
) -> None:
    """The one audit event of a household visit, naming every member's visit."""
    audit.record(
        session,
        scope=scope,
        action="visit.record_household",
        entity="household",
        entity_id=household.id,
        detail={
            "visit_ids": [v.id for v in visits],
            "person_ids": [p.id for p, _ in people],
            "enrollment_ids": sorted(e.id for _, enrollments in people for e in enrollments),
            "statuses": [c.status for c in cleans],
            "mode": cleans[0].mode,
            "visited_at": cleans[0].visited_at.isoformat() if cleans[0].visited_at else None,
            "needs": [n.kind for n in needs if n is not None],
        },
    )


def record_household_visit(
    session: Session,
    scope: Scope,
    *,
    household_id: int,
    seen_version: int,
    members: Sequence[MemberVisit],
    mode: str | None,
    visited_at: dt.datetime | dt.date | None,
    notes: str = "",
    client_token: str,
    worker_id: int | None = None,
) -> HouseholdSaved:
    """Save one household visit: one visit per member (met or 未见到), all linked, in one go.

    Shared: when, how and the notes; per member: their findings and one need. Every enrollment
    covered gets one due-date update. A second call with the same ``client_token`` returns the
    first save and writes nothing; a household changed since ``seen_version`` is refused.
    """
    require(scope, "visit.record")
    if not isinstance(client_token, str) or not client_token or len(client_token) > TOKEN_MAX:
        raise ValidationError("visit.bad_token", field="client_token")
    earlier = _earlier_household_save(session, scope, client_token)
    if earlier is not None:
        return earlier
    household = _household_for_visit(session, household_id, seen_version)
    people = _member_people(session, scope, household, members)
    cleans = _member_checks(members, people, mode=mode, visited_at=visited_at, notes=notes)
    needs = [check_need(m.need.kind, m.need.department, m.need.description) if m.need else None for m in members]
    everyone = [e for _, enrollments in people for e in enrollments]
    who = _worker(session, scope, worker_id, everyone)
    visits = _first_save(
        session,
        lambda: [
            _write_visit(
                session,
                scope,
                person=person,
                enrollments=enrollments,
                worker_id=who,
                clean=clean,
                needs=[need] if need else [],
                client_token=None,
                household=(household.id, client_token),
            )
            for (person, enrollments), clean, need in zip(people, cleans, needs, strict=True)
        ],
        lambda: _earlier_household_save(session, scope, client_token),
    )
    if isinstance(visits, HouseholdSaved):
        return visits
    opened = _opened_on(cleans[0])
    for visit, (person, enrollments), need in zip(visits, people, needs, strict=True):
        if need is not None:
            _open_needs(session, scope, visit=visit, person=person, enrollment=enrollments[0], needs=[need], on=opened)
    refresh_due_dates(session, enrollment_ids=sorted(e.id for e in everyone))
    _audit_household_visit(
        session, scope, household=household, visits=visits, people=people, cleans=cleans, needs=needs
    )
    return HouseholdSaved([v.id for v in visits], _member_warnings(session, people, cleans))


def visit_values(visit: Visit) -> dict[str, Any]:
    """A recorded visit's editable values and version (what an edit form starts from)."""
    return {
        "status": visit.status,
        "mode": visit.mode,
        "visited_at": visit.visited_at,
        "findings": dict(visit.findings or {}),
        "notes": visit.notes,
        "cancel_reason": visit.cancel_reason,
        "version": visit.version,
    }


def _editable_visit(session: Session, scope: Scope, visit_id: int) -> tuple[Visit, list[Enrollment]]:
    visit = session.get(Visit, visit_id) if isinstance(visit_id, int) else None
    if visit is None or visible_person(session, scope, visit.person_id) is None:
        raise NotFound()
    if scope.assigned_only and visit.worker_id != scope.worker_id:
        raise NotFound()
    enrollments = list(
        session.scalars(
            select(Enrollment)
            .join(VisitEnrollment, VisitEnrollment.enrollment_id == Enrollment.id)
            .where(VisitEnrollment.visit_id == visit.id)
            .order_by(Enrollment.id)
        )
    )
    return visit, enrollments


def _update_on_version(session: Session, visit: Visit, seen_version: int, new: dict[str, Any]) -> None:
    """Write the corrected values when the visit is still on the version the user saw; else refuse."""
    result = session.execute(
        update(Visit)
        .where(Visit.id == visit.id, Visit.version == seen_version)
        .values(**new, version=Visit.version + 1)
        .execution_options(synchronize_session=False)
    )
    session.expire(visit)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = session.get(Visit, visit.id)
        raise StaleRecord(
            visit_values(current) if current else {}, seen=seen_version, now=current.version if current else 0
        )


def _audit_visit_change(session: Session, scope: Scope, visit: Visit, old: dict[str, Any], new: dict[str, Any]) -> None:
    """The audit event of a corrected visit: the values changed (the notes only as changed or not)."""
    changed = {k: v for k, v in new.items() if old.get(k) != v}
    audit.record(
        session,
        scope=scope,
        action="visit.update",
        entity="visit",
        entity_id=visit.id,
        detail={
            "old": {k: _plain(old[k]) for k in changed if k != "notes"},
            "new": {k: _plain(v) for k, v in changed.items() if k != "notes"},
            "notes_changed": "notes" in changed,
        },
    )


def update_visit(
    session: Session,
    scope: Scope,
    *,
    visit_id: int,
    seen_version: int,
    status: str,
    mode: str | None,
    visited_at: dt.datetime | dt.date | None,
    findings: Mapping[str, Any] | None = None,
    notes: str = "",
    cancel_reason: str = "",
) -> Saved:
    """Correct a recorded visit on the version the user saw; the due dates follow."""
    require(scope, "visit.edit")
    visit, enrollments = _editable_visit(session, scope, visit_id)
    clean = _check_for(
        enrollments,
        status=status,
        mode=mode,
        visited_at=visited_at,
        now=clock.now(),
        findings=findings,
        notes=notes,
        cancel_reason=cancel_reason,
    )
    old = visit_values(visit)
    new = {
        "status": clean.status,
        "mode": clean.mode,
        "visited_at": clean.visited_at,
        "findings": clean.findings,
        "notes": clean.notes,
        "cancel_reason": clean.cancel_reason,
    }
    _update_on_version(session, visit, seen_version, new)
    refresh_due_dates(session, enrollment_ids=[e.id for e in enrollments if e.end_date is None])
    _audit_visit_change(session, scope, visit, old, new)
    return Saved(visit.id, seen_version + 1, _warnings(session, clean, visit.county_code))


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value

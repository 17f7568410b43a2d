"""Enrolling a person in a care group, editing the group's facts and risk, and exits (动态调整)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from care import audit
from care.domain import clock, enums, ids, rules
from care.domain.errors import NotFound, ValidationError
from care.domain.facts import FIELDS, clean_facts, details_row, facts_of
from care.permissions import require
from care.queries.policy import child_age_limits
from care.queries.scoping import visible_person
from care.scope import Scope
from care.services import households, membership
from care.services.common import Saved, versioned_update
from care.services.due import record_risk_changes, refresh_due_dates
from db.models import Assignment, Enrollment, Person

# Exit reasons that change the person, not just this enrollment.
PERSON_ENDING_REASONS = {"died": "deceased", "moved": "moved"}


def _clean_override(scope: Scope, override: str | None, reason: str) -> tuple[str | None, str]:
    if not override:
        return None, ""
    enums.check("risk", override, enums.RISKS)
    require(scope, "risk.override")
    if not reason.strip():
        raise ValidationError("enrollment.override_reason_required", field="risk_override_reason")
    return override, reason.strip()[:200]


def _check_can_enroll(session: Session, person: Person, group: str, start_date: dt.date) -> None:
    """Refuse an enrollment the register does not allow: a person gone, a start date out of range, one already on."""
    enums.check("group", group, enums.GROUPS)
    if person.status in ("deceased", "moved"):
        raise ValidationError("enrollment.person_not_active", field="group")
    if start_date is None:
        raise ValidationError("error.required", field="start_date")
    if start_date > clock.today():
        raise ValidationError("enrollment.start_in_future", field="start_date")
    if start_date < person.birth_date:
        raise ValidationError("enrollment.start_before_birth", field="start_date")
    already = session.scalar(
        select(Enrollment.id).where(
            Enrollment.person_id == person.id, Enrollment.group == group, Enrollment.end_date.is_(None)
        )
    )
    if already is not None:
        raise ValidationError("enrollment.already_enrolled", field="group")


def _person_facts(
    session: Session,
    scope: Scope,
    person: Person,
    *,
    group: str,
    subtype: str,
    facts: Mapping[str, Any],
    county: str,
    previous_guardian: int | None = None,
) -> dict[str, Any]:
    """The group's facts checked for this person (a child's guardian taken from their household)."""
    cleaned = clean_facts(
        group,
        subtype,
        facts,
        id_number=person.id_number,
        birth_date=person.birth_date,
        on=clock.today(),
        age_limits=child_age_limits(session, county),
    )
    if group == "child":
        cleaned = households.guardian_facts(session, scope, person, cleaned, previous=previous_guardian)
    return cleaned


def _auto_risk(group: str, subtype: str, facts: Mapping[str, Any], person: Person) -> str:
    """The risk level the rules give the person today."""
    return rules.compute_risk(group, subtype, facts, ids.age_on(person.birth_date, clock.today())).level


def _new_enrollment(
    session: Session,
    person: Person,
    *,
    group: str,
    subtype: str,
    start_date: dt.date,
    risk_auto: str,
    override: str | None,
    reason: str,
) -> Enrollment:
    """Insert the enrollment row (version 1) and flush it for its id."""
    now = clock.now()
    enrollment = Enrollment(
        person_id=person.id,
        county_code=person.county_code,
        group=group,
        subtype=subtype,
        start_date=start_date,
        risk_auto=risk_auto,
        risk_override=override,
        risk_override_reason=reason,
        risk=rules.effective_risk(risk_auto, override),
        version=1,
        created_at=now,
        updated_at=now,
        exit_note="",
    )
    session.add(enrollment)
    session.flush()
    return enrollment


def enroll(
    session: Session,
    scope: Scope,
    *,
    person_id: int,
    group: str,
    subtype: str,
    start_date: dt.date,
    facts: Mapping[str, Any],
    risk_override: str | None = None,
    risk_override_reason: str = "",
    audited: bool = True,
) -> Saved:
    """Put a person on a group's register with that group's facts; risk is computed by the rules.

    ``audited=False`` leaves the audit event to the caller (an import records one for the file).
    """
    require(scope, "enrollment.create")
    person = visible_person(session, scope, person_id)
    if person is None:
        raise NotFound()
    _check_can_enroll(session, person, group, start_date)
    cleaned = _person_facts(
        session, scope, person, group=group, subtype=subtype, facts=facts, county=person.county_code
    )
    override, reason = _clean_override(scope, risk_override, risk_override_reason)
    auto = _auto_risk(group, subtype, cleaned, person)
    enrollment = _new_enrollment(
        session,
        person,
        group=group,
        subtype=subtype,
        start_date=start_date,
        risk_auto=auto,
        override=override,
        reason=reason,
    )
    record_risk_changes(session, [(enrollment.id, person.id, None, enrollment.risk)], cause="enroll", day=clock.today())
    session.add(details_row(group, enrollment.id, cleaned))
    if person.status == "exited":
        person.status = "active"
    session.flush()
    refresh_due_dates(session, enrollment_ids=[enrollment.id])
    membership.refresh_family(session, [person.id])
    if audited:
        audit.record(
            session,
            scope=scope,
            action="enrollment.create",
            entity="enrollment",
            entity_id=enrollment.id,
            detail={"person_id": person.id, "group": group, "subtype": subtype, "facts": cleaned},
        )
    return Saved(enrollment.id, 1)


def _load(session: Session, scope: Scope, enrollment_id: int) -> tuple[Enrollment, Person]:
    enrollment = session.get(Enrollment, enrollment_id) if isinstance(enrollment_id, int) else None
    person = visible_person(session, scope, enrollment.person_id) if enrollment else None
    if enrollment is None or person is None:
        raise NotFound()
    return enrollment, person


def enrollment_values(enrollment: Enrollment) -> dict[str, Any]:
    """An enrollment's editable values (sub-type, facts, override) and version."""
    return {
        "subtype": enrollment.subtype,
        "facts": facts_of(enrollment),
        "risk_override": enrollment.risk_override,
        "risk_override_reason": enrollment.risk_override_reason,
        "version": enrollment.version,
    }


def _override_to_keep(
    scope: Scope, enrollment: Enrollment, risk_override: str | None, risk_override_reason: str
) -> tuple[str | None, str]:
    """The override asked for when the user may override risk; else the one the enrollment has."""
    if scope.can("risk.override"):
        return _clean_override(scope, risk_override, risk_override_reason)
    return enrollment.risk_override, enrollment.risk_override_reason


def _write_details(enrollment: Enrollment, group: str, facts: Mapping[str, Any]) -> None:
    """Set the group's fact columns on the enrollment's details row."""
    details = getattr(enrollment, group)
    for name in FIELDS[group]:
        setattr(details, name, facts[name])


def _audit_enrollment_change(
    session: Session, scope: Scope, enrollment_id: int, old: dict[str, Any], new: dict[str, Any]
) -> None:
    """The audit event of an edited enrollment: the values that changed, before and after."""
    changed = {k: v for k, v in new.items() if old.get(k) != v}
    audit.record(
        session,
        scope=scope,
        action="enrollment.update",
        entity="enrollment",
        entity_id=enrollment_id,
        detail={"old": {k: old[k] for k in changed}, "new": changed},
    )


def update_enrollment(
    session: Session,
    scope: Scope,
    *,
    enrollment_id: int,
    seen_version: int,
    subtype: str,
    facts: Mapping[str, Any],
    risk_override: str | None = None,
    risk_override_reason: str = "",
) -> Saved:
    """Save new group facts (and override) on the version the user saw; risk and due date follow."""
    require(scope, "enrollment.edit")
    enrollment, person = _load(session, scope, enrollment_id)
    if enrollment.end_date is not None:
        raise ValidationError("enrollment.already_exited", field="group")
    old = enrollment_values(enrollment)
    cleaned = _person_facts(
        session,
        scope,
        person,
        group=enrollment.group,
        subtype=subtype,
        facts=facts,
        county=enrollment.county_code,
        previous_guardian=old["facts"].get("guardian_person_id"),
    )
    override, reason = _override_to_keep(scope, enrollment, risk_override, risk_override_reason)
    auto = _auto_risk(enrollment.group, subtype, cleaned, person)
    group = enrollment.group
    before = enrollment.risk
    version = versioned_update(
        session,
        enrollment,
        seen_version,
        {
            "subtype": subtype,
            "risk_auto": auto,
            "risk_override": override,
            "risk_override_reason": reason,
            "risk": rules.effective_risk(auto, override),
        },
        enrollment_values,
    )
    record_risk_changes(
        session,
        [(enrollment_id, person.id, before, rules.effective_risk(auto, override))],
        cause="edit",
        day=clock.today(),
    )
    _write_details(enrollment, group, cleaned)
    session.flush()
    refresh_due_dates(session, enrollment_ids=[enrollment_id])
    membership.refresh_family(session, [person.id])
    new = {"subtype": subtype, "facts": cleaned, "risk_override": override, "risk_override_reason": reason}
    _audit_enrollment_change(session, scope, enrollment_id, old, new)
    return Saved(enrollment_id, version)


def _check_exit(enrollment: Enrollment, reason: str, end_date: dt.date, note: str) -> None:
    """Refuse an exit the register does not allow: already ended, no or a wrong reason, a date out of range."""
    if enrollment.end_date is not None:
        raise ValidationError("enrollment.already_exited", field="reason")
    if not reason:
        raise ValidationError("error.required", field="reason")
    enums.check("reason", reason, enums.EXIT_REASONS[enrollment.group])
    if end_date > clock.today():
        raise ValidationError("enrollment.exit_in_future", field="end_date")
    if end_date < enrollment.start_date:
        raise ValidationError("enrollment.exit_before_start", field="end_date")
    if reason == "other" and not note.strip():
        raise ValidationError("enrollment.exit_note_required", field="note")


def _end_with_person(session: Session, person: Person, reason: str, values: dict[str, Any]) -> list[int]:
    """The person's status after an exit; death or moving away also ends their other enrollments (their ids)."""
    ended: list[int] = []
    if reason in PERSON_ENDING_REASONS:
        others = session.scalars(
            select(Enrollment).where(Enrollment.person_id == person.id, Enrollment.end_date.is_(None))
        ).all()
        for other in others:
            versioned_update(session, other, other.version, values, enrollment_values)
            ended.append(other.id)
        person.status = PERSON_ENDING_REASONS[reason]
    elif not session.scalar(
        select(Enrollment.id).where(Enrollment.person_id == person.id, Enrollment.end_date.is_(None)).limit(1)
    ):
        person.status = "exited"
    return ended


def exit_enrollment(
    session: Session,
    scope: Scope,
    *,
    enrollment_id: int,
    seen_version: int,
    reason: str,
    end_date: dt.date,
    note: str = "",
    permission: str = "enrollment.exit",
) -> Saved:
    """End an enrollment with a reason; death or moving away ends every enrollment of the person.

    A visit that finds the situation changed ends enrollments under ``permission="visit.record"``.
    """
    require(scope, permission)
    enrollment, person = _load(session, scope, enrollment_id)
    _check_exit(enrollment, reason, end_date, note)
    values = {"end_date": end_date, "exit_reason": reason, "exit_note": note.strip()[:200], "next_due_on": None}
    version = versioned_update(session, enrollment, seen_version, values, enrollment_values)
    ended = [enrollment_id, *_end_with_person(session, person, reason, values)]
    person.version += 1
    # Nobody stays responsible for an enrollment that has ended; the history keeps who was.
    session.execute(
        update(Assignment)
        .where(Assignment.enrollment_id.in_(ended), Assignment.end_date.is_(None))
        .values(end_date=end_date)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    if person.status in ("deceased", "moved"):
        # Gone from home: their membership ends (kept as history); the others' family rules change.
        membership.left_home(session, person, on=end_date)
    else:
        membership.refresh_family(session, [person.id])
    audit.record(
        session,
        scope=scope,
        action="enrollment.exit",
        entity="enrollment",
        entity_id=enrollment_id,
        detail={"reason": reason, "end_date": end_date.isoformat(), "ended": ended, "note": note[:200]},
    )
    return Saved(enrollment_id, version)

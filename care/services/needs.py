"""Needs and referrals (需求转介): raised from a visit or the person file, moved to resolved."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from care import audit
from care.domain import clock
from care.domain.errors import NotFound, StaleRecord, ValidationError
from care.domain.visits import CleanNeed, check_need, check_need_move, need_dates
from care.permissions import require
from care.queries.scoping import visible_person
from care.scope import Scope
from care.services.common import Saved, versioned_update
from db.models import Enrollment, Need


def add_need(
    session: Session,
    scope: Scope,
    *,
    person_id: int,
    enrollment_id: int | None,
    visit_id: int | None,
    need: CleanNeed,
    on: dt.date,
) -> Need:
    """Insert a checked need for a person already known to be in scope (callers check)."""
    row = Need(
        person_id=person_id,
        enrollment_id=enrollment_id,
        visit_id=visit_id,
        kind=need.kind,
        department=need.department,
        description=need.description,
        status="open",
        opened_on=on,
        created_by=scope.user_id,
        updated_by=scope.user_id,
        updated_at=clock.now(),
        version=1,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        scope=scope,
        action="need.create",
        entity="need",
        entity_id=row.id,
        detail={"person_id": person_id, "kind": need.kind, "department": need.department, "visit_id": visit_id},
    )
    return row


def raise_need(
    session: Session,
    scope: Scope,
    *,
    person_id: int,
    kind: str,
    department: str = "",
    description: str = "",
    enrollment_id: int | None = None,
) -> Saved:
    """Open a need for a person the user may see (from the person file or the needs page)."""
    require(scope, "need.create")
    person = visible_person(session, scope, person_id)
    if person is None:
        raise NotFound()
    if enrollment_id is not None:
        owner = session.scalar(select(Enrollment.person_id).where(Enrollment.id == enrollment_id))
        if owner != person.id:
            raise ValidationError("needs.bad_enrollment", field="enrollment_id")
    need = check_need(kind, department, description)
    row = add_need(
        session, scope, person_id=person.id, enrollment_id=enrollment_id, visit_id=None, need=need, on=clock.today()
    )
    return Saved(row.id, 1)


def need_values(need: Need) -> dict[str, Any]:
    """A need's status, department, dates and version (shown when a save meets a newer version)."""
    return {
        "need_status": need.status,
        "department": need.department,
        "in_progress_on": need.in_progress_on,
        "resolved_on": need.resolved_on,
        "version": need.version,
    }


def move_need(
    session: Session,
    scope: Scope,
    *,
    need_id: int,
    seen_version: int,
    status: str,
    department: str | None = None,
) -> Saved:
    """Move a need forward (open → in progress → resolved) on the version the user saw."""
    require(scope, "need.update")
    need = session.get(Need, need_id) if isinstance(need_id, int) else None
    if need is None or visible_person(session, scope, need.person_id) is None:
        raise NotFound()
    if need.version != seen_version:
        raise StaleRecord(need_values(need), seen=seen_version, now=need.version)
    check_need_move(need.status, status)
    old = need_values(need)
    values: dict[str, Any] = {"status": status, "updated_by": scope.user_id}
    values.update(need_dates(status, clock.today(), need.in_progress_on))
    if status == "resolved":
        values["resolved_by"] = scope.user_id
    if department is not None:
        values["department"] = check_need(need.kind, department, need.description).department
    version = versioned_update(session, need, seen_version, values, need_values)
    audit.record(
        session,
        scope=scope,
        action="need.update",
        entity="need",
        entity_id=need_id,
        detail={"old": old["need_status"], "new": status, "department": values.get("department", old["department"])},
    )
    return Saved(need_id, version)

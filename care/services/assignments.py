"""Service assignments (服务分配): who is responsible for which enrollment, from when to when.

An assignment is never edited in place: a change ends the current row (its worker stays in the
history) and starts a new one. Every change carries what the user saw as the current worker of
each enrollment, so two supervisors moving the same caseload at once cannot overwrite each other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from care import audit
from care.domain import clock, enums
from care.domain.errors import NotFound, StaleRecord, ValidationError
from care.permissions import require
from care.queries.scoping import person_conditions, visible_worker
from care.scope import Scope
from db.models import Assignment, Enrollment, Person, Worker

MAX_BULK = 20_000


def worker_in_scope(session: Session, scope: Scope, worker_id: int) -> Worker:
    """The worker if the user may see it; otherwise NotFound (missing and hidden look alike)."""
    worker = visible_worker(session, scope, worker_id)
    if worker is None:
        raise NotFound()
    return worker


def _current(session: Session, enrollment_ids: Sequence[int], today: dt.date) -> dict[int, Assignment]:
    rows = session.scalars(
        select(Assignment).where(
            Assignment.enrollment_id.in_(list(enrollment_ids)),
            Assignment.start_date <= today,
            Assignment.end_date.is_(None) | (Assignment.end_date >= today),
        )
    )
    return {a.enrollment_id: a for a in rows}


def _visible_enrollments(session: Session, scope: Scope, enrollment_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """Active enrollments among ``enrollment_ids`` that the user may see: id → (group, village)."""
    found: dict[int, tuple[str, str]] = {}
    ids = sorted({i for i in enrollment_ids if isinstance(i, int) and not isinstance(i, bool)})
    for start in range(0, len(ids), 900):
        batch = ids[start : start + 900]
        stmt = (
            select(Enrollment.id, Enrollment.group, Person.village_code)
            .join(Person, Person.id == Enrollment.person_id)
            .where(Enrollment.id.in_(batch), Enrollment.end_date.is_(None), *person_conditions(scope))
        )
        found.update({eid: (group, village) for eid, group, village in session.execute(stmt)})
    return found


def _end(session: Session, assignment: Assignment, today: dt.date) -> None:
    """Close a current assignment yesterday; one started today was a correction and goes."""
    if assignment.start_date >= today:
        session.execute(delete(Assignment).where(Assignment.id == assignment.id))
    else:
        assignment.end_date = today - dt.timedelta(days=1)


def _check_seen(current: Mapping[int, Assignment], seen: Mapping[int, int | None]) -> None:
    changed = [eid for eid, worker in seen.items() if (current[eid].worker_id if eid in current else None) != worker]
    if changed:
        raise StaleRecord({"enrollment_ids": changed}, seen=len(seen), now=len(seen) - len(changed))


def assign_worker(
    session: Session,
    scope: Scope,
    *,
    worker_id: int | None,
    seen: Mapping[int, int | None],
    reason: str = "",
) -> dict[str, Any]:
    """Make ``worker_id`` (None: nobody) responsible for each enrollment in ``seen`` from today.

    ``seen`` maps each enrollment id to the worker the user saw as responsible (None: nobody).
    Any enrollment whose worker changed since, or that the user may not see, refuses the whole
    change. Returns counts and warnings (e.g. a rehab coordinator given child enrollments).
    """
    require(scope, "assignment.edit")
    if not seen:
        raise ValidationError("assignment.none_selected", field="enrollments")
    if len(seen) > MAX_BULK:
        raise ValidationError("assignment.too_many", field="enrollments", limit=MAX_BULK)
    worker = worker_in_scope(session, scope, worker_id) if worker_id is not None else None
    if worker is not None and not worker.active:
        raise ValidationError("assignment.worker_inactive", field="worker", name=worker.name)
    visible = _visible_enrollments(session, scope, list(seen))
    if len(visible) != len(seen):
        raise NotFound()
    today = clock.today()
    current = _current(session, list(seen), today)
    _check_seen(current, seen)
    moved = 0
    for eid in sorted(seen):
        old = current.get(eid)
        if old is not None and worker is not None and old.worker_id == worker.id:
            continue
        if old is not None:
            _end(session, old, today)
        if worker is not None:
            session.add(Assignment(enrollment_id=eid, worker_id=worker.id, start_date=today, created_by=scope.user_id))
        moved += 1
    session.flush()
    outside = sorted(
        {g for g, _ in visible.values() if worker is not None and g not in enums.worker_groups(worker.kind)}
    )
    audit.record(
        session,
        scope=scope,
        action="assignment.change",
        entity="worker",
        entity_id=worker.id if worker else "",
        detail={
            "to_worker": worker.id if worker else None,
            "from_workers": sorted({w for w in seen.values() if w is not None}),
            "enrollments": sorted(seen)[:200],
            "count": moved,
            "reason": reason,
        },
    )
    warnings = [("assignment.outside_kind", {"name": worker.name, "groups": outside})] if worker and outside else []
    return {"moved": moved, "unchanged": len(seen) - moved, "warnings": warnings}


def move_caseload(
    session: Session,
    scope: Scope,
    *,
    from_worker_id: int,
    to_worker_id: int,
    seen: Mapping[int, int | None],
    reason: str = "",
) -> dict[str, Any]:
    """Move the chosen enrollments of one worker's caseload (all or part) to another worker."""
    require(scope, "assignment.edit")
    if from_worker_id == to_worker_id:
        raise ValidationError("assignment.same_worker", field="worker")
    worker_in_scope(session, scope, from_worker_id)
    if any(w != from_worker_id for w in seen.values()):
        raise StaleRecord({"enrollment_ids": [e for e, w in seen.items() if w != from_worker_id]})
    return assign_worker(session, scope, worker_id=to_worker_id, seen=seen, reason=reason)


def set_worker_active(session: Session, scope: Scope, *, worker_id: int, active: bool) -> None:
    """Mark a worker away or back; an inactive worker is offered no new assignments."""
    require(scope, "assignment.edit")
    worker = worker_in_scope(session, scope, worker_id)
    if worker.active == active:
        return
    worker.active = active
    session.flush()
    audit.record(
        session, scope=scope, action="worker.active", entity="worker", entity_id=worker.id, detail={"active": active}
    )

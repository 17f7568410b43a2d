"""Care plans (一人一案): drafted by the coordinator, approved or returned by the township supervisor.

Each enrollment has at most one plan in force (the newest approved revision) and at most one
revision under way (draft, submitted or returned). Approving a revision supersedes the plan in
force; every revision is kept. Every write is on the version the user saw, and audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from care import audit, i18n
from care.domain import clock, enums, ids, plans
from care.domain.errors import NotFound, StaleRecord, ValidationError
from care.domain.service_rules import provider_fits
from care.files.plan_pdf import PlanHeader, plan_pdf
from care.permissions import require
from care.queries.plans import assigned_enrollments, person_plans
from care.queries.scoping import visible_person
from care.queries.service_list import service_list
from care.scope import Scope
from care.services.common import Saved, versioned_update
from db.models import Area, CarePlan, Enrollment, PlanService, Provider

UNDER_WAY = ("draft", "submitted", "returned")


@dataclass(frozen=True)
class PlannedService:
    """A service in the plan as the form gives it."""

    service_code: str
    times: int
    period: str
    provider_id: int | None = None
    note: str = ""


def plan_values(plan: CarePlan) -> dict[str, Any]:
    """A plan's editable values and status (what a stale save shows)."""
    return {
        "status": plan.status,
        "goals": plan.goals,
        "review_on": plan.review_on,
        "return_reason": plan.return_reason,
        "items": [
            {"service_code": i.service_code, "times": i.times, "period": i.period, "provider_id": i.provider_id}
            for i in plan.items
        ],
    }


def _enrollment(session: Session, scope: Scope, enrollment_id: int) -> Enrollment:
    if not isinstance(enrollment_id, int) or isinstance(enrollment_id, bool):
        raise NotFound()
    enrollment = session.get(Enrollment, enrollment_id)
    if enrollment is None or visible_person(session, scope, enrollment.person_id) is None:
        raise NotFound()
    if scope.assigned_only and enrollment.id not in assigned_enrollments(session, scope, [enrollment.id]):
        raise NotFound()
    return enrollment


def _plan(session: Session, scope: Scope, plan_id: int) -> tuple[CarePlan, Enrollment]:
    if not isinstance(plan_id, int) or isinstance(plan_id, bool):
        raise NotFound()
    plan = session.get(CarePlan, plan_id)
    if plan is None:
        raise NotFound()
    return plan, _enrollment(session, scope, plan.enrollment_id)


def _check_goals(goals: str) -> str:
    text = "\n".join(" ".join(line.split()) for line in str(goals or "").strip().splitlines()).strip()
    if not text:
        raise ValidationError("plan.error.goals_required", field="goals")
    if len(text) > plans.GOALS_MAX:
        raise ValidationError("plan.error.too_long", field="goals", limit=plans.GOALS_MAX)
    return text


def _check_review(review_on: Any, today: dt.date) -> dt.date:
    if not isinstance(review_on, dt.date) or isinstance(review_on, dt.datetime):
        raise ValidationError("plan.error.review_date", field="review_on", latest=plans.latest_review(today))
    if not today < review_on <= plans.latest_review(today):
        raise ValidationError("plan.error.review_date", field="review_on", latest=plans.latest_review(today))
    return review_on


def _check_items(
    session: Session, enrollment: Enrollment, person_village: str, items: Sequence[PlannedService], today: dt.date
) -> list[dict[str, Any]]:
    """Each planned service on the county's list today for the enrollment's group, once, with a
    frequency in range and, when named, an active provider of that service reaching the person."""
    if not items:
        raise ValidationError("plan.error.no_services", field="items")
    offered = {
        row.code: row for row in service_list(session, today, enrollment.county_code) if row.group == enrollment.group
    }
    seen: set[str] = set()
    clean = []
    for item in items:
        row = offered.get(item.service_code)
        if row is None:
            raise ValidationError("plan.error.service", field="items", code=str(item.service_code))
        if item.service_code in seen:
            raise ValidationError("plan.error.duplicate", field="items", name=row.name)
        seen.add(item.service_code)
        if not isinstance(item.times, int) or isinstance(item.times, bool) or not 1 <= item.times <= 31:
            raise ValidationError("plan.error.times", field="items", name=row.name)
        enums.check("period", item.period, enums.SERVICE_PERIODS)
        note = " ".join(str(item.note or "").split())
        if len(note) > plans.NOTE_MAX:
            raise ValidationError("plan.error.too_long", field="items", limit=plans.NOTE_MAX)
        if item.provider_id is not None:
            provider = session.get(Provider, item.provider_id) if isinstance(item.provider_id, int) else None
            if provider is None or not provider_fits(provider, item.service_code, row.provider_kinds, person_village):
                raise ValidationError("plan.error.provider", field="items", name=row.name)
        clean.append(
            {
                "service_code": item.service_code,
                "times": item.times,
                "period": item.period,
                "provider_id": item.provider_id,
                "note": note,
            }
        )
    return clean


def _new_revision(
    session: Session, scope: Scope, enrollment: Enrollment, *, goals: str, review_on: dt.date
) -> CarePlan:
    """A new draft revision of the enrollment's plan; refused while another one is under way."""
    now = clock.now()
    pending = session.scalar(
        select(CarePlan.id).where(CarePlan.enrollment_id == enrollment.id, CarePlan.status.in_(UNDER_WAY))
    )
    if pending is not None:
        raise ValidationError("plan.error.pending", field="plan")
    revision = (
        session.scalar(select(func.max(CarePlan.revision)).where(CarePlan.enrollment_id == enrollment.id)) or 0
    ) + 1
    plan = CarePlan(
        enrollment_id=enrollment.id,
        person_id=enrollment.person_id,
        revision=revision,
        status="draft",
        goals=goals,
        review_on=review_on,
        drafted_by=scope.user_id,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(plan)
    session.flush()
    return plan


def _redraft(
    session: Session,
    scope: Scope,
    enrollment: Enrollment,
    *,
    plan_id: int,
    seen_version: int,
    goals: str,
    review_on: dt.date,
) -> tuple[CarePlan, dict[str, Any], int]:
    """The draft or returned plan changed on the version seen, its services cleared; with its old values and version."""
    plan, found = _plan(session, scope, plan_id)
    if found.id != enrollment.id:
        raise NotFound()
    if plan.version != seen_version:
        raise StaleRecord(plan_values(plan), seen=seen_version, now=plan.version)
    if plan.status not in ("draft", "returned"):
        raise ValidationError("plan.error.not_editable", field="plan")
    old = plan_values(plan)
    version = versioned_update(
        session,
        plan,
        seen_version,
        {"goals": goals, "review_on": review_on, "status": "draft", "drafted_by": scope.user_id},
        plan_values,
    )
    for item in list(session.scalars(select(PlanService).where(PlanService.plan_id == plan.id))):
        session.delete(item)
    return plan, old, version


def save_draft(
    session: Session,
    scope: Scope,
    *,
    enrollment_id: int,
    goals: str,
    review_on: dt.date,
    items: Sequence[PlannedService],
    plan_id: int | None = None,
    seen_version: int = 0,
    today: dt.date | None = None,
) -> Saved:
    """Start a revision (``plan_id`` None) or change the draft or returned one, on the version seen."""
    require(scope, "plan.draft")
    today = today or clock.today()
    enrollment = _enrollment(session, scope, enrollment_id)
    if enrollment.end_date is not None:
        raise ValidationError("plan.error.enrollment_ended", field="enrollment_id")
    person = visible_person(session, scope, enrollment.person_id)
    assert person is not None  # checked by _enrollment
    text = _check_goals(goals)
    review = _check_review(review_on, today)
    clean = _check_items(session, enrollment, person.village_code, items, today)
    if plan_id is None:
        plan = _new_revision(session, scope, enrollment, goals=text, review_on=review)
        old: dict[str, Any] = {}
        version = 1
    else:
        plan, old, version = _redraft(
            session, scope, enrollment, plan_id=plan_id, seen_version=seen_version, goals=text, review_on=review
        )
    session.add_all(PlanService(plan_id=plan.id, **item) for item in clean)
    session.flush()
    session.expire(plan, ["items"])
    audit.record(
        session,
        scope=scope,
        action="plan.draft",
        entity="plan",
        entity_id=plan.id,
        detail={
            "enrollment_id": enrollment.id,
            "revision": plan.revision,
            "old": _jsonable(old),
            "new": {"goals": text, "review_on": review.isoformat(), "items": clean},
        },
    )
    return Saved(plan.id, version)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()}


def _decide(
    session: Session, scope: Scope, plan_id: int, seen_version: int, *, want: tuple[str, ...]
) -> tuple[CarePlan, Enrollment]:
    plan, enrollment = _plan(session, scope, plan_id)
    if plan.version != seen_version:
        raise StaleRecord(plan_values(plan), seen=seen_version, now=plan.version)
    if plan.status not in want:
        raise ValidationError("plan.error.wrong_status", field="plan", status=plan.status)
    return plan, enrollment


def submit_plan(session: Session, scope: Scope, *, plan_id: int, seen_version: int) -> Saved:
    """Send a draft (or a returned plan, once changed) to the township supervisor."""
    require(scope, "plan.draft")
    plan, _ = _decide(session, scope, plan_id, seen_version, want=("draft",))
    version = versioned_update(
        session, plan, seen_version, {"status": "submitted", "submitted_at": clock.now()}, plan_values
    )
    audit.record(session, scope=scope, action="plan.submit", entity="plan", entity_id=plan_id, detail={})
    return Saved(plan_id, version)


def approve_plan(
    session: Session, scope: Scope, *, plan_id: int, seen_version: int, today: dt.date | None = None
) -> Saved:
    """Approve a submitted plan: it is in force from now, and the one before it is superseded.

    Nobody approves a plan they drafted; the review date must still be ahead and within six months.
    """
    require(scope, "plan.approve")
    today = today or clock.today()
    plan, enrollment = _decide(session, scope, plan_id, seen_version, want=("submitted",))
    if plan.drafted_by is not None and plan.drafted_by == scope.user_id:
        raise ValidationError("plan.error.own_plan", field="plan")
    if enrollment.end_date is not None:
        raise ValidationError("plan.error.enrollment_ended", field="enrollment_id")
    _check_review(plan.review_on, today)
    before = session.scalars(
        select(CarePlan).where(CarePlan.enrollment_id == enrollment.id, CarePlan.status == "approved")
    ).all()
    for old in before:
        versioned_update(session, old, old.version, {"status": "superseded"}, plan_values)
    version = versioned_update(
        session,
        plan,
        seen_version,
        {
            "status": "approved",
            "decided_by": scope.user_id,
            "decided_at": clock.now(),
            "risk_at_approval": enrollment.risk,
            "return_reason": "",
        },
        plan_values,
    )
    audit.record(
        session,
        scope=scope,
        action="plan.approve",
        entity="plan",
        entity_id=plan_id,
        detail={"superseded": [p.id for p in before], "risk": enrollment.risk},
    )
    return Saved(plan_id, version)


def return_plan(session: Session, scope: Scope, *, plan_id: int, seen_version: int, reason: str) -> Saved:
    """Send a submitted plan back to the coordinator with the reason."""
    require(scope, "plan.approve")
    text = " ".join(str(reason or "").split())
    if not text:
        raise ValidationError("plan.error.reason_required", field="reason")
    if len(text) > plans.REASON_MAX:
        raise ValidationError("plan.error.too_long", field="reason", limit=plans.REASON_MAX)
    plan, _ = _decide(session, scope, plan_id, seen_version, want=("submitted",))
    version = versioned_update(
        session,
        plan,
        seen_version,
        {"status": "returned", "return_reason": text, "decided_by": scope.user_id, "decided_at": clock.now()},
        plan_values,
    )
    audit.record(session, scope=scope, action="plan.return", entity="plan", entity_id=plan_id, detail={"reason": text})
    return Saved(plan_id, version)


def print_plan(session: Session, scope: Scope, *, plan_id: int, lang: str, today: dt.date | None = None) -> bytes:
    """The plan as a PDF (the ID number masked), its printing audited with the file's hash."""
    import hashlib

    today = today or clock.today()
    plan, enrollment = _plan(session, scope, plan_id)
    person = visible_person(session, scope, enrollment.person_id)
    if person is None:
        raise NotFound()
    found = person_plans(session, scope, person.id, today)
    view = next(
        (v for s in found.plans for v in (s.current, s.pending) if v is not None and v.id == plan.id),
        None,
    )
    if view is None:
        raise NotFound()
    village = session.get(Area, person.village_code)
    header = PlanHeader(
        name=person.name,
        id_masked=ids.mask_id_number(person.id_number),
        village=village.name if village else person.village_code,
        group=i18n.t(f"enum.group.{enrollment.group}", lang),
        risk=i18n.t(f"enum.risk.{enrollment.risk}", lang),
        printed_by=scope.username,
        printed_at=clock.now().strftime("%Y-%m-%d %H:%M"),
    )
    data = plan_pdf(view, header, lang)
    audit.record(
        session,
        scope=scope,
        action="plan.print",
        entity="plan",
        entity_id=plan.id,
        detail={"person_id": person.id, "revision": plan.revision, "sha256": hashlib.sha256(data).hexdigest()},
    )
    return data

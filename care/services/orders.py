"""Service orders (上门式、订单式服务): raised, assigned to a provider, scheduled, delivered or declined.

An order is raised from a visit, a need, the care plan, or a request taken by phone from the
family, for a service on the county's list for one of the person's active enrollments. Every
move is on the version the user saw and audited; delivering an order raised from a need resolves
the need in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from care import audit
from care.domain import clock, enums, plans
from care.domain.errors import NotFound, StaleRecord, ValidationError
from care.domain.service_rules import provider_fits
from care.permissions import require
from care.queries.plans import assigned_enrollments
from care.queries.scoping import visible_person
from care.queries.service_list import ServiceRow, service_list
from care.scope import Scope
from care.services.common import Saved, versioned_update
from care.services.needs import move_need
from db.models import CarePlan, Enrollment, Need, Person, PlanService, Provider, ServiceOrder, Visit

TOKEN_MAX = 64
WHO_MAX = 64


@dataclass(frozen=True)
class OrderInput:
    """An order as the form gives it; ``source`` says which of the links must be set."""

    service_code: str
    source: str
    enrollment_id: int | None = None
    visit_id: int | None = None
    need_id: int | None = None
    plan_id: int | None = None
    requested_by: str = ""
    due_on: dt.date | None = None
    provider_id: int | None = None
    note: str = ""


def order_values(order: ServiceOrder) -> dict[str, Any]:
    """An order's state (what a stale save shows)."""
    return {
        "status": order.status,
        "provider_id": order.provider_id,
        "scheduled_on": order.scheduled_on,
        "delivered_on": order.delivered_on,
        "delivered_by": order.delivered_by,
        "minutes": order.minutes,
        "satisfaction": order.satisfaction,
        "decline_reason": order.decline_reason,
        "note": order.note,
    }


def _text(value: Any, limit: int, field: str) -> str:
    text = " ".join(str(value or "").split())
    if len(text) > limit:
        raise ValidationError("order.error.too_long", field=field, limit=limit)
    return text


def _enrollment_for(session: Session, person: Person, group: str, enrollment_id: int | None) -> Enrollment:
    stmt = select(Enrollment).where(
        Enrollment.person_id == person.id, Enrollment.group == group, Enrollment.end_date.is_(None)
    )
    if enrollment_id is not None:
        stmt = stmt.where(Enrollment.id == enrollment_id)
    found = session.scalars(stmt.order_by(Enrollment.id)).first()
    if found is None:
        raise ValidationError("order.error.group", field="service_code")
    return found


def _provider(session: Session, provider_id: int | None, code: str, kinds: tuple[str, ...], village: str) -> int | None:
    if provider_id is None:
        return None
    provider = session.get(Provider, provider_id) if isinstance(provider_id, int) else None
    if provider is None or not provider_fits(provider, code, kinds, village):
        raise ValidationError("order.error.provider", field="provider_id")
    return provider.id


def _check_source(session: Session, person: Person, enrollment: Enrollment, values: OrderInput) -> dict[str, Any]:
    """The one link the source names, belonging to this person (and, for a plan, planning the service)."""
    enums.check("source", values.source, enums.ORDER_SOURCES)
    links: dict[str, Any] = {"visit_id": None, "need_id": None, "plan_id": None, "requested_by": ""}
    if values.source == "visit":
        visit = session.get(Visit, values.visit_id) if isinstance(values.visit_id, int) else None
        if visit is None or visit.person_id != person.id:
            raise ValidationError("order.error.source", field="visit_id")
        links["visit_id"] = visit.id
    elif values.source == "need":
        need = session.get(Need, values.need_id) if isinstance(values.need_id, int) else None
        if need is None or need.person_id != person.id or need.status == "resolved":
            raise ValidationError("order.error.source", field="need_id")
        links["need_id"] = need.id
    elif values.source == "plan":
        plan = session.get(CarePlan, values.plan_id) if isinstance(values.plan_id, int) else None
        planned = (
            session.scalar(
                select(PlanService.id).where(
                    PlanService.plan_id == plan.id, PlanService.service_code == values.service_code
                )
            )
            if plan is not None
            else None
        )
        if plan is None or plan.enrollment_id != enrollment.id or plan.status != "approved" or planned is None:
            raise ValidationError("order.error.source", field="plan_id")
        links["plan_id"] = plan.id
    else:
        who = _text(values.requested_by, WHO_MAX, "requested_by")
        if not who:
            raise ValidationError("order.error.caller", field="requested_by")
        links["requested_by"] = who
    return links


def _replayed_order(session: Session, scope: Scope, *, person_id: int, client_token: str) -> Saved | None:
    """The order already raised with this token for this person, or None; a bad token or another person's is refused."""
    if not isinstance(client_token, str) or not client_token or len(client_token) > TOKEN_MAX:
        raise ValidationError("visit.bad_token", field="client_token")
    earlier = session.scalar(select(ServiceOrder).where(ServiceOrder.client_token == client_token))
    if earlier is None:
        return None
    if earlier.person_id != person_id or visible_person(session, scope, person_id) is None:
        raise NotFound()
    return Saved(earlier.id, earlier.version)


def _service_and_enrollment(
    session: Session, scope: Scope, person: Person, values: OrderInput, today: dt.date
) -> tuple[ServiceRow, Enrollment]:
    """The county's service in force that the order asks for, and the enrollment it is raised under."""
    row = next((r for r in service_list(session, today, person.county_code) if r.code == values.service_code), None)
    if row is None:
        raise ValidationError("order.error.service", field="service_code", code=str(values.service_code))
    enrollment = _enrollment_for(session, person, row.group, values.enrollment_id)
    if scope.assigned_only and enrollment.id not in assigned_enrollments(session, scope, [enrollment.id]):
        raise NotFound()
    return row, enrollment


def _due_on(values: OrderInput, today: dt.date) -> dt.date:
    """The day the order is due: the one given, else the default span from today; never in the past."""
    due = values.due_on or today + dt.timedelta(days=plans.ORDER_DUE_DAYS)
    if not isinstance(due, dt.date) or isinstance(due, dt.datetime) or due < today:
        raise ValidationError("order.error.due", field="due_on")
    return due


def _new_order(
    scope: Scope,
    person: Person,
    enrollment: Enrollment,
    row: ServiceRow,
    values: OrderInput,
    *,
    links: dict[str, Any],
    provider: int | None,
    today: dt.date,
    due: dt.date,
    client_token: str | None,
) -> ServiceOrder:
    """A new order, assigned when a provider is given and open otherwise, not yet added to the session."""
    now = clock.now()
    return ServiceOrder(
        person_id=person.id,
        enrollment_id=enrollment.id,
        service_code=row.code,
        source=values.source,
        **links,
        provider_id=provider,
        status="assigned" if provider else "open",
        requested_on=today,
        due_on=due,
        note=_text(values.note, 1000, "note"),
        client_token=client_token,
        created_by=scope.user_id,
        updated_by=scope.user_id,
        version=1,
        created_at=now,
        updated_at=now,
    )


def _audit_order(
    session: Session,
    scope: Scope,
    order: ServiceOrder,
    person: Person,
    row: ServiceRow,
    values: OrderInput,
    *,
    links: dict[str, Any],
    provider: int | None,
    due: dt.date,
) -> None:
    """Audit a raised order with its person, service, source, links, provider and due day."""
    audit.record(
        session,
        scope=scope,
        action="order.create",
        entity="order",
        entity_id=order.id,
        detail={
            "person_id": person.id,
            "service": row.code,
            "source": values.source,
            **{k: v for k, v in links.items() if v},
            "provider_id": provider,
            "due_on": due.isoformat(),
        },
    )


def raise_order(
    session: Session,
    scope: Scope,
    *,
    person_id: int,
    values: OrderInput,
    client_token: str | None = None,
    today: dt.date | None = None,
) -> Saved:
    """Raise an order for a person the user may see; a second call with the same token writes nothing."""
    require(scope, "order.create")
    today = today or clock.today()
    if client_token is not None:
        replayed = _replayed_order(session, scope, person_id=person_id, client_token=client_token)
        if replayed is not None:
            return replayed
    person = visible_person(session, scope, person_id)
    if person is None:
        raise NotFound()
    row, enrollment = _service_and_enrollment(session, scope, person, values, today)
    links = _check_source(session, person, enrollment, values)
    due = _due_on(values, today)
    provider = _provider(session, values.provider_id, row.code, row.provider_kinds, person.village_code)
    order = _new_order(
        scope,
        person,
        enrollment,
        row,
        values,
        links=links,
        provider=provider,
        today=today,
        due=due,
        client_token=client_token,
    )
    try:
        with session.begin_nested():
            session.add(order)
            session.flush()
    except IntegrityError:
        earlier = session.scalar(select(ServiceOrder).where(ServiceOrder.client_token == client_token))
        if earlier is None:
            raise
        return Saved(earlier.id, earlier.version)
    _audit_order(session, scope, order, person, row, values, links=links, provider=provider, due=due)
    return Saved(order.id, 1)


@dataclass(frozen=True)
class OrderMove:
    """What a move of an order sets: the new status and the facts that status needs."""

    status: str
    provider_id: int | None = None
    scheduled_on: dt.date | None = None
    delivered_on: dt.date | None = None
    delivered_by: str = ""
    minutes: int | None = None
    satisfaction: str | None = None
    reason: str = ""
    note: str | None = None


def _move_fields(
    session: Session, order: ServiceOrder, person: Person, move: OrderMove, today: dt.date
) -> dict[str, Any]:
    if not plans.can_move(order.status, move.status):
        raise ValidationError("order.error.move", field="status", status=order.status, target=move.status)
    fields: dict[str, Any] = {"status": move.status}
    if move.note is not None:
        fields["note"] = _text(move.note, 1000, "note")
    row = next(
        (r for r in service_list(session, order.requested_on, person.county_code) if r.code == order.service_code), None
    )
    kinds = row.provider_kinds if row is not None else tuple(enums.PROVIDER_KINDS)
    if move.status in ("assigned", "scheduled", "delivered"):
        provider = move.provider_id if move.provider_id is not None else order.provider_id
        if move.status == "assigned" and provider is None:
            raise ValidationError("order.error.provider", field="provider_id")
        if provider != order.provider_id:
            fields["provider_id"] = _provider(session, provider, order.service_code, kinds, person.village_code)
    if move.status == "scheduled":
        if not isinstance(move.scheduled_on, dt.date) or move.scheduled_on < order.requested_on:
            raise ValidationError("order.error.scheduled", field="scheduled_on")
        fields["scheduled_on"] = move.scheduled_on
    elif move.status == "delivered":
        day = move.delivered_on
        if not isinstance(day, dt.date) or day > today or day < order.requested_on:
            raise ValidationError("order.error.delivered_on", field="delivered_on")
        who = _text(move.delivered_by, WHO_MAX, "delivered_by")
        if not who:
            raise ValidationError("order.error.delivered_by", field="delivered_by")
        if move.minutes is not None and (
            not isinstance(move.minutes, int) or isinstance(move.minutes, bool) or not 1 <= move.minutes <= 1440
        ):
            raise ValidationError("order.error.minutes", field="minutes")
        if move.satisfaction is not None:
            enums.check("satisfaction", move.satisfaction, enums.SATISFACTION)
        fields.update(delivered_on=day, delivered_by=who, minutes=move.minutes, satisfaction=move.satisfaction)
    elif move.status in ("declined", "cancelled"):
        reason = _text(move.reason, 200, "reason")
        if not reason:
            raise ValidationError("order.error.reason", field="reason")
        fields["decline_reason"] = reason
    return fields


def move_order(
    session: Session,
    scope: Scope,
    *,
    order_id: int,
    seen_version: int,
    move: OrderMove,
    today: dt.date | None = None,
) -> Saved:
    """Assign, schedule, deliver, decline or cancel an order, on the version the user saw."""
    require(scope, "order.update")
    today = today or clock.today()
    order = session.get(ServiceOrder, order_id) if isinstance(order_id, int) else None
    person = visible_person(session, scope, order.person_id) if order is not None else None
    if order is None or person is None:
        raise NotFound()
    if (
        scope.assigned_only
        and order.enrollment_id is not None
        and order.enrollment_id not in assigned_enrollments(session, scope, [order.enrollment_id])
    ):
        raise NotFound()
    if order.version != seen_version:
        raise StaleRecord(order_values(order), seen=seen_version, now=order.version)
    fields = _move_fields(session, order, person, move, today)
    old = order_values(order)
    fields["updated_by"] = scope.user_id
    version = versioned_update(session, order, seen_version, fields, order_values)
    resolved = None
    if move.status == "delivered" and order.need_id is not None:
        resolved = _resolve_need(session, scope, order.need_id)
    audit.record(
        session,
        scope=scope,
        action="order.move",
        entity="order",
        entity_id=order_id,
        detail={
            "old": old["status"],
            "new": move.status,
            "changes": {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in fields.items()},
            "need_resolved": resolved,
        },
    )
    return Saved(order_id, version)


def _resolve_need(session: Session, scope: Scope, need_id: int) -> int | None:
    """Resolve the need an order was raised from (through its own steps), unless it already is."""
    need = session.get(Need, need_id)
    if need is None or need.status == "resolved" or not scope.can("need.update"):
        return None
    if need.status == "open":
        move_need(session, scope, need_id=need.id, seen_version=need.version, status="in_progress")
        session.refresh(need)
    move_need(session, scope, need_id=need.id, seen_version=need.version, status="resolved")
    return need.id

"""A person's timeline (the person file): visits, needs raised and resolved, services ordered and
delivered, care plans decided and risk level changes, newest first, as coded rows the page labels."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from care.queries.scoping import person_conditions
from care.queries.service_list import service_names
from care.scope import Scope
from db.models import CarePlan, Need, Person, Provider, RiskChange, ServiceOrder, Visit, Worker

# What a row is: each kind is labelled by the catalog (timeline.kind.<kind>).
KINDS = ("visit", "need", "need_resolved", "order", "delivered", "plan", "risk")


@dataclass(frozen=True)
class Event:
    """One dated event: its kind, the coded facts the page words, and its free text (as typed)."""

    day: dt.date
    kind: str
    codes: tuple[str | None, ...]
    text: str = ""


def person_timeline(session: Session, scope: Scope, person_id: int, today: dt.date, *, limit: int = 300) -> list[Event]:
    """Every event of a person the user may see, newest first (nothing for anyone else)."""
    visible = session.scalar(select(Person.id).where(Person.id == person_id, *person_conditions(scope)))
    if visible is None:
        return []
    events: list[Event] = []
    for at, status, mode, worker in session.execute(
        select(Visit.visited_at, Visit.status, Visit.mode, Worker.name)
        .outerjoin(Worker, Worker.id == Visit.worker_id)
        .where(Visit.person_id == person_id, Visit.visited_at.is_not(None), Visit.status != "planned")
    ):
        if at is not None:
            events.append(Event(at.date(), "visit", (status, mode), worker or ""))
    for kind, status, opened, resolved, text in session.execute(
        select(Need.kind, Need.status, Need.opened_on, Need.resolved_on, Need.description).where(
            Need.person_id == person_id
        )
    ):
        events.append(Event(opened, "need", (kind,), text or ""))
        if status == "resolved" and resolved is not None:
            events.append(Event(resolved, "need_resolved", (kind,), text or ""))
    names = service_names(session, today, scope.prefix or "")
    for code, status, requested, delivered, provider, source in session.execute(
        select(
            ServiceOrder.service_code,
            ServiceOrder.status,
            ServiceOrder.requested_on,
            ServiceOrder.delivered_on,
            Provider.name,
            ServiceOrder.source,
        )
        .outerjoin(Provider, Provider.id == ServiceOrder.provider_id)
        .where(ServiceOrder.person_id == person_id)
    ):
        name = names.get(code, code)
        if source != "import":
            events.append(Event(requested, "order", (source,), name))
        if status == "delivered" and delivered is not None:
            events.append(Event(delivered, "delivered", (), f"{name}" + (f" · {provider}" if provider else "")))
    for decided, status, revision in session.execute(
        select(CarePlan.decided_at, CarePlan.status, CarePlan.revision).where(
            CarePlan.person_id == person_id, CarePlan.decided_at.is_not(None)
        )
    ):
        if decided is not None:
            shown = "approved" if status in ("approved", "superseded") else status
            events.append(Event(decided.date(), "plan", (shown, str(revision)), ""))
    for day, old, new, cause in session.execute(
        select(RiskChange.day, RiskChange.old, RiskChange.new, RiskChange.cause).where(
            RiskChange.person_id == person_id
        )
    ):
        events.append(Event(day, "risk", (old, new, cause), ""))
    events.sort(key=lambda e: (e.day, KINDS.index(e.kind)), reverse=True)
    return events[:limit]

"""Reads for the county's basic service list, its providers and the pairings (结对帮扶)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from care.domain import areas, ids
from care.domain.service_rules import Eligibility, EnrollmentFacts
from care.queries.scoping import person_conditions
from care.scope import Scope
from db.models import (
    Area,
    ChildDetails,
    DisabledDetails,
    ElderlyDetails,
    Enrollment,
    Pairing,
    Person,
    Provider,
    ServiceItem,
)


@dataclass(frozen=True)
class ServiceRow:
    """One service as the list shows it on a day, with the version to edit it from."""

    id: int
    code: str
    name: str
    group: str
    provider_kinds: tuple[str, ...]
    times: int
    period: str
    eligibility: Eligibility
    note: str
    valid_from: dt.date
    valid_to: dt.date | None
    version: int


def _row(item: ServiceItem) -> ServiceRow:
    return ServiceRow(
        id=item.id,
        code=item.code,
        name=item.name,
        group=item.group,
        provider_kinds=tuple(item.provider_kinds or ()),
        times=item.times,
        period=item.period,
        eligibility=Eligibility.from_json(item.eligibility),
        note=item.note,
        valid_from=item.valid_from,
        valid_to=item.valid_to,
        version=item.version,
    )


def service_list(session: Session, day: dt.date, county_code: str | None) -> list[ServiceRow]:
    """The county's services in force on ``day``, by group and name (none without a county)."""
    stmt = (
        select(ServiceItem)
        .where(
            ServiceItem.county_code == (county_code or ""),
            ServiceItem.valid_from <= day,
            or_(ServiceItem.valid_to.is_(None), ServiceItem.valid_to >= day),
        )
        .order_by(ServiceItem.group, ServiceItem.code)
    )
    return [_row(item) for item in session.scalars(stmt)]


def service_names(session: Session, day: dt.date, prefix: str) -> dict[str, str]:
    """Service code → name on ``day`` in the counties of an area (a county's own name where two differ)."""
    low, high = areas.prefix_bounds(prefix[:6])
    stmt = (
        select(ServiceItem.code, ServiceItem.name)
        .where(
            ServiceItem.county_code >= low,
            ServiceItem.county_code < high,
            ServiceItem.valid_from <= day,
            or_(ServiceItem.valid_to.is_(None), ServiceItem.valid_to >= day),
        )
        .order_by(ServiceItem.county_code.desc())
    )
    return dict(session.execute(stmt).tuples().all())


def latest_services(session: Session, county_code: str | None) -> list[ServiceRow]:
    """Each service's newest version (in force, scheduled or ended): what an edit starts from."""
    newest: dict[str, ServiceRow] = {}
    stmt = select(ServiceItem).where(ServiceItem.county_code == (county_code or "")).order_by(ServiceItem.valid_from)
    for item in session.scalars(stmt):
        newest[item.code] = _row(item)
    return sorted(newest.values(), key=lambda r: (r.group, r.code))


def service_history(session: Session, code: str, county_code: str | None) -> list[ServiceRow]:
    """Every version of one of the county's services, oldest first."""
    stmt = (
        select(ServiceItem)
        .where(ServiceItem.county_code == (county_code or ""), ServiceItem.code == code)
        .order_by(ServiceItem.valid_from)
    )
    return [_row(item) for item in session.scalars(stmt)]


def enrollment_facts(session: Session, scope: Scope, group: str, day: dt.date) -> list[tuple[EnrollmentFacts, int]]:
    """Every active enrollment of ``group`` the user may see, with what eligibility is decided on, and its person."""
    stmt = (
        select(
            Enrollment.id,
            Enrollment.subtype,
            Enrollment.risk,
            Person.id,
            Person.birth_date,
            ChildDetails.guardianship,
            ElderlyDetails.self_care,
            ElderlyDetails.living_arrangement,
            DisabledDetails.category,
            DisabledDetails.grade,
        )
        .join(Person, Person.id == Enrollment.person_id)
        .outerjoin(ChildDetails, ChildDetails.enrollment_id == Enrollment.id)
        .outerjoin(ElderlyDetails, ElderlyDetails.enrollment_id == Enrollment.id)
        .outerjoin(DisabledDetails, DisabledDetails.enrollment_id == Enrollment.id)
        .where(Enrollment.group == group, Enrollment.end_date.is_(None), *person_conditions(scope))
    )
    return [
        (
            EnrollmentFacts(eid, group, subtype, risk, ids.age_on(born, day), guard, care, living, category, grade),
            pid,
        )
        for eid, subtype, risk, pid, born, guard, care, living, category, grade in session.execute(stmt)
    ]


def providers(session: Session, scope: Scope, *, active_only: bool = False) -> pd.DataFrame:
    """Providers whose area is inside the user's, or above it (a county department serves every township)."""
    stmt = (
        select(Provider, Area.name).join(Area, Area.code == Provider.area_code).order_by(Provider.kind, Provider.name)
    )
    if active_only:
        stmt = stmt.where(Provider.active.is_(True))
    rows = [
        {
            "id": p.id,
            "kind": p.kind,
            "name": p.name,
            "area_code": p.area_code,
            "area": area,
            "phone": p.phone,
            "services": tuple(p.services or ()),
            "note": p.note,
            "active": p.active,
            "version": p.version,
        }
        for p, area in session.execute(stmt)
        if scope.covers(p.area_code) or _above(scope, p.area_code)
    ]
    columns = ["id", "kind", "name", "area_code", "area", "phone", "services", "note", "active", "version"]
    return pd.DataFrame(rows, columns=columns)


def _above(scope: Scope, area_code: str) -> bool:
    """Whether ``area_code`` contains the user's own area (a county provider seen from a township)."""
    return not scope.sees_nothing and areas.contains(area_code, scope.area_code or "")


def pairings(session: Session, scope: Scope, day: dt.date, *, current_only: bool = True) -> pd.DataFrame:
    """Pairings of persons the user may see: who with whom, since when, until when."""
    stmt = (
        select(Pairing, Provider.name, Provider.kind, Person.name, Person.village_code, Area.name)
        .join(Provider, Provider.id == Pairing.provider_id)
        .join(Person, Person.id == Pairing.person_id)
        .join(Area, Area.code == Person.village_code)
        .where(*person_conditions(scope))
        .order_by(Person.village_code, Person.name, Pairing.start_date)
    )
    if current_only:
        stmt = stmt.where(or_(Pairing.end_date.is_(None), Pairing.end_date >= day))
    rows = [
        {
            "id": pairing.id,
            "person_id": pairing.person_id,
            "person": person,
            "village": village,
            "provider_id": pairing.provider_id,
            "provider": provider,
            "provider_kind": kind,
            "start_date": pairing.start_date,
            "end_date": pairing.end_date,
            "note": pairing.note,
            "version": pairing.version,
        }
        for pairing, provider, kind, person, _, village in session.execute(stmt)
    ]
    columns = [
        "id",
        "person_id",
        "person",
        "village",
        "provider_id",
        "provider",
        "provider_kind",
        "start_date",
        "end_date",
        "note",
        "version",
    ]
    return pd.DataFrame(rows, columns=columns)


def pairable_persons(session: Session, scope: Scope, text: str, limit: int = 50) -> list[tuple[int, str]]:
    """Persons on a register the user may see whose name contains ``text``: (id, 'name · village')."""
    needle = text.strip()
    if not needle:
        return []
    stmt = (
        select(Person.id, Person.name, Area.name)
        .join(Area, Area.code == Person.village_code)
        .where(
            Person.name.contains(needle, autoescape=True),
            Person.id.in_(select(Enrollment.person_id).where(Enrollment.end_date.is_(None))),
            *person_conditions(scope),
        )
        .order_by(Person.name, Person.id)
        .limit(limit)
    )
    return [(pid, f"{name} · {village}") for pid, name, village in session.execute(stmt)]

"""The county's basic service list (基本服务清单) with its dynamic adjustment, providers and pairings.

A change to a service takes effect on a chosen day (today or later): the row in force is closed
the day before and a new one opens, so the list of any day is kept. Before saving, the page shows
who gains or loses eligibility (``preview_service``), like the visit policy.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from care import audit
from care.domain import areas, clock, enums
from care.domain.errors import NotFound, StaleRecord, ValidationError
from care.domain.service_rules import Eligibility, check_eligibility, is_eligible
from care.permissions import require
from care.queries.scoping import visible_person
from care.queries.service_list import ServiceRow, enrollment_facts, service_history
from care.queries.settings import scope_county
from care.scope import Scope
from care.services.common import Saved, versioned_update
from db.models import Area, Pairing, Person, Provider, ServiceItem

CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
NAME_MAX = 64
NOTE_MAX = 200
SAMPLE = 20

# The county's first list (a starting point each county adjusts): code, name, group, provider kinds,
# times per period, period, eligibility.
DEFAULT_SERVICES: tuple[tuple[str, str, str, tuple[str, ...], int, str, dict[str, Any]], ...] = (
    ("meal", "助餐", "elderly", ("mutual_aid", "social_org"), 20, "month", {"living": ["alone"]}),
    ("bath", "助浴", "elderly", ("social_org", "volunteer"), 2, "month", {"self_care": ["partial", "none"]}),
    ("medical_escort", "助医", "elderly", ("volunteer", "mutual_aid"), 1, "month", {"min_age": 80}),
    ("rehab_training", "康复训练", "disabled", ("department", "social_org"), 4, "month", {}),
    ("assistive_fitting", "辅具适配", "disabled", ("department",), 1, "year", {"categories": [1, 2, 4]}),
    ("counselling", "心理疏导", "child", ("social_org",), 1, "month", {"risks": ["high", "medium"]}),
    ("tutoring", "课业辅导", "child", ("volunteer", "social_org"), 4, "month", {"min_age": 6}),
    ("guardianship_guidance", "监护指导", "child", ("department", "cadre"), 1, "quarter", {}),
    (
        "emergency_referral",
        "临时救助转介",
        "child",
        ("department",),
        1,
        "year",
        {"subtypes": ["distressed", "unsupported"]},
    ),
)


@dataclass(frozen=True)
class ServiceInput:
    """A service as the form gives it."""

    code: str
    name: str
    group: str
    provider_kinds: tuple[str, ...]
    times: int
    period: str
    eligibility: Eligibility = field(default_factory=Eligibility)
    note: str = ""


def check_service(values: ServiceInput) -> None:
    """Refuse a bad code, a missing or over-long name, unknown provider kinds, a frequency outside 1–31."""
    if not CODE.match(values.code or ""):
        raise ValidationError("service.error.code", field="code")
    name = (values.name or "").strip()
    if not name:
        raise ValidationError("error.required", field="name")
    if len(name) > NAME_MAX or len(values.note or "") > NOTE_MAX:
        raise ValidationError("service.error.too_long", field="name", max=NAME_MAX, note=NOTE_MAX)
    if not values.provider_kinds:
        raise ValidationError("service.error.no_provider_kind", field="provider_kinds")
    for kind in values.provider_kinds:
        enums.check("provider_kinds", kind, enums.PROVIDER_KINDS)
    enums.check("period", values.period, enums.SERVICE_PERIODS)
    if not isinstance(values.times, int) or isinstance(values.times, bool) or not 1 <= values.times <= 31:
        raise ValidationError("service.error.times", field="times")
    check_eligibility(values.group, values.eligibility)


def _snapshot(item: ServiceItem) -> dict[str, Any]:
    return {
        "name": item.name,
        "group": item.group,
        "provider_kinds": list(item.provider_kinds or ()),
        "times": item.times,
        "period": item.period,
        "eligibility": dict(item.eligibility or {}),
        "note": item.note,
        "valid_from": item.valid_from.isoformat(),
        "valid_to": item.valid_to.isoformat() if item.valid_to else None,
    }


def _fields(values: ServiceInput) -> dict[str, Any]:
    return {
        "name": values.name.strip(),
        "group": values.group,
        "provider_kinds": list(values.provider_kinds),
        "times": values.times,
        "period": values.period,
        "eligibility": values.eligibility.to_json(),
        "note": (values.note or "").strip(),
    }


def _latest(session: Session, code: str, county: str) -> ServiceItem | None:
    return session.scalar(
        select(ServiceItem)
        .where(ServiceItem.county_code == county, ServiceItem.code == code)
        .order_by(ServiceItem.valid_from.desc())
        .limit(1)
    )


def _check_day(effective: dt.date, today: dt.date) -> None:
    if effective < today:
        raise ValidationError("service.error.past", field="effective", today=today.isoformat())


def save_service(
    session: Session,
    scope: Scope,
    *,
    values: ServiceInput,
    effective: dt.date,
    seen_version: int | None,
    today: dt.date,
) -> Saved:
    """Add a service (``seen_version`` None) or change one from ``effective`` on; the old version is kept."""
    require(scope, "service.manage")
    check_service(values)
    _check_day(effective, today)
    county = scope_county(scope)
    if not county or session.get(Area, county) is None:
        raise ValidationError("service.error.no_county")
    latest = _latest(session, values.code, county)
    now = clock.now()
    if seen_version is None:
        if latest is not None and (latest.valid_to is None or latest.valid_to >= effective):
            raise ValidationError("service.error.code_taken", field="code", code=values.code)
        before, closed = None, latest.version if latest is not None else 0
    else:
        if latest is None:
            raise NotFound()
        if latest.version != seen_version:
            raise StaleRecord(_snapshot(latest), seen=seen_version, now=latest.version)
        if latest.valid_to is not None and latest.valid_to < effective:
            raise ValidationError("service.error.ended", field="effective", day=latest.valid_to.isoformat())
        before = _snapshot(latest)
        if latest.valid_from == effective:
            # A change scheduled for the same day replaces that day's version.
            version = versioned_update(session, latest, seen_version, _fields(values), _snapshot)
            _audit(session, scope, "service.save", latest.id, values.code, before, effective)
            return Saved(latest.id, version)
        if latest.valid_from > effective:
            raise ValidationError("service.error.before_current", field="effective", day=latest.valid_from.isoformat())
        closed = versioned_update(
            session, latest, seen_version, {"valid_to": effective - dt.timedelta(days=1)}, _snapshot
        )
    item = ServiceItem(
        county_code=county,
        code=values.code,
        valid_from=effective,
        valid_to=None,
        # Versions keep counting across a service's rows: a form loaded from the old row is stale.
        version=closed + 1,
        created_at=now,
        updated_at=now,
        created_by=scope.user_id,
        **_fields(values),
    )
    session.add(item)
    session.flush()
    _audit(session, scope, "service.save", item.id, values.code, before, effective)
    return Saved(item.id, item.version)


def end_service(
    session: Session, scope: Scope, *, code: str, effective: dt.date, seen_version: int, today: dt.date
) -> Saved:
    """Take a service off the list from ``effective`` on (its last day is the day before)."""
    require(scope, "service.manage")
    _check_day(effective, today)
    latest = _latest(session, code, scope_county(scope) or "")
    if latest is None:
        raise NotFound()
    if latest.version != seen_version:
        raise StaleRecord(_snapshot(latest), seen=seen_version, now=latest.version)
    if latest.valid_to is not None:
        raise ValidationError("service.error.ended", field="effective", day=latest.valid_to.isoformat())
    if effective <= latest.valid_from:
        raise ValidationError("service.error.before_current", field="effective", day=latest.valid_from.isoformat())
    before = _snapshot(latest)
    version = versioned_update(session, latest, seen_version, {"valid_to": effective - dt.timedelta(days=1)}, _snapshot)
    _audit(session, scope, "service.end", latest.id, code, before, effective)
    return Saved(latest.id, version)


def _audit(
    session: Session,
    scope: Scope,
    action: str,
    item_id: int,
    code: str,
    before: dict[str, Any] | None,
    effective: dt.date,
) -> None:
    after = session.get(ServiceItem, item_id)
    audit.record(
        session,
        scope=scope,
        action=action,
        entity="service_item",
        entity_id=item_id,
        detail={
            "code": code,
            "effective": effective.isoformat(),
            "old": before,
            "new": _snapshot(after) if after is not None else None,
        },
    )


def seed_default_services(session: Session, *, valid_from: dt.date, county_code: str | None) -> int:
    """Put the default list in place for a county that has none yet; how many services were added."""
    county = county_code
    if (
        not county
        or session.get(Area, county) is None
        or session.scalar(select(ServiceItem.id).where(ServiceItem.county_code == county).limit(1))
    ):
        return 0
    now = clock.now()
    for code, name, group, kinds, times, period, rule in DEFAULT_SERVICES:
        session.add(
            ServiceItem(
                county_code=county,
                code=code,
                name=name,
                group=group,
                provider_kinds=list(kinds),
                times=times,
                period=period,
                eligibility=rule,
                valid_from=valid_from,
                created_at=now,
                updated_at=now,
            )
        )
    session.flush()
    return len(DEFAULT_SERVICES)


def use_default_services(session: Session, scope: Scope, *, today: dt.date) -> Saved:
    """The admin starts an empty list from the default one, in force from today (audited)."""
    require(scope, "service.manage")
    added = seed_default_services(session, valid_from=today, county_code=scope_county(scope))
    if not added:
        raise ValidationError("service.error.not_empty")
    audit.record(session, scope=scope, action="service.default", entity="service_item", detail={"added": added})
    return Saved(0, 1)


# --- what a change would do -----------------------------------------------------------------------


@dataclass(frozen=True)
class ServicePreview:
    """Who a change to one service moves: eligible before and after, gained and lost, by township."""

    before: int
    after: int
    gained: int
    lost: int
    by_township: list[tuple[str, int, int]]  # township name, gained, lost
    gained_names: list[str]
    lost_names: list[str]


def _eligible(session: Session, scope: Scope, group: str | None, rule: Eligibility, day: dt.date) -> dict[int, int]:
    """Enrollment id -> person id of every eligible enrollment the user may see."""
    if group is None:
        return {}
    return {
        f.enrollment_id: pid for f, pid in enrollment_facts(session, scope, group, day) if is_eligible(group, rule, f)
    }


def preview_service(
    session: Session, scope: Scope, *, code: str, values: ServiceInput | None, today: dt.date
) -> ServicePreview:
    """What saving ``values`` for service ``code`` (None: ending it) would change, counted today."""
    require(scope, "service.manage")
    if values is not None:
        check_service(values)
    current = _in_force(session, code, today, scope_county(scope))
    old = _eligible(
        session, scope, current.group if current else None, current.eligibility if current else Eligibility(), today
    )
    new = _eligible(session, scope, values.group, values.eligibility, today) if values is not None else {}
    gained = {e: p for e, p in new.items() if e not in old}
    lost = {e: p for e, p in old.items() if e not in new}
    return ServicePreview(
        before=len(old),
        after=len(new),
        gained=len(gained),
        lost=len(lost),
        by_township=_by_township(session, gained, lost),
        gained_names=_names(session, list(gained.values())[:SAMPLE]),
        lost_names=_names(session, list(lost.values())[:SAMPLE]),
    )


def _in_force(session: Session, code: str, day: dt.date, county: str | None) -> ServiceRow | None:
    for row in reversed(service_history(session, code, county)):
        if row.valid_from <= day and (row.valid_to is None or row.valid_to >= day):
            return row
    return None


def _by_township(session: Session, gained: dict[int, int], lost: dict[int, int]) -> list[tuple[str, int, int]]:
    people = set(gained.values()) | set(lost.values())
    if not people:
        return []
    villages: dict[int, str] = {}
    for chunk in _chunks(sorted(people)):
        villages.update(session.execute(select(Person.id, Person.village_code).where(Person.id.in_(chunk))).all())
    up = Counter(areas.township_of(villages[p]) for p in gained.values())
    down = Counter(areas.township_of(villages[p]) for p in lost.values())
    codes = sorted(set(up) | set(down))
    names = dict(session.execute(select(Area.code, Area.name).where(Area.code.in_(codes))).all())
    return [(names.get(c, c), up[c], down[c]) for c in codes]


def _names(session: Session, person_ids: list[int]) -> list[str]:
    if not person_ids:
        return []
    found = dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(person_ids))).all())
    return [found[p] for p in person_ids if p in found]


def _chunks(values: list[int], size: int = 900) -> list[list[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


# --- providers and pairings -----------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderInput:
    """A provider as the form gives it."""

    kind: str
    name: str
    area_code: str
    phone: str = ""
    services: tuple[str, ...] = ()
    note: str = ""
    active: bool = True


PHONE = re.compile(r"^[0-9+\- ]{0,32}$")


def _provider_fields(session: Session, scope: Scope, values: ProviderInput) -> dict[str, Any]:
    enums.check("kind", values.kind, enums.PROVIDER_KINDS)
    name = (values.name or "").strip()
    if not name:
        raise ValidationError("error.required", field="name")
    if len(name) > 100 or len(values.note or "") > NOTE_MAX:
        raise ValidationError("service.error.too_long", field="name", max=100, note=NOTE_MAX)
    if not PHONE.match(values.phone or ""):
        raise ValidationError("service.error.phone", field="phone")
    area = session.get(Area, values.area_code)
    if area is None or area.valid_to is not None or not scope.covers(values.area_code):
        raise ValidationError("service.error.area", field="area_code")
    county = areas.county_of(values.area_code)
    known = set(session.scalars(select(ServiceItem.code).where(ServiceItem.county_code == county)))
    for code in values.services:
        if code not in known:
            raise ValidationError("service.error.unknown_service", field="services", code=str(code))
    return {
        "kind": values.kind,
        "name": name,
        "area_code": values.area_code,
        "phone": (values.phone or "").strip(),
        "services": sorted(set(values.services)),
        "note": (values.note or "").strip(),
        "active": bool(values.active),
    }


def _provider_snapshot(p: Provider) -> dict[str, Any]:
    return {
        "kind": p.kind,
        "name": p.name,
        "area_code": p.area_code,
        "phone": p.phone,
        "services": list(p.services or ()),
        "note": p.note,
        "active": p.active,
    }


def save_provider(
    session: Session, scope: Scope, *, values: ProviderInput, provider_id: int | None = None, seen_version: int = 0
) -> Saved:
    """Add a provider, or change one the user's area holds (on the version they saw)."""
    require(scope, "provider.manage")
    fields = _provider_fields(session, scope, values)
    if provider_id is None:
        now = clock.now()
        created = Provider(**fields, version=1, created_at=now, updated_at=now)
        session.add(created)
        session.flush()
        audit.record(
            session,
            scope=scope,
            action="provider.create",
            entity="provider",
            entity_id=created.id,
            detail={"new": fields},
        )
        return Saved(created.id, 1)
    provider = session.get(Provider, provider_id)
    if provider is None or not scope.covers(provider.area_code):
        raise NotFound()
    before = _provider_snapshot(provider)
    version = versioned_update(session, provider, seen_version, fields, _provider_snapshot)
    audit.record(
        session,
        scope=scope,
        action="provider.update",
        entity="provider",
        entity_id=provider_id,
        detail={"old": before, "new": fields},
    )
    return Saved(provider_id, version)


def pair(
    session: Session,
    scope: Scope,
    *,
    person_id: int,
    provider_id: int,
    start_date: dt.date,
    end_date: dt.date | None = None,
    note: str = "",
    today: dt.date,
) -> Saved:
    """Pair a volunteer or cadre with a person (结对帮扶); one current pairing per provider and person."""
    require(scope, "pairing.edit")
    person = visible_person(session, scope, person_id)
    if person is None:
        raise NotFound()
    provider = session.get(Provider, provider_id)
    if (
        provider is None
        or not provider.active
        or not (scope.covers(provider.area_code) or areas.contains(provider.area_code, person.village_code))
    ):
        raise ValidationError("service.error.provider", field="provider")
    if provider.kind not in enums.PAIRING_KINDS:
        raise ValidationError("service.error.pairing_kind", field="provider")
    if start_date > today + dt.timedelta(days=366) or (end_date is not None and end_date < start_date):
        raise ValidationError("service.error.pairing_dates", field="start_date")
    if len(note or "") > NOTE_MAX:
        raise ValidationError("service.error.too_long", field="note", max=NOTE_MAX, note=NOTE_MAX)
    open_one = session.scalar(
        select(Pairing.id).where(
            Pairing.person_id == person_id,
            Pairing.provider_id == provider_id,
            (Pairing.end_date.is_(None)) | (Pairing.end_date >= start_date),
        )
    )
    if open_one is not None:
        raise ValidationError("service.error.already_paired", field="provider")
    now = clock.now()
    pairing = Pairing(
        provider_id=provider_id,
        person_id=person_id,
        start_date=start_date,
        end_date=end_date,
        note=(note or "").strip(),
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(pairing)
    session.flush()
    audit.record(
        session,
        scope=scope,
        action="pairing.create",
        entity="pairing",
        entity_id=pairing.id,
        detail={"person_id": person_id, "provider_id": provider_id, "start_date": start_date.isoformat()},
    )
    return Saved(pairing.id, 1)


def end_pairing(session: Session, scope: Scope, *, pairing_id: int, end_date: dt.date, seen_version: int) -> Saved:
    """End a pairing on ``end_date`` (not before it started)."""
    require(scope, "pairing.edit")
    pairing = session.get(Pairing, pairing_id)
    if pairing is None or visible_person(session, scope, pairing.person_id) is None:
        raise NotFound()
    if end_date < pairing.start_date:
        raise ValidationError("service.error.pairing_dates", field="end_date")

    def snapshot(p: Pairing) -> dict[str, Any]:
        return {"end_date": p.end_date.isoformat() if p.end_date else None}

    version = versioned_update(session, pairing, seen_version, {"end_date": end_date}, snapshot)
    audit.record(
        session,
        scope=scope,
        action="pairing.end",
        entity="pairing",
        entity_id=pairing_id,
        detail={"end_date": end_date.isoformat()},
    )
    return Saved(pairing_id, version)

"""Creating, editing, soft-deleting and restoring persons on the registers."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from care import audit
from care.domain import areas, clock, ids
from care.domain.errors import NotFound, PermissionDenied, ValidationError
from care.permissions import require
from care.queries.scoping import visible_person
from care.scope import Scope
from care.services import membership
from care.services.common import Saved, versioned_update
from db.models import Area, Person

EDITABLE_BY_ROLE: dict[str, tuple[str, ...]] = {
    "coordinator": ("address", "phone", "lat", "lon", "notes"),
    "township": ("id_number", "name", "sex", "birth_date", "village_code", "address", "phone", "lat", "lon", "notes"),
    "admin": ("id_number", "name", "sex", "birth_date", "village_code", "address", "phone", "lat", "lon", "notes"),
}
PERSON_FIELDS = EDITABLE_BY_ROLE["admin"]


def _clean_name(value: Any) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise ValidationError("person.name_required", field="name")
    if len(name) > 64:
        raise ValidationError("person.name_too_long", field="name")
    return name


def _clean_phone(value: Any) -> str:
    phone = "".join(str(value or "").split()).replace("-", "")
    if phone and (not phone.isdigit() or not 7 <= len(phone) <= 12):
        raise ValidationError("person.bad_phone", field="phone")
    return phone


def _clean_coords(
    session: Session, lat: Any, lon: Any, village: Area
) -> tuple[float | None, float | None, list[tuple[str, dict[str, Any]]]]:
    if lat in (None, "") and lon in (None, ""):
        return None, None, []
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        raise ValidationError("person.coords_incomplete", field="lat") from None
    if not areas.in_china(lat_f, lon_f):
        raise ValidationError("person.coords_outside_china", field="lat")
    warnings: list[tuple[str, dict[str, Any]]] = []
    county = session.get(Area, areas.county_of(village.code))
    if county is not None and not _near_county(session, county.code, lat_f, lon_f):
        warnings.append(("person.coords_outside_county", {"county": county.name}))
    return round(lat_f, 6), round(lon_f, 6), warnings


def _near_county(session: Session, county_code: str, lat: float, lon: float) -> bool:
    """Whether a point lies within the county's village centroids, with a margin of ~5 km."""
    low, high = areas.prefix_bounds(areas.prefix_of(county_code))
    bounds = session.execute(
        select(func.min(Area.lat), func.max(Area.lat), func.min(Area.lon), func.max(Area.lon)).where(
            Area.code >= low, Area.code < high, Area.lat.is_not(None)
        )
    ).one()
    low_lat, high_lat, low_lon, high_lon = bounds
    if low_lat is None or high_lat is None or low_lon is None or high_lon is None:
        return True
    margin = 0.05
    return low_lat - margin <= lat <= high_lat + margin and low_lon - margin <= lon <= high_lon + margin


def _village(session: Session, scope: Scope, code: Any) -> Area:
    code = str(code or "").strip()
    area = session.get(Area, code) if areas.is_code(code) else None
    if area is None or area.level != "village":
        raise ValidationError("person.bad_village", field="village_code")
    if area.valid_to is not None and area.valid_to < clock.today():
        raise ValidationError("person.village_replaced", field="village_code", code=code)
    if not scope.covers(code):
        raise ValidationError("person.village_outside_scope", field="village_code")
    return area


def _check_duplicate(session: Session, scope: Scope, id_number: str, own_id: int | None = None) -> None:
    other = session.scalar(select(Person).where(Person.id_number == id_number))
    if other is None or other.id == own_id:
        return
    if visible_person(session, scope, other.id, include_deleted=True) is not None:
        key = "person.duplicate_deleted" if other.deleted else "person.duplicate_visible"
        raise ValidationError(key, field="id_number", name=other.name, village=other.village_code)
    # Someone else's record: say it exists, never whose or where.
    raise ValidationError("person.duplicate_elsewhere", field="id_number")


class CountyRegions:
    """The region codes of the counties in this database's area list (``region in ...``).

    A county's own list is authoritative for its own code, even one GB/T 2260 does not hold (the
    demo county). Asked only for a number outside GB/T 2260; the identity map answers repeats.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def __contains__(self, region: object) -> bool:
        if not isinstance(region, str) or len(region) != 6 or not region.isdigit():
            return False
        area = self.session.get(Area, region + "000000")
        return area is not None and area.level == "county"


def clean_person(
    session: Session, scope: Scope, values: Mapping[str, Any], *, own_id: int | None = None
) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """Validated person fields from a form or import row, and warnings (e.g. outside the county)."""
    info = ids.parse_id_number(values.get("id_number"), check_region=False)
    stored = session.get(Person, own_id) if own_id is not None else None
    if stored is None or stored.id_number != info.number:
        # A number already on the register keeps its region; a new or changed one must name a known one.
        ids.require_known_region(info.region, local_regions=CountyRegions(session))
    sex = values.get("sex") or info.sex
    birth = values.get("birth_date") or info.birth_date
    if isinstance(birth, dt.datetime):
        birth = birth.date()
    ids.sex_and_birth_agree(info, sex, birth)
    if birth > clock.today():
        raise ValidationError("id.future_birth", field="birth_date")
    village = _village(session, scope, values.get("village_code"))
    lat, lon, warnings = _clean_coords(session, values.get("lat"), values.get("lon"), village)
    _check_duplicate(session, scope, info.number, own_id)
    cleaned = {
        "id_number": info.number,
        "name": _clean_name(values.get("name")),
        "sex": info.sex,
        "birth_date": info.birth_date,
        "village_code": village.code,
        "address": str(values.get("address") or "").strip()[:200],
        "phone": _clean_phone(values.get("phone")),
        "lat": lat,
        "lon": lon,
        "notes": str(values.get("notes") or "").strip()[:2000],
    }
    return cleaned, warnings


def create_person(session: Session, scope: Scope, *, values: Mapping[str, Any], audited: bool = True) -> Saved:
    """Register a new person in a village of the user's area (``audited=False``: the caller's one
    event covers it, as an import's does)."""
    require(scope, "person.create")
    cleaned, warnings = clean_person(session, scope, values)
    now = clock.now()
    person = Person(**cleaned, datum="WGS84", status="active", deleted=False, version=1, created_at=now, updated_at=now)
    session.add(person)
    session.flush()
    membership.new_household(session, person)
    if audited:
        audit.record(
            session, scope=scope, action="person.create", entity="person", entity_id=person.id, detail={"new": cleaned}
        )
    return Saved(person.id, 1, warnings)


def person_values(person: Person) -> dict[str, Any]:
    """The editable fields of a person, plus its version."""
    return {name: getattr(person, name) for name in PERSON_FIELDS} | {"version": person.version}


def _load_for_write(session: Session, scope: Scope, person_id: int, *, deleted: bool = False) -> Person:
    person = visible_person(session, scope, person_id, include_deleted=True)
    if person is None or person.deleted != deleted:
        raise NotFound()
    return person


def update_person(
    session: Session, scope: Scope, *, person_id: int, seen_version: int, values: Mapping[str, Any]
) -> Saved:
    """Save an edit made on the version the user saw; fields the role may not edit are dropped."""
    require(scope, "person.edit")
    person = _load_for_write(session, scope, person_id)
    old = person_values(person)
    allowed = EDITABLE_BY_ROLE.get(scope.role, ())
    merged = {name: (values[name] if name in allowed and name in values else old[name]) for name in PERSON_FIELDS}
    cleaned, warnings = clean_person(session, scope, merged, own_id=person.id)
    changes = {k: v for k, v in cleaned.items() if v != old[k]}
    if not changes:
        if old["version"] != seen_version:
            versioned_update(session, person, seen_version, {}, person_values)
        return Saved(person.id, person.version, warnings)
    version = versioned_update(session, person, seen_version, changes, person_values)
    if "village_code" in changes:
        membership.moved_village(session, person)
    audit.record(
        session,
        scope=scope,
        action="person.update",
        entity="person",
        entity_id=person.id,
        detail={"old": {k: old[k] for k in changes}, "new": changes},
    )
    return Saved(person.id, version, warnings)


def soft_delete_person(session: Session, scope: Scope, *, person_id: int, seen_version: int, reason: str) -> Saved:
    """Hide a person from the registers (never a hard delete); restorable."""
    require(scope, "person.delete")
    if not reason.strip():
        raise ValidationError("person.delete_reason_required", field="reason")
    person = _load_for_write(session, scope, person_id)
    version = versioned_update(
        session, person, seen_version, {"deleted": True, "deleted_at": clock.now()}, person_values
    )
    audit.record(
        session,
        scope=scope,
        action="person.delete",
        entity="person",
        entity_id=person_id,
        detail={"reason": reason.strip()[:200]},
    )
    return Saved(person_id, version)


def restore_person(session: Session, scope: Scope, *, person_id: int, seen_version: int) -> Saved:
    """Bring a soft-deleted person back onto the registers."""
    require(scope, "person.restore")
    person = _load_for_write(session, scope, person_id, deleted=True)
    version = versioned_update(session, person, seen_version, {"deleted": False, "deleted_at": None}, person_values)
    membership.refresh_family(session, [person_id])
    audit.record(session, scope=scope, action="person.restore", entity="person", entity_id=person_id)
    return Saved(person_id, version)


REF_LENGTH = 16


def person_for_ref(session: Session, scope: Scope, *, ref: str) -> int:
    """The person a link names by its reference, if it is in the user's scope.

    Unknown, malformed and out-of-scope references get the same NotFound, audited as denied.
    """
    ref = (ref or "").strip()
    valid = len(ref) == REF_LENGTH and all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in ref)
    person_id = session.scalar(select(Person.id).where(Person.ref == ref)) if valid else None
    if person_id is None or visible_person(session, scope, person_id, include_deleted=True) is None:
        shown = person_id if person_id is not None else "ref:" + "".join(ch for ch in ref[:REF_LENGTH] if ch.isalnum())
        raise audit.denied(NotFound(), scope=scope, action="person.view", entity="person", entity_id=shown)
    return int(person_id)


def record_person_view(session: Session, scope: Scope, *, person_id: int, full_id: bool = False) -> None:
    """Audit one opening of a person file (or of the full ID number, which needs its own right)."""
    if full_id and not scope.can("person.view_full_id"):
        raise audit.denied(
            PermissionDenied(), scope=scope, action="person.view_full_id", entity="person", entity_id=person_id
        )
    if visible_person(session, scope, person_id, include_deleted=True) is None:
        raise audit.denied(NotFound(), scope=scope, action="person.view", entity="person", entity_id=person_id)
    action = "person.view_full_id" if full_id else "person.view"
    audit.record(session, scope=scope, action=action, entity="person", entity_id=person_id)


# Opening a person's phone number to call or their home to navigate to is a view of personal
# data: each opening is audited.
CONTACT_KINDS = ("call", "navigate")
_DIALABLE = re.compile(r"\+?\d[\d\s\-()（）]{3,}\d")


def dialable(phone: str | None) -> str:
    """The first telephone number in a phone cell, as a tel: link takes it ('' when there is none)."""
    found = _DIALABLE.search(unicodedata.normalize("NFKC", phone or ""))
    if found is None:
        return ""
    text = found.group(0)
    return ("+" if text.startswith("+") else "") + "".join(ch for ch in text if ch.isdigit())


def open_contact(session: Session, scope: Scope, *, person_id: int, what: str) -> str:
    """For a visit: the full number to call (``what='call'``) or 'lat,lon' of the home ('navigate').

    Only for someone who records visits and may see the person (a coordinator: their own
    caseload); '' when there is nothing to call or no location. Each opening is audited.
    """
    if what not in CONTACT_KINDS:
        raise ValidationError("person.contact_unknown", field="what")
    action = "person.call" if what == "call" else "person.navigate"
    if not scope.can("visit.record"):
        raise audit.denied(PermissionDenied(), scope=scope, action=action, entity="person", entity_id=person_id)
    person = visible_person(session, scope, person_id)
    if person is None:
        raise audit.denied(NotFound(), scope=scope, action=action, entity="person", entity_id=person_id)
    if what == "call":
        value = dialable(person.phone)
    else:
        located = person.lat is not None and person.lon is not None
        value = f"{person.lat:.6f},{person.lon:.6f}" if located else ""
    audit.record(
        session, scope=scope, action=action, entity="person", entity_id=person_id, detail={"found": bool(value)}
    )
    return value

"""Households (户): creating, editing, adding and moving members, splitting and merging.

A person is in at most one current household; leaving one ends the membership row (the history
stays). Every change re-runs the family risk rules for the members of the households it touched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from care import audit
from care.domain import clock, enums, ids
from care.domain.errors import NotFound, ValidationError
from care.permissions import require
from care.queries.households import same_place
from care.queries.scoping import visible_person
from care.scope import Scope
from care.services.common import Saved, versioned_update
from care.services.membership import (
    current_members,
    current_membership,
    join,
    leave,
    new_head,
    new_household,
    refresh_family,
)
from care.services.persons import _clean_coords, create_person, person_values
from db.models import Area, Household, Person

HUKOU_NO_MAX = 32


def household_values(household: Household) -> dict[str, Any]:
    """A household's editable fields and version (what a stale save shows)."""
    return {
        "hukou_no": household.hukou_no,
        "address": household.address,
        "lat": household.lat,
        "lon": household.lon,
        "version": household.version,
    }


def _load(session: Session, scope: Scope, household_id: int) -> Household:
    """A current household with at least one member the user may see."""
    household = session.get(Household, household_id) if isinstance(household_id, int) else None
    if household is None or household.ended_on is not None:
        raise NotFound()
    if not any(visible_person(session, scope, m.person_id) for m in current_members(session, household.id)):
        raise NotFound()
    return household


def _person(session: Session, scope: Scope, person_id: int) -> Person:
    person = visible_person(session, scope, person_id)
    if person is None:
        raise NotFound()
    return person


def _relation(value: Any) -> str:
    enums.check("relation", value, enums.HOUSEHOLD_RELATIONS)
    return str(value)


def _bump(session: Session, household: Household, seen_version: int, values: Mapping[str, Any] | None = None) -> int:
    return versioned_update(session, household, seen_version, dict(values or {}), household_values)


def update_household(
    session: Session, scope: Scope, *, household_id: int, seen_version: int, values: Mapping[str, Any]
) -> Saved:
    """Save the 户号, address and home location, on the version the user saw.

    A new home location moves the members who follow it (no place of their own, or the old home's
    place) in the same transaction, each person audited and versioned; a member with a place of
    their own keeps it. Members outside the user's list are never changed.
    """
    # The person form's own checks and messages (imported here: persons imports this module).
    require(scope, "person.edit")
    household = _load(session, scope, household_id)
    old = household_values(household)
    hukou = "".join(str(values.get("hukou_no", old["hukou_no"]) or "").split())
    if len(hukou) > HUKOU_NO_MAX or (hukou and not hukou.isalnum()):
        raise ValidationError("household.bad_hukou_no", field="hukou_no")
    address = " ".join(str(values.get("address", old["address"]) or "").split())
    if len(address) > 200:
        raise ValidationError("visit.text_too_long", field="address", limit=200)
    village = session.get(Area, household.village_code)
    if village is None:
        raise NotFound()
    lat, lon, warnings = _clean_coords(session, values.get("lat", old["lat"]), values.get("lon", old["lon"]), village)
    new = {"hukou_no": hukou, "address": address, "lat": lat, "lon": lon}
    changes = {k: v for k, v in new.items() if v != old[k]}
    if not same_place(lat, lon, old["lat"], old["lon"]):
        moved = _follow_home(session, scope, household, (old["lat"], old["lon"]), (lat, lon))
    else:
        changes.pop("lat", None)
        changes.pop("lon", None)
        moved = []
    version = _bump(session, household, seen_version, changes)
    if changes:
        audit.record(
            session,
            scope=scope,
            action="household.update",
            entity="household",
            entity_id=household_id,
            detail={"old": {k: old[k] for k in changes}, "new": changes, "moved_members": moved},
        )
    return Saved(household_id, version, warnings)


def _follow_home(
    session: Session,
    scope: Scope,
    household: Household,
    before: tuple[float | None, float | None],
    after: tuple[float | None, float | None],
) -> list[int]:
    """Move the visible members whose place is none or the old home's to the new home; their ids."""
    if after[0] is None or after[1] is None:
        return []  # a home location cleared: nobody loses the place they have
    moved = []
    for member in current_members(session, household.id):
        person = visible_person(session, scope, member.person_id)
        if person is None:
            continue
        located = person.lat is not None and person.lon is not None
        if located and not same_place(person.lat, person.lon, *before):
            continue
        if same_place(person.lat, person.lon, *after):
            continue
        old = {"lat": person.lat, "lon": person.lon}
        new = {"lat": after[0], "lon": after[1]}
        versioned_update(session, person, person.version, new, person_values)
        audit.record(
            session,
            scope=scope,
            action="person.update",
            entity="person",
            entity_id=person.id,
            detail={"old": old, "new": new, "household_id": household.id},
        )
        moved.append(person.id)
    return moved


def add_member(
    session: Session, scope: Scope, *, household_id: int, seen_version: int, person_id: int, relation: str
) -> Saved:
    """Move a person of the same village into this household; they leave their current one."""
    require(scope, "person.edit")
    household = _load(session, scope, household_id)
    person = _person(session, scope, person_id)
    relation = _relation(relation)
    if person.village_code != household.village_code:
        raise ValidationError("household.other_village", field="person")
    current = current_membership(session, person.id)
    if current is not None and current.household_id == household.id:
        raise ValidationError("household.already_member", field="person")
    if relation == "head":
        raise ValidationError("household.head_by_change", field="relation")
    today = clock.today()
    version = _bump(session, household, seen_version)
    left = current.household_id if current is not None else None
    if current is not None:
        leave(session, current, today)
    join(session, household.id, person.id, relation, today)
    audit.record(
        session,
        scope=scope,
        action="household.add_member",
        entity="household",
        entity_id=household.id,
        detail={"person_id": person.id, "relation": relation, "from_household": left},
    )
    refresh_family(session, [person.id], also=[left] if left is not None else [])
    return Saved(household.id, version)


def add_new_member(
    session: Session,
    scope: Scope,
    *,
    household_id: int,
    seen_version: int,
    values: Mapping[str, Any],
    relation: str,
) -> Saved:
    """Register a new person (the register's own checks) straight into this household: its village,
    and its address unless another is given. Returns the new person's id."""
    require(scope, "person.create")
    household = _load(session, scope, household_id)
    relation = _relation(relation)
    if relation == "head":
        raise ValidationError("household.head_by_change", field="relation")
    given = dict(values)
    given["village_code"] = household.village_code
    given["address"] = given.get("address") or household.address
    created = create_person(session, scope, values=given)
    add_member(
        session, scope, household_id=household.id, seen_version=seen_version, person_id=created.id, relation=relation
    )
    return Saved(created.id, 1, created.warnings)


def set_relation(
    session: Session, scope: Scope, *, household_id: int, seen_version: int, person_id: int, relation: str
) -> Saved:
    """A member's relation to the head; choosing 户主 makes them the head."""
    require(scope, "person.edit")
    household = _load(session, scope, household_id)
    relation = _relation(relation)
    member = next((m for m in current_members(session, household.id) if m.person_id == person_id), None)
    if member is None or visible_person(session, scope, person_id) is None:
        raise NotFound()
    old = member.relation
    version = _bump(session, household, seen_version)
    if relation == "head":
        new_head(session, household.id, person_id)
    else:
        if old == "head":
            raise ValidationError("household.head_by_change", field="relation")
        member.relation = relation
        session.flush()
    audit.record(
        session,
        scope=scope,
        action="household.relation",
        entity="household",
        entity_id=household.id,
        detail={"person_id": person_id, "old": old, "new": relation},
    )
    return Saved(household.id, version)


def split_household(
    session: Session, scope: Scope, *, household_id: int, seen_version: int, person_ids: Sequence[int]
) -> Saved:
    """Move these members into a new household at the same address; the first is its head."""
    require(scope, "person.edit")
    household = _load(session, scope, household_id)
    members = {m.person_id: m for m in current_members(session, household.id)}
    chosen = list(dict.fromkeys(person_ids))
    if not chosen:
        raise ValidationError("household.split_none", field="members")
    if any(pid not in members or visible_person(session, scope, pid) is None for pid in chosen):
        raise NotFound()
    if len(chosen) == len(members):
        raise ValidationError("household.split_all", field="members")
    today = clock.today()
    _bump(session, household, seen_version)
    now = clock.now()
    new = Household(
        village_code=household.village_code,
        hukou_no="",
        address=household.address,
        lat=household.lat,
        lon=household.lon,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(new)
    session.flush()
    for pid in chosen:
        relation = (
            "head" if pid == chosen[0] else ("other" if members[pid].relation == "head" else members[pid].relation)
        )
        leave(session, members[pid], today)
        join(session, new.id, pid, relation, today)
    remaining = current_members(session, household.id)
    if not any(m.relation == "head" for m in remaining):
        new_head(session, household.id, remaining[0].person_id)
    audit.record(
        session,
        scope=scope,
        action="household.split",
        entity="household",
        entity_id=household.id,
        detail={"new_household": new.id, "person_ids": chosen},
    )
    refresh_family(session, chosen, also=[household.id])
    return Saved(new.id, 1)


def merge_households(
    session: Session, scope: Scope, *, household_id: int, seen_version: int, other_id: int, other_version: int
) -> Saved:
    """Bring every member of ``other_id`` into this household (same village); the other one ends."""
    require(scope, "person.edit")
    household = _load(session, scope, household_id)
    other = _load(session, scope, other_id)
    if other.id == household.id:
        raise ValidationError("household.merge_self", field="household")
    if other.village_code != household.village_code:
        raise ValidationError("household.other_village", field="household")
    version = _bump(session, household, seen_version)
    _bump(session, other, other_version, {"merged_into": household.id})
    today = clock.today()
    moved = []
    for member in current_members(session, other.id):
        leave(session, member, today)
        join(session, household.id, member.person_id, "other" if member.relation == "head" else member.relation, today)
        moved.append(member.person_id)
    audit.record(
        session,
        scope=scope,
        action="household.merge",
        entity="household",
        entity_id=household.id,
        detail={"merged": other.id, "person_ids": moved},
    )
    refresh_family(session, moved)
    return Saved(household.id, version)


def gather(
    session: Session, *, hukou_no: str, village_code: str, head_id: int | None, members: Mapping[int, str | None]
) -> int:
    """An import's household: the current one with this 户号 in the village, else the head's (else the
    first member's); every member moves in with their relation (其他 when none is given)."""
    today = clock.today()
    target = None
    if hukou_no:
        target = session.scalar(
            select(Household).where(
                Household.village_code == village_code, Household.hukou_no == hukou_no, Household.ended_on.is_(None)
            )
        )
    if target is None:
        anchor = head_id if head_id is not None else next(iter(members))
        current = current_membership(session, anchor)
        target = session.get(Household, current.household_id) if current is not None else None
        if target is None:
            person = session.get(Person, anchor)
            assert person is not None
            target = new_household(session, person, on=today)
    if hukou_no and target.hukou_no != hukou_no:
        target.hukou_no = hukou_no
    target.version += 1
    session.flush()
    everyone = dict(members)
    if head_id is not None:
        everyone.setdefault(head_id, "head")
    for pid, relation in everyone.items():
        current = current_membership(session, pid)
        if current is not None and current.household_id == target.id:
            if relation and relation != "head" and current.relation != "head":
                current.relation = relation
            continue
        if current is not None:
            leave(session, current, today)
        join(session, target.id, pid, "other" if relation in (None, "head") else relation, today)
    if head_id is not None:
        new_head(session, target.id, head_id)
    elif not any(m.relation == "head" for m in current_members(session, target.id)):
        new_head(session, target.id, next(iter(everyone)))
    return target.id


def household_of_person(session: Session, person_id: int) -> int | None:
    """The id of the person's current household, if any."""
    current = current_membership(session, person_id)
    return current.household_id if current is not None else None


def guardian_facts(
    session: Session, scope: Scope, child: Person, facts: Mapping[str, Any], *, previous: int | None = None
) -> dict[str, Any]:
    """Child facts whose guardian link names a current adult member of the child's household the
    user may see: the name (and an empty phone) filled from that member. A link already stored
    (``previous``) stays as it is even when that member has since left the household."""
    cleaned = dict(facts)
    guardian_id = cleaned.get("guardian_person_id")
    if guardian_id is None or guardian_id == previous:
        return cleaned
    guardian = visible_person(session, scope, guardian_id) if guardian_id != child.id else None
    home = current_membership(session, child.id)
    theirs = current_membership(session, guardian_id) if guardian is not None else None
    if (
        guardian is None
        or home is None
        or theirs is None
        or theirs.household_id != home.household_id
        or guardian.status not in ("active", "exited")
    ):
        raise ValidationError("household.guardian_not_member", field="guardian_person_id")
    if ids.age_on(guardian.birth_date, clock.today()) < enums.ADULT_AGE:
        raise ValidationError("household.guardian_not_adult", field="guardian_person_id")
    cleaned["guardian_name"] = guardian.name
    if not cleaned.get("guardian_phone"):
        cleaned["guardian_phone"] = guardian.phone
    return cleaned

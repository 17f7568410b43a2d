"""Households (户): the family facts the risk rules use, and the household card of a person file."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from care.domain import ids, rules
from care.domain.enums import ADULT_AGE, FRAIL_GUARDIAN_AGE, RISK_ORDER
from care.domain.facts import guardianship_between
from care.queries.scoping import in_area, person_conditions, visible_person
from care.scope import Scope
from db.models import Area, Assignment, ChildDetails, Enrollment, Household, HouseholdMember, Person, Worker

# Who still lives in the household for the family rules: not deleted, not dead, not moved away.
LIVING_STATUSES = ("active", "exited")
# Elderly sub-types that are a disability of their own (a frail guardian like a disabled adult).
DISABLED_ELDERLY = ("disabled_elderly", "severe_disabled")
# Above this many persons one pass over the whole county is cheaper than long IN lists.
LARGE_SELECTION = 2000


@dataclass(frozen=True)
class _Member:
    person_id: int
    age: int
    groups: frozenset[str]
    disabled: bool


def _family(member: _Member, others: list[_Member], guardian_id: int | None = None) -> rules.Family:
    adults = [m for m in others if m.age >= ADULT_AGE]
    frail = bool(adults) and all(_frail(m) for m in adults)
    everyone = [member, *others]
    guardian = next((m for m in others if m.person_id == guardian_id), None)
    return rules.Family(
        frail_guardians=member.age < ADULT_AGE and frail,
        all_in_care=len(everyone) >= 2 and all(m.groups for m in everyone),
        frail_linked_guardian=member.age < ADULT_AGE and guardian is not None and _frail(guardian),
    )


def _frail(member: _Member) -> bool:
    return member.age >= FRAIL_GUARDIAN_AGE or member.disabled


def linked_guardians(session: Session, child_ids: Collection[int] | None) -> dict[int, int]:
    """The household member each child's current enrollment names as guardian (child id → person id)."""
    query = (
        select(Enrollment.person_id, ChildDetails.guardian_person_id)
        .join(ChildDetails, ChildDetails.enrollment_id == Enrollment.id)
        .where(Enrollment.end_date.is_(None), ChildDetails.guardian_person_id.is_not(None))
    )
    if child_ids is not None:
        query = query.where(Enrollment.person_id.in_(list(child_ids)))
    return {child: guardian for child, guardian in session.execute(query) if guardian is not None}


def current_household_ids(session: Session, person_ids: Collection[int]) -> set[int]:
    """The households these persons are members of today."""
    if not person_ids:
        return set()
    return set(
        session.scalars(
            select(HouseholdMember.household_id).where(
                HouseholdMember.person_id.in_(list(person_ids)), HouseholdMember.end_date.is_(None)
            )
        )
    )


def member_ids(session: Session, household_ids: Collection[int]) -> list[int]:
    """The current members of these households."""
    if not household_ids:
        return []
    return list(
        session.scalars(
            select(HouseholdMember.person_id).where(
                HouseholdMember.household_id.in_(list(household_ids)), HouseholdMember.end_date.is_(None)
            )
        )
    )


def family_of(session: Session, person_ids: Collection[int] | None, today: dt.date) -> dict[int, rules.Family]:
    """What each person's household says about them (None: everyone). Persons in no household, or
    alone in one, get ``rules.NO_FAMILY``."""
    members = (
        select(HouseholdMember.household_id, Person.id, Person.birth_date)
        .join(Person, Person.id == HouseholdMember.person_id)
        .where(HouseholdMember.end_date.is_(None), Person.deleted.is_(False), Person.status.in_(LIVING_STATUSES))
    )
    if person_ids is not None and len(person_ids) > LARGE_SELECTION:
        wanted = set(person_ids)
        return {pid: family for pid, family in family_of(session, None, today).items() if pid in wanted}
    if person_ids is not None:
        households = current_household_ids(session, person_ids)
        if not households:
            return {}
        members = members.where(HouseholdMember.household_id.in_(households))
    rows = session.execute(members).all()
    groups: dict[int, set[str]] = defaultdict(set)
    disabled: set[int] = set()
    enrolled = select(Enrollment.person_id, Enrollment.group, Enrollment.subtype).where(Enrollment.end_date.is_(None))
    if person_ids is not None:
        enrolled = enrolled.where(Enrollment.person_id.in_([pid for _, pid, _ in rows]))
    for pid, group, subtype in session.execute(enrolled):
        groups[pid].add(group)
        if group == "disabled" or (group == "elderly" and subtype in DISABLED_ELDERLY):
            disabled.add(pid)
    by_household: dict[int, list[_Member]] = defaultdict(list)
    for hid, pid, birth in rows:
        by_household[hid].append(_Member(pid, ids.age_on(birth, today), frozenset(groups[pid]), pid in disabled))
    guardians = linked_guardians(session, None if person_ids is None else [pid for _, pid, _ in rows])
    result: dict[int, rules.Family] = {}
    for household in by_household.values():
        for member in household:
            if person_ids is None or member.person_id in person_ids:
                others = [m for m in household if m is not member]
                result[member.person_id] = _family(member, others, guardians.get(member.person_id))
    return result


@dataclass(frozen=True)
class MemberView:
    """One member on the household card (only members the user may see are shown by name)."""

    person_id: int
    ref: str
    name: str
    relation: str
    sex: str
    age: int
    groups: tuple[str, ...]
    risk: str | None
    workers: tuple[str, ...]
    last_visit_on: dt.date | None
    is_self: bool
    # Where the member is on the map: "own" (a place of their own), "home" (the household's), "none".
    location: str = "none"


@dataclass(frozen=True)
class HouseholdCard:
    """A person's current household as the person file shows it."""

    id: int
    version: int
    village_code: str
    village: str
    hukou_no: str
    address: str
    lat: float | None
    lon: float | None
    members: list[MemberView]
    # Current members the user may not see (a coordinator sees only their own persons).
    hidden_members: int
    # Catalog keys of the family rules that hold for this household.
    flags: tuple[str, ...]
    former: list[dict[str, object]] = field(default_factory=list)

    @property
    def groups_covered(self) -> int:
        """How many distinct care groups the household's members are in."""
        return len({g for m in self.members for g in m.groups})


def household_card(session: Session, scope: Scope, person_id: int, today: dt.date) -> HouseholdCard | None:
    """The household of a person the user may see, or None (no such person, or in no household)."""
    if visible_person(session, scope, person_id, include_deleted=True) is None:
        return None
    hid = session.scalar(
        select(HouseholdMember.household_id).where(
            HouseholdMember.person_id == person_id, HouseholdMember.end_date.is_(None)
        )
    )
    household = session.get(Household, hid) if hid is not None else None
    if household is None:
        return None
    rows = session.execute(
        select(
            HouseholdMember.person_id, HouseholdMember.relation, HouseholdMember.start_date, HouseholdMember.end_date
        )
        .where(HouseholdMember.household_id == household.id)
        .order_by(HouseholdMember.start_date, HouseholdMember.id)
    ).all()
    current = {pid: relation for pid, relation, _, end in rows if end is None}
    visible = {
        p.id: p
        for p in session.scalars(
            select(Person).where(Person.id.in_(list(current)), *person_conditions(scope, include_deleted=True))
        )
    }
    members = _member_views(
        session, [(pid, current[pid]) for pid in current if pid in visible], visible, person_id, today
    )
    members = [replace(m, location=location_kind(visible[m.person_id], household)) for m in members]
    family = family_of(session, list(current), today)
    flags = _family_flags(family.values())
    former = _former_members(session, scope, rows, current)
    village = session.get(Area, household.village_code)
    return HouseholdCard(
        id=household.id,
        version=household.version,
        village_code=household.village_code,
        village=village.name if village else household.village_code,
        hukou_no=household.hukou_no,
        address=household.address,
        lat=household.lat,
        lon=household.lon,
        members=members,
        hidden_members=len(current) - len(members),
        flags=tuple(flags),
        former=former,
    )


def _family_flags(families: Iterable[rules.Family]) -> list[str]:
    """The household's family risks, as the catalog keys of their reasons."""
    families = list(families)
    flags: list[str] = []
    if any(f.all_in_care for f in families):
        flags.append("risk.reason.all_in_care")
    if any(f.frail_guardians for f in families):
        flags.append("risk.reason.frail_guardians")
    if any(f.frail_linked_guardian and not f.frail_guardians for f in families):
        flags.append("risk.reason.frail_linked_guardian")
    return flags


def _former_members(
    session: Session, scope: Scope, rows: Sequence[Any], current: Mapping[int, str]
) -> list[dict[str, Any]]:
    """Who has left the household (the user may see), with relation and dates."""
    former_ids = [pid for pid, _, _, end in rows if end is not None and pid not in current]
    names = dict(
        session.execute(
            select(Person.id, Person.name).where(Person.id.in_(former_ids), *person_conditions(scope))
        ).all()
    )
    return [
        {"name": names[pid], "relation": relation, "start_date": start, "end_date": end}
        for pid, relation, start, end in rows
        if end is not None and pid in names
    ]


# Two places closer than this (degrees, about 0.1 m) are the same place: locations are stored to 6 decimals.
SAME_PLACE = 1e-6


def same_place(lat: float | None, lon: float | None, other_lat: float | None, other_lon: float | None) -> bool:
    """Both places missing, or both set and equal to the stored precision."""
    if lat is None or lon is None or other_lat is None or other_lon is None:
        return (lat is None or lon is None) and (other_lat is None or other_lon is None)
    return abs(lat - other_lat) < SAME_PLACE and abs(lon - other_lon) < SAME_PLACE


def location_kind(person: Person, household: Household) -> str:
    """ "none" (no location), "home" (the household's location) or "own" (a place of their own)."""
    if person.lat is None or person.lon is None:
        return "none"
    return "home" if same_place(person.lat, person.lon, household.lat, household.lon) else "own"


RELATION_ORDER = {"head": 0, "spouse": 1, "parent": 2, "grandparent": 3, "child": 4, "grandchild": 5, "other": 6}


def _member_views(
    session: Session, members: list[tuple[int, str]], persons: dict[int, Person], self_id: int, today: dt.date
) -> list[MemberView]:
    pids = [pid for pid, _ in members]
    groups: dict[int, list[str]] = defaultdict(list)
    risks: dict[int, str] = {}
    last: dict[int, dt.date] = {}
    for pid, group, risk, last_visit in session.execute(
        select(Enrollment.person_id, Enrollment.group, Enrollment.risk, Enrollment.last_visit_on).where(
            Enrollment.person_id.in_(pids), Enrollment.end_date.is_(None)
        )
    ):
        groups[pid].append(group)
        if pid not in risks or RISK_ORDER[risk] < RISK_ORDER[risks[pid]]:
            risks[pid] = risk
        if last_visit is not None and (pid not in last or last_visit > last[pid]):
            last[pid] = last_visit
    workers: dict[int, set[str]] = defaultdict(set)
    for pid, name in session.execute(
        select(Enrollment.person_id, func.min(Worker.name))
        .join(Assignment, Assignment.enrollment_id == Enrollment.id)
        .join(Worker, Worker.id == Assignment.worker_id)
        .where(
            Enrollment.person_id.in_(pids),
            Enrollment.end_date.is_(None),
            Assignment.start_date <= today,
            Assignment.end_date.is_(None) | (Assignment.end_date >= today),
        )
        .group_by(Enrollment.person_id, Enrollment.id)
    ):
        workers[pid].add(name)
    views = [
        MemberView(
            person_id=pid,
            ref=persons[pid].ref,
            name=persons[pid].name,
            relation=relation,
            sex=persons[pid].sex,
            age=ids.age_on(persons[pid].birth_date, today),
            groups=tuple(sorted(groups[pid])),
            risk=risks.get(pid),
            workers=tuple(sorted(workers[pid])),
            last_visit_on=last.get(pid),
            is_self=pid == self_id,
        )
        for pid, relation in members
    ]
    return sorted(views, key=lambda m: (RELATION_ORDER[m.relation], -m.age))


@dataclass(frozen=True)
class Choice:
    """A person or household offered in a household action, with the version a save must carry."""

    id: int
    label: str
    version: int = 0


def addable_persons(session: Session, scope: Scope, household: HouseholdCard, today: dt.date) -> list[Choice]:
    """Persons of the household's village the user may see who are not in it (by name, masked ID)."""
    inside = {m.person_id for m in household.members}
    rows = session.execute(
        select(Person.id, Person.name, Person.birth_date, Person.id_number)
        .where(Person.village_code == household.village_code, *person_conditions(scope))
        .order_by(Person.name, Person.id)
    ).all()
    return [
        Choice(pid, f"{name}（{ids.age_on(birth, today)}，{ids.mask_id_number(number)}）")
        for pid, name, birth, number in rows
        if pid not in inside
    ]


def other_households(session: Session, scope: Scope, household: HouseholdCard) -> list[Choice]:
    """Current households of the same village with a member the user may see, labelled by their
    visible members' names (the head first)."""
    rows = session.execute(
        select(Household.id, Household.version, Person.name, HouseholdMember.relation)
        .join(HouseholdMember, HouseholdMember.household_id == Household.id)
        .join(Person, Person.id == HouseholdMember.person_id)
        .where(
            Household.village_code == household.village_code,
            Household.ended_on.is_(None),
            Household.id != household.id,
            HouseholdMember.end_date.is_(None),
            *person_conditions(scope),
        )
        .order_by(Household.id, HouseholdMember.relation != "head", Person.name)
    ).all()
    names: dict[int, list[str]] = defaultdict(list)
    versions: dict[int, int] = {}
    for hid, version, name, _ in rows:
        names[hid].append(name)
        versions[hid] = version
    return [Choice(hid, "、".join(members), versions[hid]) for hid, members in names.items()]


@dataclass(frozen=True)
class HouseholdFigures:
    """Households in an area today, as the reports page counts them."""

    households_covered: int
    multi_group: int
    children: int
    children_guardian_in_care: int
    frail_guardians: int
    all_in_care: int

    @property
    def guardian_in_care_share(self) -> float | None:
        """The share of listed children with an adult of their household on a care register."""
        return self.children_guardian_in_care / self.children if self.children else None


NO_FIGURES = HouseholdFigures(0, 0, 0, 0, 0, 0)


def household_figures(session: Session, scope: Scope, area_prefix: str, today: dt.date) -> HouseholdFigures:
    """Counts over the households of the persons the user may see in the area with this code prefix:
    with anyone on a register, with two or more groups, children whose household has an adult on a
    register, and households the family rules flag."""
    return household_figures_by_area(session, scope, area_prefix, today, lambda _code: "").get("", NO_FIGURES)


def household_figures_by_area(
    session: Session, scope: Scope, area_prefix: str, today: dt.date, area_of: Callable[[str], str]
) -> dict[str, HouseholdFigures]:
    """``household_figures`` for each area ``area_of`` puts a household's village in (areas with no
    household are left out)."""
    rows = session.execute(
        select(HouseholdMember.household_id, Person.id, Person.birth_date, Household.village_code)
        .join(Person, Person.id == HouseholdMember.person_id)
        .join(Household, Household.id == HouseholdMember.household_id)
        .where(
            HouseholdMember.end_date.is_(None),
            Person.status.in_(LIVING_STATUSES),
            in_area(Person.village_code, area_prefix),
            *person_conditions(scope),
        )
    ).all()
    groups: dict[int, set[str]] = defaultdict(set)
    for pid, group in session.execute(
        select(Enrollment.person_id, Enrollment.group)
        .join(Person, Person.id == Enrollment.person_id)
        .where(Enrollment.end_date.is_(None), in_area(Person.village_code, area_prefix), *person_conditions(scope))
    ):
        groups[pid].add(group)
    by_household: dict[int, list[tuple[int, int]]] = defaultdict(list)
    area: dict[int, str] = {}
    for hid, pid, birth, village in rows:
        by_household[hid].append((pid, ids.age_on(birth, today)))
        area[hid] = area_of(village)
    family = family_of(session, [pid for _, pid, _, _ in rows], today) if rows else {}
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * 6)
    for hid, members in by_household.items():
        tally = counts[area[hid]]
        covered_groups = {g for pid, _ in members for g in groups[pid]}
        tally[0] += bool(covered_groups)
        tally[1] += len(covered_groups) >= 2
        for pid, _ in members:
            if "child" in groups[pid]:
                tally[2] += 1
                tally[3] += any(other != pid and age >= ADULT_AGE and groups[other] for other, age in members)
        said = [family.get(pid, rules.NO_FAMILY) for pid, _ in members]
        tally[4] += any(f.frail_guardians for f in said)
        tally[5] += any(f.all_in_care for f in said)
    return {code: HouseholdFigures(*tally) for code, tally in counts.items()}


@dataclass(frozen=True)
class GuardianChoice:
    """An adult of a child's household who may be named the child's guardian."""

    person_id: int
    name: str
    relation: str
    age: int
    # The guardianship type their place in the household implies for the child (None: not sure).
    guardianship: str | None


def guardian_choices(session: Session, scope: Scope, child_id: int, today: dt.date) -> list[GuardianChoice]:
    """The current adult members of the child's household the user may see (the child excluded)."""
    hid = session.scalar(
        select(HouseholdMember.household_id).where(
            HouseholdMember.person_id == child_id, HouseholdMember.end_date.is_(None)
        )
    )
    if hid is None or visible_person(session, scope, child_id, include_deleted=True) is None:
        return []
    rows = session.execute(
        select(Person.id, Person.name, Person.birth_date, HouseholdMember.relation)
        .join(HouseholdMember, HouseholdMember.person_id == Person.id)
        .where(
            HouseholdMember.household_id == hid,
            HouseholdMember.end_date.is_(None),
            Person.status.in_(LIVING_STATUSES),
            *person_conditions(scope),
        )
        .order_by(HouseholdMember.id)
    ).all()
    own = next((relation for pid, _, _, relation in rows if pid == child_id), None)
    return [
        GuardianChoice(pid, name, relation, ids.age_on(birth, today), guardianship_between(own, relation))
        for pid, name, birth, relation in rows
        if pid != child_id and ids.age_on(birth, today) >= ADULT_AGE
    ]


def disabled_persons(session: Session, person_ids: Collection[int]) -> set[int]:
    """Which of these persons count as disabled for the family rules (the disabled register, or an
    elderly sub-type that is a disability)."""
    if not person_ids:
        return set()
    rows = session.execute(
        select(Enrollment.person_id, Enrollment.group, Enrollment.subtype).where(
            Enrollment.person_id.in_(list(person_ids)), Enrollment.end_date.is_(None)
        )
    )
    return {
        pid
        for pid, group, subtype in rows
        if group == "disabled" or (group == "elderly" and subtype in DISABLED_ELDERLY)
    }

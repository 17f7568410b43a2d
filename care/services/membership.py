"""Household membership bookkeeping that registering and moving a person needs: a person's own new
household, joining and leaving one, following a village change, and re-running the family risks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from care.domain import clock
from care.queries.households import current_household_ids, member_ids
from care.services.due import refresh_risks
from db.models import Household, HouseholdMember, Person


def refresh_family(session: Session, person_ids: Collection[int], *, also: Collection[int] = ()) -> list[int]:
    """Re-run the risk rules for everyone in these persons' households (and in households ``also``)."""
    households = current_household_ids(session, person_ids) | set(also)
    members = set(member_ids(session, households)) | set(person_ids)
    return refresh_risks(session, person_ids=members)


def new_household(session: Session, person: Person, *, on: dt.date | None = None) -> Household:
    """A one-person household for ``person`` (their village, address and location), with them as head."""
    now = clock.now()
    household = Household(
        village_code=person.village_code,
        hukou_no="",
        address=person.address,
        lat=person.lat,
        lon=person.lon,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(household)
    session.flush()
    join(session, household.id, person.id, "head", on or clock.today())
    return household


def join(session: Session, household_id: int, person_id: int, relation: str, on: dt.date) -> None:
    session.add(
        HouseholdMember(household_id=household_id, person_id=person_id, relation=relation, start_date=on, end_date=None)
    )
    session.flush()


def current_membership(session: Session, person_id: int) -> HouseholdMember | None:
    return session.scalar(
        select(HouseholdMember).where(HouseholdMember.person_id == person_id, HouseholdMember.end_date.is_(None))
    )


def current_members(session: Session, household_id: int) -> list[HouseholdMember]:
    return list(
        session.scalars(
            select(HouseholdMember)
            .where(HouseholdMember.household_id == household_id, HouseholdMember.end_date.is_(None))
            .order_by(HouseholdMember.id)
        )
    )


def leave(session: Session, membership: HouseholdMember, on: dt.date) -> None:
    """End a membership; a household left with nobody ends too."""
    membership.end_date = on
    session.flush()
    if not current_members(session, membership.household_id):
        household = session.get(Household, membership.household_id)
        if household is not None and household.ended_on is None:
            household.ended_on = on
            session.flush()


def new_head(session: Session, household_id: int, head_id: int) -> None:
    """``head_id`` becomes 户主; a former head stays a member, as 其他 until someone says otherwise."""
    for member in current_members(session, household_id):
        if member.person_id == head_id:
            member.relation = "head"
        elif member.relation == "head":
            member.relation = "other"
    session.flush()


def moved_village(session: Session, person: Person) -> None:
    """A person whose village changed: alone, their household moves with them; otherwise they leave
    it for a household of their own in the new village."""
    current = current_membership(session, person.id)
    if current is None:
        new_household(session, person)
        return
    others = [m for m in current_members(session, current.household_id) if m.person_id != person.id]
    if not others:
        household = session.get(Household, current.household_id)
        if household is not None:
            household.village_code = person.village_code
            session.flush()
        return
    leave(session, current, clock.today())
    if current.relation == "head":
        new_head(session, current.household_id, others[0].person_id)
    new_household(session, person)
    refresh_family(session, [person.id], also=[current.household_id])


def left_home(session: Session, person: Person, *, on: dt.date) -> None:
    """A person who died or moved away leaves their household (the membership stays as history)."""
    current = current_membership(session, person.id)
    if current is None:
        return
    others = [m for m in current_members(session, current.household_id) if m.person_id != person.id]
    leave(session, current, max(on, current.start_date))
    if current.relation == "head" and others:
        new_head(session, current.household_id, others[0].person_id)
    refresh_family(session, [m.person_id for m in others], also=[current.household_id])

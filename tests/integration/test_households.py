"""Households: one current household per person with history, the family risk rules, the card."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from care import services
from care.domain.errors import NotFound, StaleRecord, ValidationError
from care.queries.households import family_of, household_card
from care.queries.person_file import person_file
from care.services import households
from db.models import AuditEvent, Enrollment, Household, HouseholdMember, Person
from db.session import reading, transaction
from tests.fixtures.scope import fixture_id_number
from tests.integration.conftest import FIXTURE_TODAY

TODAY = FIXTURE_TODAY


def _household(engine, pid) -> int:
    with reading(engine) as session:
        hid = households.household_of_person(session, pid)
    assert hid is not None
    return hid


def _version(engine, hid) -> int:
    with reading(engine) as session:
        return session.get(Household, hid).version


def _child_enrollment(engine, pid) -> Enrollment:
    with reading(engine) as session:
        return session.scalars(
            select(Enrollment).where(Enrollment.person_id == pid, Enrollment.end_date.is_(None))
        ).first()


def _add(engine, world, hid, pid, relation, scope="admin"):
    with transaction(engine) as session:
        return households.add_member(
            session,
            world.scopes[scope],
            household_id=hid,
            seen_version=_version(engine, hid),
            person_id=pid,
            relation=relation,
        )


def test_every_person_created_is_the_head_of_a_household_of_their_own(engine, world):
    with reading(engine) as session:
        rows = session.execute(
            select(HouseholdMember.person_id, HouseholdMember.relation, Household.village_code, Household.address)
            .join(Household, Household.id == HouseholdMember.household_id)
            .where(HouseholdMember.end_date.is_(None))
        ).all()
    assert len(rows) == len(world.persons)
    assert {r.person_id for r in rows} == set(world.persons.values())
    assert {r.relation for r in rows} == {"head"}
    assert all(r.address for r in rows)


def test_a_child_whose_only_adult_at_home_is_76_becomes_high_risk_and_says_why(engine, world):
    child, elder = world.persons["a1_child_w1"], world.persons["a1_elder_unassigned"]
    assert _child_enrollment(engine, child).risk == "low"
    elder_home, home = _household(engine, elder), _household(engine, child)
    _add(engine, world, home, elder, "grandparent")
    enrollment = _child_enrollment(engine, child)
    assert enrollment.risk_auto == "high"
    assert enrollment.risk == "high"
    with reading(engine) as session:
        pf = person_file(session, world.scopes["admin"], child, TODAY)
        old = session.get(Household, elder_home)
        history = session.scalars(select(HouseholdMember).where(HouseholdMember.person_id == elder)).all()
    assert "risk.reason.frail_guardians" in pf.enrollments[0].risk_reasons
    # Both are in a care group: the household is flagged too, and the elder's risk says so.
    assert "risk.reason.all_in_care" in pf.enrollments[0].risk_reasons
    assert old.ended_on == TODAY
    assert sorted((h.household_id, h.end_date) for h in history) == sorted([(elder_home, TODAY), (home, None)])


def test_a_younger_adult_at_home_lifts_the_frail_guardian_flag(engine, world):
    child, elder = world.persons["a1_child_w1"], world.persons["a1_elder_unassigned"]
    hid = _household(engine, child)
    _add(engine, world, hid, elder, "grandparent")
    with transaction(engine) as session:
        adult = services.create_person(
            session,
            world.scopes["admin"],
            values={
                "id_number": fixture_id_number(dt.date(1990, 1, 1), 90, "M"),
                "name": "返乡父亲",
                "village_code": world.village_a1,
            },
        ).id
    _add(engine, world, hid, adult, "other")
    with reading(engine) as session:
        family = family_of(session, [child], TODAY)[child]
    assert not family.frail_guardians
    assert not family.all_in_care  # the father is on no register
    assert _child_enrollment(engine, child).risk == "low"


def test_splitting_the_elder_out_again_brings_the_child_back_to_low(engine, world):
    child, elder = world.persons["a1_child_w1"], world.persons["a1_elder_unassigned"]
    hid = _household(engine, child)
    _add(engine, world, hid, elder, "grandparent")
    with transaction(engine) as session:
        saved = households.split_household(
            session, world.scopes["admin"], household_id=hid, seen_version=_version(engine, hid), person_ids=[elder]
        )
    assert _household(engine, elder) == saved.id != hid
    assert _child_enrollment(engine, child).risk == "low"
    with reading(engine) as session:
        heads = session.scalars(
            select(HouseholdMember.person_id).where(
                HouseholdMember.household_id == saved.id, HouseholdMember.relation == "head"
            )
        ).all()
    assert heads == [elder]


def test_merging_two_households_moves_every_member_and_keeps_one_head(engine, world):
    child, elder = world.persons["a1_child_w1"], world.persons["a1_elder_unassigned"]
    hid, other = _household(engine, child), _household(engine, elder)
    with transaction(engine) as session:
        households.merge_households(
            session,
            world.scopes["township_a"],
            household_id=hid,
            seen_version=_version(engine, hid),
            other_id=other,
            other_version=_version(engine, other),
        )
    with reading(engine) as session:
        members = session.execute(
            select(HouseholdMember.person_id, HouseholdMember.relation).where(
                HouseholdMember.household_id == hid, HouseholdMember.end_date.is_(None)
            )
        ).all()
        ended = session.get(Household, other)
        events = session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "household")).all()
    assert dict(members) == {child: "head", elder: "other"}
    assert ended.merged_into == hid and ended.ended_on == TODAY
    assert "household.merge" in events
    assert _child_enrollment(engine, child).risk == "high"


def test_households_of_two_villages_cannot_be_joined(engine, world):
    hid = _household(engine, world.persons["a1_child_w1"])
    with pytest.raises(ValidationError) as refused:
        _add(engine, world, hid, world.persons["a2_disabled_w3"], "other")
    assert refused.value.key == "household.other_village"
    assert _household(engine, world.persons["a2_disabled_w3"]) != hid


def test_a_stale_household_edit_is_refused_and_nothing_moves(engine, world):
    child, elder = world.persons["a1_child_w1"], world.persons["a1_elder_unassigned"]
    hid = _household(engine, child)
    seen = _version(engine, hid)
    with transaction(engine) as session:
        households.update_household(
            session, world.scopes["admin"], household_id=hid, seen_version=seen, values={"hukou_no": "520101001"}
        )
    with pytest.raises(StaleRecord), transaction(engine) as session:
        households.add_member(
            session, world.scopes["admin"], household_id=hid, seen_version=seen, person_id=elder, relation="spouse"
        )
    assert _household(engine, elder) != hid


def test_a_coordinator_cannot_pull_in_a_person_they_do_not_see(engine, world):
    hid = _household(engine, world.persons["a1_child_w1"])
    with pytest.raises(NotFound):
        _add(engine, world, hid, world.persons["a1_elder_unassigned"], "grandparent", scope="coord_1")


def test_the_card_shows_each_member_and_hides_from_a_coordinator_who_they_may_not_see(engine, world):
    child, elder = world.persons["a1_child_w1"], world.persons["a1_elder_unassigned"]
    _add(engine, world, _household(engine, child), elder, "grandparent")
    with reading(engine) as session:
        full = household_card(session, world.scopes["township_a"], child, TODAY)
        coordinator = household_card(session, world.scopes["coord_1"], child, TODAY)
        outsider = household_card(session, world.scopes["township_b"], child, TODAY)
    assert [(m.name, m.relation, m.groups) for m in full.members] == [
        ("测试a1_child_w1", "head", ("child",)),
        ("测试a1_elder_unassigned", "grandparent", ("elderly",)),
    ]
    assert full.members[0].workers == ("吴儿主",) and full.members[0].risk == "high"
    assert full.hidden_members == 0
    assert set(full.flags) == {"risk.reason.frail_guardians", "risk.reason.all_in_care"}
    assert [m.name for m in coordinator.members] == ["测试a1_child_w1"]
    assert coordinator.hidden_members == 1
    assert outsider is None


def test_moving_to_another_village_leaves_the_household(engine, world):
    child, elder = world.persons["a1_child_w1"], world.persons["a1_elder_unassigned"]
    hid = _household(engine, child)
    _add(engine, world, hid, elder, "grandparent")
    with reading(engine) as session:
        seen = session.get(Person, elder).version
    with transaction(engine) as session:
        services.update_person(
            session,
            world.scopes["admin"],
            person_id=elder,
            seen_version=seen,
            values={"village_code": world.village_a2},
        )
    moved_to = _household(engine, elder)
    with reading(engine) as session:
        assert session.get(Household, moved_to).village_code == world.village_a2
    assert moved_to != hid
    assert _child_enrollment(engine, child).risk == "low"


def test_the_daily_run_flags_a_child_when_the_only_adult_turns_70(engine, world, freeze_clock):
    child = world.persons["a1_child_w1"]
    hid = _household(engine, child)
    with transaction(engine) as session:
        adult = services.create_person(
            session,
            world.scopes["admin"],
            values={
                "id_number": fixture_id_number(dt.date(1956, 6, 11), 91, "M"),
                "name": "将满七十",
                "village_code": world.village_a1,
            },
        ).id
    _add(engine, world, hid, adult, "grandparent")
    assert _child_enrollment(engine, child).risk == "low"
    with transaction(engine) as session:
        services.refresh_risks(session, today=TODAY)
    freeze_clock(dt.date(2026, 6, 12))
    with transaction(engine) as session:
        changed = services.refresh_risks(session, today=dt.date(2026, 6, 12), since=TODAY)
    assert _child_enrollment(engine, child).id in changed
    assert _child_enrollment(engine, child).risk == "high"


def test_a_person_is_in_one_current_household_at_most(engine, world):
    child, elder = world.persons["a1_child_w1"], world.persons["a1_elder_unassigned"]
    with pytest.raises(Exception), transaction(engine) as session:  # noqa: B017 - the database's own refusal
        session.add(
            HouseholdMember(household_id=_household(engine, child), person_id=elder, relation="other", start_date=TODAY)
        )
        session.flush()
    with reading(engine) as session:
        assert session.scalar(select(func.count(HouseholdMember.id)).where(HouseholdMember.person_id == elder)) == 1


def test_enrolling_the_only_adult_as_disabled_flags_the_child_and_their_death_ends_the_membership(engine, world):
    child = world.persons["a1_child_w1"]
    hid = _household(engine, child)
    with transaction(engine) as session:
        adult = services.create_person(
            session,
            world.scopes["admin"],
            values={
                "id_number": fixture_id_number(dt.date(1986, 2, 2), 92, "F"),
                "name": "母亲",
                "village_code": world.village_a1,
            },
        ).id
    _add(engine, world, hid, adult, "parent")
    assert _child_enrollment(engine, child).risk == "low"
    with transaction(engine) as session:
        enrolled = services.enroll(
            session,
            world.scopes["admin"],
            person_id=adult,
            group="disabled",
            subtype="uncertified",
            start_date=TODAY - dt.timedelta(days=3),
            facts={"category": 4, "grade": 3},
        )
    assert _child_enrollment(engine, child).risk == "high"
    with transaction(engine) as session:
        services.exit_enrollment(
            session,
            world.scopes["admin"],
            enrollment_id=enrolled.id,
            seen_version=enrolled.version,
            reason="died",
            end_date=TODAY,
        )
    with reading(engine) as session:
        rows = session.execute(
            select(HouseholdMember.household_id, HouseholdMember.end_date).where(HouseholdMember.person_id == adult)
        ).all()
    # Their own first household ended when they joined; the shared one when they died: no current one.
    assert (hid, TODAY) in [tuple(r) for r in rows] and all(end is not None for _, end in rows)
    assert _child_enrollment(engine, child).risk == "low"


def test_the_household_figures_count_households_groups_and_guardians_in_care(engine, world):
    from care.queries.reports import household_report

    child, elder = world.persons["a1_child_w1"], world.persons["a1_elder_unassigned"]
    with reading(engine) as session:
        before = household_report(session, world.scopes["township_a"], area_code=world.village_a1, today=TODAY)
    _add(engine, world, _household(engine, child), elder, "grandparent")
    with reading(engine) as session:
        after = household_report(session, world.scopes["township_a"], area_code=world.village_a1, today=TODAY)
        elsewhere = household_report(session, world.scopes["township_b"], area_code=None, today=TODAY)
    assert after.households_covered == before.households_covered - 1
    assert after.multi_group == before.multi_group + 1
    assert after.children == before.children
    assert after.children_guardian_in_care == before.children_guardian_in_care + 1
    assert (after.frail_guardians, after.all_in_care) == (before.frail_guardians + 1, before.all_in_care + 1)
    assert elsewhere.children == 1 and elsewhere.children_guardian_in_care == 0
    with pytest.raises(NotFound):
        with reading(engine) as session:
            household_report(session, world.scopes["township_b"], area_code=world.village_a1, today=TODAY)


def test_a_new_relative_is_registered_into_the_household_and_a_bad_id_writes_nothing(engine, world):
    child = world.persons["a1_child_w1"]
    hid = _household(engine, child)
    with pytest.raises(ValidationError), transaction(engine) as session:
        households.add_new_member(
            session,
            world.scopes["township_a"],
            household_id=hid,
            seen_version=_version(engine, hid),
            values={"name": "错号", "id_number": "522699198001010010"},
            relation="parent",
        )
    with reading(engine) as session:
        assert session.scalar(select(func.count(Person.id)).where(Person.name == "错号")) == 0
    with transaction(engine) as session:
        saved = households.add_new_member(
            session,
            world.scopes["township_a"],
            household_id=hid,
            seen_version=_version(engine, hid),
            values={"name": "母亲", "id_number": fixture_id_number(dt.date(1988, 8, 8), 93, "F")},
            relation="parent",
        )
    with reading(engine) as session:
        person = session.get(Person, saved.id)
        card = household_card(session, world.scopes["township_a"], child, TODAY)
    assert _household(engine, saved.id) == hid
    assert (person.village_code, person.address) == (world.village_a1, card.address)
    assert [(m.name, m.relation) for m in card.members] == [("测试a1_child_w1", "head"), ("母亲", "parent")]

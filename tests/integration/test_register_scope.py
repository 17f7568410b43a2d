"""Register queries obey scope for every role; counts match lists; out-of-scope looks missing."""

from __future__ import annotations

import datetime as dt

import pytest

from care.queries.home import home_summary
from care.queries.person_file import person_file
from care.queries.registers import RegisterFilter, register_count, register_page
from db.session import reading
from tests.integration.conftest import FIXTURE_TODAY

TODAY = FIXTURE_TODAY
EVERYONE = {"a1_child_w1", "a1_child_w2", "a1_elder_unassigned", "a2_disabled_w3", "a1_child_disabled", "b1_child_w4"}
EXPECTED = {
    "admin": EVERYONE,
    "county": EVERYONE,
    "township_a": EVERYONE - {"b1_child_w4"},
    "township_b": {"b1_child_w4"},
    "coord_1": {"a1_child_w1", "a1_child_disabled"},
    "coord_2": {"a1_child_w2"},
    "coord_b": {"b1_child_w4"},
    "no_area": set(),
}


def _visible(engine, world, user, **filters):
    names = {v: k for k, v in world.persons.items()}
    with reading(engine) as session:
        page = register_page(session, world.scopes[user], RegisterFilter(page_size=200, **filters), TODAY)
        count = register_count(session, world.scopes[user], RegisterFilter(**filters), TODAY)
    keys = {names[pid] for pid in page.rows["person_id"]}
    assert count == page.total == len(keys)
    return keys


@pytest.mark.parametrize("user", sorted(EXPECTED))
def test_each_role_sees_exactly_its_scope_and_counts_match_the_list(engine, world, user):
    assert _visible(engine, world, user) == EXPECTED[user]
    with reading(engine) as session:
        summary = home_summary(session, world.scopes[user], TODAY)
    assert summary.persons == len(EXPECTED[user])


def test_a_coordinator_does_not_see_a_colleagues_person_in_the_same_village(engine, world):
    with reading(engine) as session:
        mine = person_file(session, world.scopes["coord_2"], world.persons["a1_child_w2"], TODAY)
        theirs = person_file(session, world.scopes["coord_2"], world.persons["a1_child_w1"], TODAY)
        missing = person_file(session, world.scopes["coord_2"], 999_999, TODAY)
    assert mine is not None and mine.name == "测试a1_child_w2"
    assert theirs is None and missing is None


def test_an_area_filter_outside_the_users_scope_widens_nothing(engine, world):
    assert _visible(engine, world, "township_b", area_code=world.village_a1) == set()


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"group": "disabled"}, {"a2_disabled_w3", "a1_child_disabled"}),
        ({"group": "elderly"}, {"a1_elder_unassigned"}),
        ({"risk": "high"}, {"a1_child_disabled"}),
        ({"area_code": "522699101202"}, {"a2_disabled_w3"}),
        ({"text": "a1_child"}, {"a1_child_w1", "a1_child_w2", "a1_child_disabled"}),
        ({"text": "20160301"}, {"a1_child_w1"}),
    ],
)
def test_filters_and_search_narrow_the_register(engine, world, filters, expected):
    assert _visible(engine, world, "township_a", **filters) == expected


def test_the_person_file_holds_the_id_masked_and_only_the_right_gets_the_whole_number(engine, world):
    from care.queries.person_file import full_id_number

    pid = world.persons["a1_child_w1"]
    with reading(engine) as session:
        for_county = person_file(session, world.scopes["county"], pid, TODAY)
        for_township = person_file(session, world.scopes["township_a"], pid, TODAY)
        whole_for_county = full_id_number(session, world.scopes["county"], pid)
        whole_for_township = full_id_number(session, world.scopes["township_a"], pid)
        whole_outside = full_id_number(session, world.scopes["township_b"], pid)
    assert not hasattr(for_county, "id_number") and not hasattr(for_township, "id_number")
    assert "*" in for_county.id_masked and for_county.id_masked == for_township.id_masked
    assert whole_for_county is None and whole_outside is None
    assert whole_for_township is not None and "*" not in whole_for_township and len(whole_for_township) == 18
    assert for_county.phone_masked.count("*") == 4


def test_the_person_file_shows_enrollments_risk_reasons_workers_and_due_dates(engine, world):
    with reading(engine) as session:
        pf = person_file(session, world.scopes["admin"], world.persons["a1_child_disabled"], TODAY)
    groups = {e.group: e for e in pf.enrollments}
    assert set(groups) == {"child", "disabled"}
    assert groups["child"].risk == "high" and "risk.reason.no_guardian" in groups["child"].risk_reasons
    assert groups["child"].worker == "吴儿主" and groups["disabled"].worker == "李康复"
    assert groups["child"].next_due_on == TODAY - dt.timedelta(days=200) + dt.timedelta(days=7)
    assert pf.next_due_on == groups["child"].next_due_on and pf.risk == "high"


def test_counts_say_what_they_count_and_agree_once_their_basis_is_known(engine, world):
    """Home counts persons on a register today; the register lists every person, by status."""
    from sqlalchemy import select

    from care.queries.registers import register_status_counts
    from db.models import Enrollment, Person
    from db.session import transaction

    scope = world.scopes["township_a"]
    pid = world.persons["a1_elder_unassigned"]
    with transaction(engine) as session:
        person = session.get(Person, pid)
        person.status = "moved"
        for enrollment in session.scalars(select(Enrollment).where(Enrollment.person_id == pid)):
            enrollment.end_date = TODAY
    with reading(engine) as session:
        summary = home_summary(session, scope, TODAY)
        total = register_count(session, scope, RegisterFilter(), TODAY)
        by_status = register_status_counts(session, scope, RegisterFilter(), TODAY)
        overdue = session.execute(
            select(Enrollment.person_id)
            .join(Person)
            .where(
                Enrollment.end_date.is_(None),
                Enrollment.next_due_on < TODAY,
                Person.village_code.like(world.township_a[:9] + "%"),
                Person.deleted.is_(False),
            )
        ).all()
    assert sum(by_status.values()) == total == len(EXPECTED["township_a"])
    assert by_status.get("moved") == 1
    # The moved person is listed on the register but no longer counted as on a register today.
    assert summary.persons == total - 1
    assert summary.overdue == len(overdue) and summary.overdue_persons == len({row[0] for row in overdue})

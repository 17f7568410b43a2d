"""Division codes and the scope rules built on them: deny by default, prefix containment."""

from __future__ import annotations

import pytest

from care.domain import areas
from care.domain.errors import ValidationError
from care.scope import ROLE_ACTIONS, ROLE_PAGES, Scope


@pytest.mark.parametrize(
    ("code", "level", "prefix"),
    [
        ("520000000000", "province", "52"),
        ("522600000000", "city", "5226"),
        ("522699000000", "county", "522699"),
        ("522699101000", "township", "522699101"),
        ("522699101203", "village", "522699101203"),
    ],
)
def test_the_level_and_prefix_follow_the_trailing_zeros(code, level, prefix):
    assert areas.level_of(code) == level
    assert areas.prefix_of(code) == prefix


@pytest.mark.parametrize(
    ("code", "parent"),
    [
        ("522699101203", "522699101000"),
        ("522699101000", "522699000000"),
        ("522699000000", "522600000000"),
        ("522600000000", "520000000000"),
        ("520000000000", None),
    ],
)
def test_each_area_has_the_one_above_it_by_its_digits(code, parent):
    assert areas.parent_of(code) == parent
    assert areas.above_county(code) == (areas.level_of(code) in ("city", "province"))


def test_a_city_official_sees_every_county_of_the_city_and_nothing_beyond():
    city = Scope(1, "c", "city", "522600000000")
    assert city.covers("522699101203") and city.covers("522601000000")
    assert not city.covers("522701101203")
    assert city.can("report.view") and not city.can("visit.record") and not city.can("person.view_full_id")
    assert city.may_open("reports") and not city.may_open("policy") and not city.may_open("admin")
    assert Scope(2, "p", "province", "520000000000").covers("522701101203")
    # A city role without an area, or with a role the code does not know, sees nothing.
    assert Scope(3, "x", "city", None).sees_nothing
    assert Scope(4, "y", "prefecture", "522600000000").sees_nothing


@pytest.mark.parametrize("bad", ["52269910120", "5226991012034", "52269910120X", "", None])
def test_a_code_that_is_not_twelve_digits_is_refused(bad):
    with pytest.raises(ValidationError):
        areas.level_of(bad)


@pytest.mark.parametrize(
    ("outer", "inner", "inside"),
    [
        ("522699000000", "522699101203", True),
        ("522699101000", "522699101203", True),
        ("522699101000", "522699102203", False),
        ("522699101203", "522699101203", True),
        ("522699101203", "522699101204", False),
        ("522699000000", "522634101203", False),
    ],
)
def test_an_area_contains_exactly_the_codes_under_its_prefix(outer, inner, inside):
    assert areas.contains(outer, inner) is inside


def test_the_prefix_range_holds_every_code_with_the_prefix_and_no_other():
    low, high = areas.prefix_bounds("522699101")
    assert low <= "522699101000" < high
    assert low <= "522699101999" < high
    assert not (low <= "522699102000" < high)
    assert not (low <= "522699100999" < high)


@pytest.mark.parametrize(
    ("scope", "sees_nothing"),
    [
        (Scope(1, "u", "township", None), True),
        (Scope(1, "u", "township", "bogus"), True),
        (Scope(1, "u", "nobody", "522699000000"), True),
        (Scope(1, "u", "coordinator", "522699101000", worker_id=None), True),
        (Scope(1, "u", "coordinator", "522699101000", worker_id=7), False),
        (Scope(1, "u", "county", "522699000000"), False),
    ],
)
def test_a_user_without_area_role_or_worker_sees_nothing(scope, sees_nothing):
    assert scope.sees_nothing is sees_nothing


def test_a_township_supervisor_covers_only_their_township():
    scope = Scope(1, "u", "township", "522699101000")
    assert scope.covers("522699101203")
    assert not scope.covers("522699102201")


@pytest.mark.parametrize("role", list(ROLE_PAGES))
def test_every_role_opens_home_and_registers_but_only_writers_create(role):
    scope = Scope(1, "u", role, "522699000000", worker_id=1)
    assert scope.may_open("home") and scope.may_open("registers")
    assert scope.may_open("person_new") == scope.can("person.create")


def test_county_officials_only_read_and_coordinators_cannot_delete_or_create():
    assert not {
        a for a in ROLE_ACTIONS["county"] if not a.startswith(("person.view", "report.", "export.", "diary.view"))
    }
    assert "person.view_full_id" not in ROLE_ACTIONS["county"]
    assert not {"person.create", "person.delete", "enrollment.exit"} & ROLE_ACTIONS["coordinator"]


def test_an_unknown_role_may_do_nothing():
    scope = Scope(1, "u", "guest", "522699000000")
    assert not scope.can("person.view")
    assert not scope.may_open("home")


@pytest.mark.parametrize(
    ("group", "age", "fits"),
    [
        ("child", 15, True),
        # Past 16 a child may still be 困境儿童 or 事实无人抚养儿童 (under 18); each sub-type's own
        # limit is checked on enrolling.
        ("child", 17, True),
        ("child", 18, False),
        ("elderly", 59, False),
        ("elderly", 60, True),
        ("disabled", 3, True),
        ("disabled", 90, True),
    ],
)
def test_each_group_admits_its_ages(group, age, fits):
    from care.domain.enums import group_fits_age

    assert group_fits_age(group, age) is fits

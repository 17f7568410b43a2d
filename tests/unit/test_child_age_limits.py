"""Child age limits: each child sub-type leaves the register at its own age, on the exact day."""

from __future__ import annotations

import datetime as dt

import pytest

from care.domain import enums, rules
from care.domain.errors import ValidationError
from care.domain.facts import clean_facts
from care.i18n import CATALOG
from care.services.age_limits import check_age_limits

D = dt.date
FACTS = {"guardianship": "grandparent"}


@pytest.mark.parametrize(("subtype", "limit"), [("left_behind", 16), ("distressed", 18), ("unsupported", 18)])
def test_each_child_sub_type_has_its_national_limit(subtype, limit):
    assert rules.child_age_limit(subtype) == limit


def test_a_county_limit_wins_over_the_national_one_for_its_sub_type_only():
    limits = {"left_behind": 14, "distressed": 17}
    assert rules.child_age_limit("left_behind", limits) == 14
    assert rules.child_age_limit("distressed", limits) == 17
    assert rules.child_age_limit("unsupported", limits) == 18


@pytest.mark.parametrize(
    ("subtype", "birth", "on", "aged_out"),
    [
        ("left_behind", D(2010, 7, 23), D(2026, 7, 22), False),  # the day before the 16th birthday
        ("left_behind", D(2010, 7, 23), D(2026, 7, 23), True),  # the 16th birthday
        ("distressed", D(2010, 7, 23), D(2026, 7, 23), False),  # 16: still a child in difficulty
        ("distressed", D(2008, 7, 23), D(2026, 7, 22), False),  # the day before the 18th birthday
        ("distressed", D(2008, 7, 23), D(2026, 7, 23), True),
        ("unsupported", D(2008, 7, 23), D(2026, 7, 22), False),
        ("unsupported", D(2008, 7, 23), D(2026, 7, 23), True),
        # Born 29 February: a year older on 1 March in a common year, on the 29th in a leap year.
        ("left_behind", D(2012, 2, 29), D(2028, 2, 28), False),
        ("left_behind", D(2012, 2, 29), D(2028, 2, 29), True),
        ("distressed", D(2008, 2, 29), D(2026, 2, 28), False),
        ("distressed", D(2008, 2, 29), D(2026, 3, 1), True),
    ],
)
def test_a_child_ages_out_on_the_birthday_of_their_sub_types_limit(subtype, birth, on, aged_out):
    assert rules.child_aged_out(subtype, birth, on) is aged_out
    born_by = rules.latest_birth_at_age(on, rules.child_age_limit(subtype))
    assert (birth <= born_by) is aged_out


@pytest.mark.parametrize(
    ("birth", "age", "expected"),
    [(D(2010, 7, 23), 16, D(2026, 7, 23)), (D(2008, 2, 29), 18, D(2026, 3, 1)), (D(2012, 2, 29), 16, D(2028, 2, 29))],
)
def test_the_day_a_limit_is_reached(birth, age, expected):
    assert rules.reaches_age_on(birth, age) == expected


@pytest.mark.parametrize(
    ("on", "age", "expected"), [(D(2026, 7, 23), 16, D(2010, 7, 23)), (D(2028, 2, 29), 18, D(2010, 2, 28))]
)
def test_the_latest_birth_at_an_age(on, age, expected):
    assert rules.latest_birth_at_age(on, age) == expected


def _clean(subtype, birth, on, limits=None):
    return clean_facts("child", subtype, FACTS, id_number="", birth_date=birth, on=on, age_limits=limits)


def test_a_distressed_child_of_16_enrolls_and_a_left_behind_one_is_refused_naming_the_group_and_limit():
    assert _clean("distressed", D(2010, 7, 23), D(2026, 7, 23))["guardianship"] == "grandparent"
    with pytest.raises(ValidationError) as error:
        _clean("left_behind", D(2010, 7, 23), D(2026, 7, 23))
    assert error.value.key == "enrollment.child_too_old.left_behind"
    assert error.value.field == "birth_date"
    assert "农村留守儿童须未满 16 周岁" in error.value.message("zh")
    assert "under 16" in error.value.message("en")


def test_the_county_limit_is_the_one_named_in_the_refusal():
    with pytest.raises(ValidationError) as error:
        _clean("distressed", D(2009, 7, 23), D(2026, 7, 23), {"distressed": 17})
    assert "困境儿童须未满 17 周岁" in error.value.message("zh")


def test_every_child_sub_type_has_its_messages():
    for subtype in enums.SUBTYPES["child"]:
        assert f"enrollment.child_too_old.{subtype}" in CATALOG
        assert f"age_limit.bad.{subtype}" in CATALOG
        assert subtype in enums.CHILD_AGE_LIMITS


@pytest.mark.parametrize(
    ("value", "ok"), [(14, True), (18, True), (13, False), (19, False), (16.5, False), ("16", False), (True, False)]
)
def test_limits_are_whole_years_from_14_to_18(value, ok):
    limits = {**enums.CHILD_AGE_LIMITS, "distressed": value}
    if ok:
        assert check_age_limits(limits)["distressed"] == value
    else:
        with pytest.raises(ValidationError) as error:
            check_age_limits(limits)
        assert error.value.key == "age_limit.bad.distressed"


def test_a_missing_or_unknown_sub_type_is_refused():
    with pytest.raises(ValidationError):
        check_age_limits({"left_behind": 16, "distressed": 18})
    with pytest.raises(ValidationError):
        check_age_limits({**enums.CHILD_AGE_LIMITS, "orphan": 18})

"""The demo builder's pure helpers: ages, birthdays, ID numbers, passwords, village counts."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from care.demo.accounts import demo_password
from care.demo.common import birth_for_age, birthday, demo_rng, id_number, village_counts
from care.domain.ids import age_on, parse_id_number
from care.domain.rules import years_before


@pytest.mark.parametrize(
    "today",
    [dt.date(2026, 6, 10), dt.date(2028, 2, 29), dt.date(2027, 2, 28), dt.date(2027, 3, 1), dt.date(2026, 12, 31)],
)
@pytest.mark.parametrize("age", [0, 1, 15, 16, 60, 98])
def test_a_birth_drawn_for_an_age_has_exactly_that_age_today(today: dt.date, age: int) -> None:
    rng = random.Random(f"{today}:{age}")
    for _ in range(200):
        assert age_on(birth_for_age(rng, today, age), today) == age


@pytest.mark.parametrize(
    ("birth", "age", "expected"),
    [
        (dt.date(2010, 6, 1), 16, dt.date(2026, 6, 1)),
        (dt.date(2012, 2, 29), 16, dt.date(2028, 2, 29)),
        (dt.date(2012, 2, 29), 15, dt.date(2027, 3, 1)),
        (dt.date(1966, 2, 28), 60, dt.date(2026, 2, 28)),
    ],
)
def test_a_birthday_is_the_first_day_of_the_new_age(birth: dt.date, age: int, expected: dt.date) -> None:
    assert birthday(birth, age) == expected
    assert age_on(birth, expected) == age
    assert age_on(birth, expected - dt.timedelta(days=1)) == age - 1


def test_years_before_turns_29_february_into_28_february() -> None:
    assert years_before(dt.date(2028, 2, 29), 1) == dt.date(2027, 2, 28)
    assert years_before(dt.date(2028, 2, 29), 4) == dt.date(2024, 2, 29)


@pytest.mark.parametrize(("sequence", "sex"), [(0, "F"), (1, "M"), (998, "F"), (999, "M")])
def test_an_id_number_carries_its_birth_date_and_sex(sequence: int, sex: str) -> None:
    number = id_number("522699", dt.date(1950, 3, 4), sequence)
    # 522699 is the demo county's own code, known from its area list, not from GB/T 2260.
    info = parse_id_number(number, today=dt.date(2026, 1, 1), local_regions={"522699"})
    assert (info.region, info.birth_date, info.sex) == ("522699", dt.date(1950, 3, 4), sex)


@pytest.mark.parametrize("username", ["admin", "county", "township", "coordinator", "a"])
def test_demo_passwords_are_strong_and_leave_out_the_username(username: str) -> None:
    for seed in range(300):
        password = demo_password(demo_rng(seed, "accounts"), username)
        assert len(password) >= 12 and username not in password.lower()
        assert any(c.isupper() for c in password) and any(c.islower() for c in password)
        assert any(c.isdigit() for c in password) and any(not c.isalnum() for c in password)


def test_the_same_seed_gives_the_same_password_and_another_seed_another() -> None:
    first = demo_password(demo_rng(1, "accounts"), "admin")
    assert first == demo_password(demo_rng(1, "accounts"), "admin")
    assert first != demo_password(demo_rng(2, "accounts"), "admin")


@pytest.mark.parametrize("seed", range(200))
def test_villages_per_township_stay_in_range_and_total_about_300(seed: int) -> None:
    counts = village_counts(demo_rng(seed, "areas"), 12)
    assert len(counts) == 12 and all(18 <= n <= 32 for n in counts)
    assert 285 <= sum(counts) <= 315

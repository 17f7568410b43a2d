"""Patrol planning rules: distances, route order (NN then 2-opt), spreading under the daily limit."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest

from care.domain.schedule import (
    Due,
    haversine_km,
    nearest_neighbour,
    path_km,
    planning_week,
    route,
    spread,
    two_opt,
    working_days,
)

D = dt.date


@pytest.mark.parametrize(
    ("a", "b", "km"),
    [
        ((0.0, 0.0), (0.0, 1.0), 111.195),  # one degree of longitude on the equator
        ((26.0, 108.0), (27.0, 108.0), 111.195),  # one degree of latitude anywhere
        ((39.9042, 116.4074), (31.2304, 121.4737), 1067.3),  # Beijing - Shanghai
        ((26.5, 108.2), (26.5, 108.2), 0.0),
    ],
)
def test_great_circle_distance_on_known_pairs(a, b, km):
    assert haversine_km(a, b) == pytest.approx(km, abs=0.5)


def _brute_force(start, points):
    return min(path_km(start, [points[i] for i in order]) for order in itertools.permutations(range(len(points))))


@pytest.mark.parametrize("seed", range(25))
def test_two_opt_is_never_longer_than_nearest_neighbour(seed):
    rng = random.Random(seed)
    start = (26.4, 108.2)
    points = [(26.4 + rng.uniform(-0.1, 0.1), 108.2 + rng.uniform(-0.1, 0.1)) for _ in range(rng.randint(3, 14))]
    nn = nearest_neighbour(start, points)
    improved = two_opt(start, points, nn)
    assert sorted(improved) == list(range(len(points)))
    assert path_km(start, [points[i] for i in improved]) <= path_km(start, [points[i] for i in nn]) + 1e-9


def test_a_small_instance_whose_best_route_is_known_is_found():
    # Office at the west end; five households strung along a road that doubles back. Nearest
    # neighbour jumps across; the best open path (checked by brute force over 120 orders) walks the road.
    start = (26.40, 108.10)
    points = [(26.40, 108.20), (26.41, 108.12), (26.40, 108.16), (26.41, 108.19), (26.40, 108.13)]
    best = _brute_force(start, points)
    order = route(start, points)
    assert path_km(start, [points[i] for i in order]) == pytest.approx(best, rel=1e-9)


@pytest.mark.parametrize("seed", range(10))
def test_small_random_instances_come_within_five_percent_of_the_optimum(seed):
    rng = random.Random(100 + seed)
    start = (26.4, 108.2)
    points = [(26.4 + rng.uniform(-0.05, 0.05), 108.2 + rng.uniform(-0.05, 0.05)) for _ in range(7)]
    order = route(start, points)
    assert path_km(start, [points[i] for i in order]) <= _brute_force(start, points) * 1.05


def test_stops_without_coordinates_go_last_and_are_never_dropped():
    points = [None, (26.41, 108.21), None, (26.40, 108.20)]
    order = route((26.40, 108.19), points)
    assert order == [3, 1, 0, 2]


def test_a_worker_without_an_office_location_still_gets_a_route():
    points = [(26.40, 108.20), (26.40, 108.30), (26.40, 108.21)]
    order = route(None, points)
    assert sorted(order) == [0, 1, 2] and path_km(None, [points[i] for i in order]) < 0.2 * 111


WEEK = [D(2026, 6, 8) + dt.timedelta(days=i) for i in range(5)]  # Monday to Friday


def _due(key, due_on, risk="low", overdue=False):
    return Due(key, due_on, risk, overdue)


def test_overdue_and_high_risk_visits_are_placed_first_and_early():
    items = [
        _due("low-fri", D(2026, 6, 12)),
        _due("late", D(2026, 6, 1), overdue=True),
        _due("high-wed", D(2026, 6, 10), risk="high"),
    ]
    plan, left = spread(items, WEEK, daily_limit=8)
    assert [i.key for i in plan[WEEK[0]]] == ["late"]
    assert [i.key for i in plan[WEEK[2]]] == ["high-wed"]
    assert [i.key for i in plan[WEEK[4]]] == ["low-fri"]
    assert left == []


@pytest.mark.parametrize(("count", "limit", "placed"), [(12, 2, 10), (40, 8, 40), (41, 8, 40), (3, 1, 3)])
def test_no_day_passes_the_daily_limit_and_what_does_not_fit_is_returned(count, limit, placed):
    items = [_due(i, D(2026, 6, 1), overdue=i % 2 == 0, risk="high" if i % 3 == 0 else "low") for i in range(count)]
    plan, left = spread(items, WEEK, daily_limit=limit)
    assert all(len(day) <= limit for day in plan.values())
    assert sum(len(day) for day in plan.values()) == placed and len(left) == count - placed
    kept = {i.key for day in plan.values() for i in day}
    assert all(i.overdue for i in items if i.key in kept) or not any(i.overdue for i in left)


def test_a_full_day_pushes_a_visit_to_an_earlier_day_before_its_due_date():
    items = [_due(f"a{i}", D(2026, 6, 10)) for i in range(3)]
    plan, _ = spread(items, WEEK, daily_limit=2)
    assert [len(plan[d]) for d in WEEK] == [0, 1, 2, 0, 0]


def test_a_zero_daily_limit_is_refused():
    with pytest.raises(ValueError, match="daily_limit"):
        spread([], WEEK, daily_limit=0)


@pytest.mark.parametrize(
    ("taken", "expected"),
    [
        ({}, [2, 2, 1, 0, 0]),
        ({WEEK[0]: 2}, [0, 2, 2, 1, 0]),  # Monday already holds two kept stops
        ({WEEK[0]: 1, WEEK[1]: 2}, [1, 0, 2, 2, 0]),
        (dict.fromkeys(WEEK, 2), [0, 0, 0, 0, 0]),  # a full week places nothing
    ],
)
def test_stops_kept_from_an_earlier_plan_count_against_the_daily_limit(taken, expected):
    items = [_due(i, D(2026, 6, 1), overdue=True) for i in range(5)]
    plan, left = spread(items, WEEK, daily_limit=2, taken=taken)
    assert [len(plan[d]) for d in WEEK] == expected
    assert len(left) == 5 - sum(expected)


@pytest.mark.parametrize(
    ("day", "monday", "friday"),
    [
        (D(2026, 6, 10), D(2026, 6, 8), D(2026, 6, 12)),
        (D(2026, 6, 14), D(2026, 6, 8), D(2026, 6, 12)),
        (D(2026, 6, 8), D(2026, 6, 8), D(2026, 6, 12)),
        (D(2027, 1, 1), D(2026, 12, 28), D(2027, 1, 1)),
    ],
)
def test_a_week_runs_monday_to_friday_from_any_day_in_it(day, monday, friday):
    days = working_days(day)
    assert (days[0], days[-1], len(days)) == (monday, friday, 5)


@pytest.mark.parametrize(
    ("today", "monday"),
    [
        (D(2026, 6, 8), D(2026, 6, 8)),  # Monday: this week
        (D(2026, 6, 10), D(2026, 6, 8)),  # Wednesday: still this week
        (D(2026, 6, 11), D(2026, 6, 15)),  # Thursday: next week
        (D(2026, 6, 12), D(2026, 6, 15)),  # Friday: next week
        (D(2026, 6, 13), D(2026, 6, 15)),  # the weekend: next week
        (D(2026, 6, 14), D(2026, 6, 15)),
        (D(2026, 12, 31), D(2027, 1, 4)),  # a Thursday at the turn of the year
    ],
)
def test_the_week_to_plan_is_next_week_from_thursday_on(today, monday):
    assert planning_week(today) == monday

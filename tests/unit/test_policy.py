"""Visit policy: which visits count, next due dates for every group and risk, due status."""

from __future__ import annotations

import datetime as dt

import pytest

from care.domain import policy

D = dt.date


@pytest.mark.parametrize(
    ("group", "risk", "days"),
    [
        ("child", "high", 7),
        ("child", "medium", 14),
        ("child", "low", 30),
        ("elderly", "high", 7),
        ("elderly", "medium", 30),
        ("elderly", "low", 90),
        ("disabled", "high", 14),
        ("disabled", "medium", 30),
        ("disabled", "low", 90),
    ],
)
def test_next_due_is_last_counted_visit_plus_the_group_and_risk_interval(group, risk, days):
    interval = policy.DEFAULT_INTERVALS[(group, risk)]
    assert interval == days
    assert policy.next_due(D(2025, 1, 1), D(2026, 3, 10), interval) == D(2026, 3, 10) + dt.timedelta(days=days)


@pytest.mark.parametrize(("group", "risk"), list(policy.DEFAULT_INTERVALS))
def test_never_visited_is_due_one_interval_after_the_enrollment_start(group, risk):
    interval = policy.DEFAULT_INTERVALS[(group, risk)]
    assert policy.next_due(D(2026, 2, 1), None, interval) == D(2026, 2, 1) + dt.timedelta(days=interval)


def test_a_visit_from_before_the_enrollment_does_not_count_for_it():
    assert policy.next_due(D(2026, 5, 1), D(2026, 4, 20), 30) == D(2026, 5, 31)


@pytest.mark.parametrize(
    ("status", "mode", "phone_counts", "counts"),
    [
        ("done", "home", False, True),
        ("done", "third_party", False, True),
        ("done", "volunteer", False, True),
        ("done", "phone", False, False),
        ("done", "phone", True, True),
        ("not_met", "home", True, False),
        ("cancelled", "home", True, False),
        ("planned", "home", True, False),
        ("done", None, True, False),
    ],
)
def test_only_done_visits_count_and_phone_visits_only_when_the_policy_says_so(status, mode, phone_counts, counts):
    assert policy.counts(status, mode, phone_counts=phone_counts) is counts


@pytest.mark.parametrize(
    ("due", "status"),
    [
        (D(2026, 6, 9), "overdue"),
        (D(2026, 6, 10), "due_soon"),
        (D(2026, 6, 17), "due_soon"),
        (D(2026, 6, 18), "on_time"),
        (None, "on_time"),
    ],
)
def test_due_status_is_derived_from_the_due_date_and_today(due, status):
    assert policy.due_status(due, D(2026, 6, 10)) == status

"""How due dates move when visits are recorded, when the policy changes and when the risk changes."""

from __future__ import annotations

import datetime as dt

import pytest

from care.domain import policy

D = dt.date
START = D(2026, 1, 5)


@pytest.mark.parametrize(
    ("visits", "interval", "phone_counts", "due"),
    [
        ([], 14, False, D(2026, 1, 19)),  # never visited: start + interval
        ([(D(2026, 2, 1), "done", "home")], 14, False, D(2026, 2, 15)),
        ([(D(2026, 2, 1), "done", "home"), (D(2026, 2, 10), "not_met", "home")], 14, False, D(2026, 2, 15)),
        ([(D(2026, 2, 1), "not_met", "home")], 14, False, D(2026, 1, 19)),  # 未遇 does not reset the clock
        ([(D(2026, 2, 1), "cancelled", None)], 14, False, D(2026, 1, 19)),
        ([(D(2026, 2, 1), "planned", None)], 14, False, D(2026, 1, 19)),
        ([(D(2026, 2, 1), "done", "phone")], 14, False, D(2026, 1, 19)),  # phone does not count by default
        ([(D(2026, 2, 1), "done", "phone")], 14, True, D(2026, 2, 15)),  # ... unless the policy says so
        ([(D(2026, 2, 1), "done", "third_party"), (D(2026, 2, 3), "done", "phone")], 14, False, D(2026, 2, 15)),
        ([(D(2026, 2, 1), "done", "volunteer")], 30, False, D(2026, 3, 3)),
        ([(D(2025, 12, 1), "done", "home")], 14, False, D(2026, 1, 19)),  # before the enrollment began
    ],
)
def test_the_next_due_date_follows_the_last_counted_visit(visits, interval, phone_counts, due):
    assert policy.due_after(visits, START, interval, phone_counts=phone_counts) == due


LAST = [(D(2026, 3, 2), "done", "home")]


@pytest.mark.parametrize(
    ("group", "old_risk", "new_risk", "changes", "old_due", "new_due"),
    [
        # Policy changes: the same history, a new interval.
        ("child", "medium", "medium", {("child", "medium"): 7}, D(2026, 3, 16), D(2026, 3, 9)),
        ("elderly", "low", "low", {("elderly", "low"): 30}, D(2026, 5, 31), D(2026, 4, 1)),
        ("disabled", "low", "low", {("disabled", "medium"): 10}, D(2026, 5, 31), D(2026, 5, 31)),  # other row
        # Risk changes: the same policy, a new row of it.
        ("child", "low", "high", {}, D(2026, 4, 1), D(2026, 3, 9)),
        ("elderly", "high", "medium", {}, D(2026, 3, 9), D(2026, 4, 1)),
        ("disabled", "medium", "high", {}, D(2026, 4, 1), D(2026, 3, 16)),
    ],
)
def test_a_policy_or_risk_change_moves_the_due_date_from_the_same_last_visit(
    group, old_risk, new_risk, changes, old_due, new_due
):
    new_intervals = {**policy.DEFAULT_INTERVALS, **changes}
    before = policy.due_after(LAST, START, policy.DEFAULT_INTERVALS[(group, old_risk)], phone_counts=False)
    after = policy.due_after(LAST, START, new_intervals[(group, new_risk)], phone_counts=False)
    assert (before, after) == (old_due, new_due)

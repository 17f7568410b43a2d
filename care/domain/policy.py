"""Visit policy (巡访规则): intervals by group and risk, which visits count, and due dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

DEFAULT_INTERVALS: dict[tuple[str, str], int] = {
    ("child", "high"): 7,
    ("child", "medium"): 14,
    ("child", "low"): 30,
    # Elderly: high / key (重点) / general (一般).
    ("elderly", "high"): 7,
    ("elderly", "medium"): 30,
    ("elderly", "low"): 90,
    ("disabled", "high"): 14,
    ("disabled", "medium"): 30,
    ("disabled", "low"): 90,
}
DEFAULT_PHONE_COUNTS = False
DEFAULT_DAILY_LIMIT = 8
DUE_SOON_DAYS = 7

SETTING_PHONE_COUNTS = "policy.phone_counts"
SETTING_DAILY_LIMIT = "policy.daily_limit"

COUNTED_MODES_IN_PERSON = ("home", "third_party", "volunteer")


def counts(status: str, mode: str | None, *, phone_counts: bool) -> bool:
    """Whether a visit resets the clock: done, and in person unless phone visits count."""
    if status != "done":
        return False
    if mode == "phone":
        return phone_counts
    return mode in COUNTED_MODES_IN_PERSON


def next_due(start_date: dt.date, last_visit_on: dt.date | None, interval_days: int) -> dt.date:
    """Last counted visit + interval; never visited: the enrollment start + interval."""
    base = last_visit_on if last_visit_on is not None and last_visit_on >= start_date else start_date
    return base + dt.timedelta(days=interval_days)


def due_after(
    visits: Sequence[tuple[dt.date, str, str | None]], start_date: dt.date, interval_days: int, *, phone_counts: bool
) -> dt.date:
    """Next due date from a visit history (day, status, mode): last counted visit or start, plus interval."""
    counted = [day for day, status, mode in visits if counts(status, mode, phone_counts=phone_counts)]
    return next_due(start_date, max(counted, default=None), interval_days)


def due_status(next_due_on: dt.date | None, today: dt.date) -> str:
    """'overdue' (due before today), 'due_soon' (within 7 days) or 'on_time'."""
    if next_due_on is None:
        return "on_time"
    if next_due_on < today:
        return "overdue"
    if next_due_on <= today + dt.timedelta(days=DUE_SOON_DAYS):
        return "due_soon"
    return "on_time"

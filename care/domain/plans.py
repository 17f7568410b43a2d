"""Care plans and service orders as rules (no DB, no UI): review dates, what calls for a review,
how far a planned service has come this period, and which order moves are allowed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from care.domain import enums

# A plan is reviewed at least every six months (一人一案 动态管理).
REVIEW_MONTHS_MAX = 6
GOALS_MAX = 2000
REASON_MAX = 200
NOTE_MAX = 200
# Days an order may take, by default, from the day it is raised.
ORDER_DUE_DAYS = 14

# Order moves: from a status, the statuses it may go to.
ORDER_MOVES: dict[str, tuple[str, ...]] = {
    "open": ("assigned", "scheduled", "delivered", "declined", "cancelled"),
    "assigned": ("assigned", "scheduled", "delivered", "declined", "cancelled"),
    "scheduled": ("assigned", "scheduled", "delivered", "declined", "cancelled"),
    "delivered": ("delivered",),  # a delivery's record (satisfaction, note) may be completed later
    "declined": (),
    "cancelled": (),
}


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - 28 always exists


def latest_review(approved_on: dt.date) -> dt.date:
    """The last day a plan approved on ``approved_on`` may be reviewed on."""
    return add_months(approved_on, REVIEW_MONTHS_MAX)


@dataclass(frozen=True)
class ReviewState:
    """Whether the plan in force is due for a review, and why (catalog keys)."""

    due: bool
    reasons: tuple[str, ...]


def review_state(*, review_on: dt.date, risk_at_approval: str | None, risk_now: str, today: dt.date) -> ReviewState:
    """A plan in force is due for review on its review date, or as soon as the risk has changed."""
    reasons = []
    if today >= review_on:
        reasons.append("plan.review.date")
    if risk_at_approval is not None and risk_at_approval != risk_now:
        reasons.append("plan.review.risk")
    return ReviewState(bool(reasons), tuple(reasons))


def period_start(day: dt.date, period: str) -> dt.date:
    """The first day of the week (Monday), month, quarter or year holding ``day``."""
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if period == "year":
        return dt.date(day.year, 1, 1)
    raise ValueError(period)


@dataclass(frozen=True)
class Progress:
    """A planned service this period: delivered so far out of the times planned."""

    delivered: int
    planned: int

    @property
    def met(self) -> bool:
        """Delivered as often as planned (or more)."""
        return self.delivered >= self.planned


def progress(delivered_on: list[dt.date], *, times: int, period: str, today: dt.date) -> Progress:
    """How many of the deliveries fall in the current period (up to today)."""
    start = period_start(today, period)
    return Progress(sum(1 for d in delivered_on if start <= d <= today), times)


def can_move(status: str, to: str) -> bool:
    """Whether an order in ``status`` may be moved to ``to``."""
    return to in ORDER_MOVES.get(status, ())


def is_overdue(status: str, due_on: dt.date, today: dt.date) -> bool:
    """An order still to be delivered after its due date."""
    return status in enums.ORDER_OPEN and due_on < today

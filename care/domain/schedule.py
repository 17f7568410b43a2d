"""Patrol planning rules (巡访排班): great-circle distances, route order, spreading over days.

Pure functions on plain values. A stop is anything with an optional (lat, lon); stops without
coordinates are never dropped: they go last, after the routed ones, and callers flag them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

EARTH_RADIUS_KM = 6371.0088
WORKING_DAYS = 5  # Monday to Friday
NEXT_WEEK_FROM = 3  # Thursday: by then the week is mostly done and next week's sheet is what gets planned
Point = tuple[float, float]


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle distance in kilometres between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


def path_km(start: Point | None, points: Sequence[Point]) -> float:
    """Length of the open path start → points[0] → … → points[-1] (start omitted when None)."""
    legs = ([start] if start is not None else []) + list(points)
    return sum(haversine_km(legs[i], legs[i + 1]) for i in range(len(legs) - 1))


def nearest_neighbour(start: Point | None, points: Sequence[Point]) -> list[int]:
    """Indexes of ``points`` in nearest-neighbour order from ``start`` (or from the first point)."""
    if not points:
        return []
    left = list(range(len(points)))
    order: list[int] = []
    if start is None:
        order.append(left.pop(0))
    here: Point = start if start is not None else points[order[0]]
    while left:
        best = min(left, key=lambda i: (haversine_km(here, points[i]), i))
        left.remove(best)
        order.append(best)
        here = points[best]
    return order


def two_opt(start: Point | None, points: Sequence[Point], order: list[int]) -> list[int]:
    """Improve an open path by reversing segments while that shortens it (never lengthens it)."""
    best = list(order)
    n = len(best)
    if n < 3 and start is None:
        return best

    def at(position: int) -> Point | None:
        if position < 0:
            return start
        return points[best[position]]

    improved = True
    while improved:
        improved = False
        for i in range(n - 1):
            before = at(i - 1)
            for j in range(i + 1, n):
                after = at(j + 1) if j + 1 < n else None
                old = (haversine_km(before, points[best[i]]) if before else 0.0) + (
                    haversine_km(points[best[j]], after) if after else 0.0
                )
                new = (haversine_km(before, points[best[j]]) if before else 0.0) + (
                    haversine_km(points[best[i]], after) if after else 0.0
                )
                if new < old - 1e-9:
                    best[i : j + 1] = reversed(best[i : j + 1])
                    improved = True
    return best


def route(start: Point | None, points: Sequence[Point | None]) -> list[int]:
    """Visit order: nearest neighbour then 2-opt over stops with coordinates; the rest last."""
    located = [i for i, p in enumerate(points) if p is not None]
    coords = [points[i] for i in located]
    order = two_opt(start, coords, nearest_neighbour(start, coords))  # type: ignore[arg-type]
    return [located[k] for k in order] + [i for i, p in enumerate(points) if p is None]


@dataclass(frozen=True)
class Due:
    """A visit to place in the week: its key, due date, risk, and whether it is overdue."""

    key: Any  # whatever the caller places: an id, a row
    due_on: dt.date
    risk: str
    overdue: bool


RISK_RANK = {"high": 0, "medium": 1, "low": 2}


def priority(item: Due) -> tuple[int, int, dt.date]:
    """Overdue first, then high risk, then the earliest due date."""
    return (0 if item.overdue else 1, RISK_RANK.get(item.risk, 3), item.due_on)


def spread(
    items: Sequence[Due],
    days: Sequence[dt.date],
    daily_limit: int,
    taken: Mapping[dt.date, int] | None = None,
) -> tuple[dict[dt.date, list[Due]], list[Due]]:
    """Place visits on working days in priority order without passing the daily limit.

    Overdue visits take the earliest day with room; a visit not yet due takes the latest day
    with room on or before its due date (on time, not needlessly early), else the earliest day
    with room after it. ``taken`` counts stops a day already holds (kept from an earlier plan).
    Returns the days and the visits that did not fit this week.
    """
    if daily_limit < 1:
        raise ValueError("daily_limit must be at least 1")
    taken = taken or {}
    plan: dict[dt.date, list[Due]] = {day: [] for day in days}
    left: list[Due] = []
    for item in sorted(items, key=priority):
        open_days = [d for d in days if taken.get(d, 0) + len(plan[d]) < daily_limit]
        if not open_days:
            left.append(item)
            continue
        on_time = [d for d in open_days if d <= item.due_on]
        day = open_days[0] if item.overdue or not on_time else on_time[-1]
        plan[day].append(item)
    return plan, left


def week_start_of(day: dt.date) -> dt.date:
    """The Monday of the week holding ``day``."""
    return day - dt.timedelta(days=day.weekday())


def planning_week(today: dt.date) -> dt.date:
    """The Monday of the week to plan on ``today``: this week Monday to Wednesday, next week from Thursday."""
    monday = week_start_of(today)
    return monday + dt.timedelta(days=7) if today.weekday() >= NEXT_WEEK_FROM else monday


def working_days(week_start: dt.date) -> list[dt.date]:
    """Monday to Friday of the week holding ``week_start``."""
    monday = week_start_of(week_start)
    return [monday + dt.timedelta(days=i) for i in range(WORKING_DAYS)]

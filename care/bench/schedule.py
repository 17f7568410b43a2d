"""Schedule benchmarks: every due date of the county, and one worker's routed week.

``due_dates_all`` recomputes the last counted visit and next due date of every active enrollment
(what a policy change does); ``worker_week`` plans one worker's week (due stops, spread, routes,
saved rows); ``worker_week_view`` reads it back as the page shows it. Writes are rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, func, select, update

from care.auth import scope_of
from care.bench.common import line, timed, user_scope
from care.domain import clock
from care.domain.policy import SETTING_PHONE_COUNTS
from care.domain.schedule import week_start_of
from care.queries.schedule import week_plan
from care.services.due import refresh_due_dates
from care.services.schedule import generate_week
from db.models import Assignment, Setting, User, VisitPolicy
from db.session import reading, rolled_back


def _coordinator(engine: Engine) -> tuple[Any, int]:
    with reading(engine) as session:
        user = session.scalar(
            select(User).where(User.role == "coordinator", User.worker_id.is_not(None)).order_by(User.id)
        )
        if user is None or user.worker_id is None:
            raise SystemExit("no coordinator account in this database; build it with python -m care.demo")
        return scope_of(user), user.worker_id


def _busiest(engine: Engine) -> int:
    with reading(engine) as session:
        return int(
            session.execute(
                select(Assignment.worker_id)
                .where(Assignment.end_date.is_(None))
                .group_by(Assignment.worker_id)
                .order_by(func.count().desc())
                .limit(1)
            ).scalar_one()
        )


def bench_schedule(engine: Engine, n: int) -> Iterator[dict[str, Any]]:
    """due_dates_all (target < 2 s) and worker_week (target < 0.2 s), plus the busiest worker."""

    def all_due() -> int:
        # A policy change that moves every interval: every active due date is rewritten.
        with rolled_back(engine) as session:
            session.execute(update(VisitPolicy).values(interval_days=VisitPolicy.interval_days + 1))
            return refresh_due_dates(session, recount=False)

    def recount() -> int:
        # Phone visits start counting: each enrollment's last counted visit is found again.
        with rolled_back(engine) as session:
            session.merge(Setting(key=SETTING_PHONE_COUNTS, value="1"))
            return refresh_due_dates(session, recount=True)

    times, count = timed(all_due, repeat=5)
    yield line("schedule", "due_dates_all", n, times, due_dates_moved=count)
    times, count = timed(recount, repeat=3)
    yield line("schedule", "due_dates_recount_visits", n, times, due_dates_moved=count)

    monday = week_start_of(clock.today())
    coordinator, own = _coordinator(engine)
    admin = user_scope(engine, "admin")
    for case, scope, worker in (("worker_week", coordinator, own), ("worker_week_busiest", admin, _busiest(engine))):

        def plan(scope: Any = scope, worker: int = worker) -> Any:
            with rolled_back(engine) as session:
                result = generate_week(session, scope, worker_id=worker, week_start=monday)
                view = week_plan(session, scope, worker_id=worker, week_start=monday, today=clock.today())
                return result, view

        times, (result, view) = timed(plan, repeat=10)
        yield line(
            "schedule",
            case,
            n,
            times,
            worker_id=worker,
            households=view.stops,
            km=view.distance_km,
            left=len(result.left),
        )

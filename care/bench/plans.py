"""Care plan and service benchmarks: a person file with its plans and orders, the county's
service figures for a month with their lists, and one order raised and delivered (on a copy)."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from care.bench.common import active_user, copy_database, line
from care.domain import clock
from care.domain.reports import month_of, months_back
from care.queries.person_file import person_file
from care.queries.plans import person_plans, service_report
from care.queries.scoping import in_area
from care.scope import Scope
from care.services import orders
from db.models import CarePlan, Person
from db.session import get_engine, reading, transaction

SEED = 5
FILES = 30
ORDERS = 20


def bench_plans(engine: Engine, n: int) -> Iterator[dict[str, Any]]:
    """person_file_with_plan (target < 0.1 s), service_kpis_county (target < 2 s), the county report with
    every list (the workbook's), order_raise_and_deliver (on a copy)."""
    today = clock.today()
    township = active_user(engine, "township")
    county = active_user(engine, "county")
    picks = _picked_persons(engine, township)
    if not picks:
        return
    yield _person_files(engine, township, picks, today, n)
    month = months_back(month_of(today), 2)[0].label  # the last complete month
    yield _service_kpis(engine, county, month, today, n)
    yield _service_report_with_lists(engine, county, month, today, n)
    yield _order_raise_and_deliver(engine, township, picks[:ORDERS], today, n)


def _picked_persons(engine: Engine, township: Scope) -> list[int]:
    """A repeatable sample of FILES persons of the township with an approved plan."""
    with reading(engine) as session:
        planned = list(
            session.scalars(
                select(CarePlan.person_id)
                .join(Person, Person.id == CarePlan.person_id)
                .where(CarePlan.status == "approved", in_area(Person.village_code, township.prefix or ""))
                .distinct()
            )
        )
    if not planned:
        return []
    return random.Random(SEED).sample(planned, min(FILES, len(planned)))  # noqa: S311 - a repeatable sample


def _person_files(engine: Engine, township: Scope, picks: list[int], today: dt.date, n: int) -> dict[str, Any]:
    """person_file_with_plan: each picked person's file and plans, read together."""
    times, items = [], 0
    for pid in picks:
        start = time.perf_counter()
        with reading(engine) as session:
            pf = person_file(session, township, pid, today)
            found = person_plans(session, township, pid, today)
        times.append(time.perf_counter() - start)
        assert pf is not None
        items += sum(len(s.current.items) for s in found.plans if s.current is not None)
    return line("plans", "person_file_with_plan", n, times, role=township.role, items=items, target=0.1)


def _service_kpis(engine: Engine, county: Scope, month: str, today: dt.date, n: int) -> dict[str, Any]:
    """service_kpis_county: the county's service figures for ``month``, without the lists."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        with reading(engine) as session:
            report = service_report(session, county, month=month, area_code=None, today=today, lists=())
        times.append(time.perf_counter() - start)
    f = report.figures
    return line(
        "plans",
        "service_kpis_county",
        n,
        times,
        role=county.role,
        month=month,
        enrollments=f.enrollments,
        plans=f.with_plan,
        delivered=f.delivered,
        open_orders=f.open_now,
        overdue=f.overdue_now,
        target=2,
    )


def _service_report_with_lists(engine: Engine, county: Scope, month: str, today: dt.date, n: int) -> dict[str, Any]:
    """service_report_county_with_lists: the county's report for ``month`` with every list (the workbook's)."""
    times = []
    for _ in range(2):
        start = time.perf_counter()
        with reading(engine) as session:
            full = service_report(session, county, month=month, area_code=None, today=today)
        times.append(time.perf_counter() - start)
    rows = {name: len(frame) for name, frame in full.lists.items()}
    return line("plans", "service_report_county_with_lists", n, times, role=county.role, month=month, **rows)


def _order_raise_and_deliver(
    engine: Engine, township: Scope, picks: list[int], today: dt.date, n: int
) -> dict[str, Any]:
    """order_raise_and_deliver: an order raised on each person's plan and delivered, on a copy of the database."""
    copy = get_engine(str(copy_database(engine)))
    try:
        times = []
        for k, pid in enumerate(picks):
            with reading(copy) as session:
                found = person_plans(session, township, pid, today)
            current = next(s.current for s in found.plans if s.current is not None)
            item = current.items[0]
            start = time.perf_counter()
            with transaction(copy) as session:
                made = orders.raise_order(
                    session,
                    township,
                    person_id=pid,
                    values=orders.OrderInput(service_code=item.service_code, source="plan", plan_id=current.id),
                    client_token=f"bench-order-{k}",
                    today=today,
                )
                orders.move_order(
                    session,
                    township,
                    order_id=made.id,
                    seen_version=made.version,
                    move=orders.OrderMove("delivered", delivered_on=today, delivered_by="bench", minutes=30),
                    today=today,
                )
            times.append(time.perf_counter() - start)
        return line("plans", "order_raise_and_deliver", n, times, role=township.role, target=0.05)
    finally:
        copy.dispose()
        path = Path(make_url(copy.url).database or "")
        for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            part.unlink(missing_ok=True)

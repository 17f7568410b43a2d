"""City-scale benchmarks: ``python -m care.bench --db CITY --scale city [--alone COUNTY]``.

CITY is a database of several counties (``python -m care.demo --counties 10 --residents 1000000``);
COUNTY one of them alone in its own database (``python -m care.demo --residents 100000``: the demo
county, which is also the city's first county). Each line is a JSON object as ``care.bench.run`` prints.

- ``county_register``, ``county_register_search``, ``county_person_file``, ``county_map`` and
  ``county_kpis``: one county's register page (a township's, filtered), the county's search, person
  files, the county map (reads, folium map and its HTML) and the month report, in the city database;
  with ``--alone`` the same in the county's own database and ``ratio`` = city ÷ alone (target ≤ 1.5).
- ``city_kpis``: the city's month report, its counties' figures added up (target < 10 s).
- ``city_map``: the city map as the page builds it: the counties' outlines and one circle per
  township with its persons added up, the folium map and its HTML (target < 1 s).
- ``parallel_visits``: 8 threads, each an administrator of another county, save 50 visits each
  through ``record_visit``, each in its own transaction; ``lost`` counts visits missing afterwards
  (target 0). It writes: 400 visits dated today stay in CITY (run it on a benchmark database).
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Engine, and_, func, select

from care.auth import scope_of
from care.bench.common import last_month, line, timed
from care.domain import areas, clock
from care.domain.tiles import parse_tiles
from care.files.maps import build_map
from care.queries import map as mapq
from care.queries.person_file import person_file
from care.queries.registers import RegisterFilter, register_page
from care.queries.reports import month_report
from care.queries.scoping import in_area
from care.queries.settings import counties
from care.scope import Scope
from care.services.visits import record_visit
from db.models import Area, Assignment, Enrollment, Person, User, Visit
from db.session import get_engine, reading, transaction

TARGET_RATIO = 1.5
CITY_KPIS_TARGET_S = 10.0
CITY_MAP_TARGET_S = 1.0
THREADS = 8
VISITS_PER_THREAD = 50
PERSON_FILES = 30


def _scope(engine: Engine, role: str, area_code: str) -> Scope:
    """The first active account of ``role`` whose area is ``area_code`` or inside it."""
    low, high = areas.prefix_bounds(areas.prefix_of(area_code))
    with reading(engine) as session:
        user = session.scalar(
            select(User)
            .where(User.role == role, User.active.is_(True), User.area_code >= low, User.area_code < high)
            .order_by(User.area_code, User.id)
        )
        if user is None:
            raise SystemExit(f"no {role} account in {area_code}; build the city with python -m care.demo --counties")
        return scope_of(user)


def _city(engine: Engine) -> str:
    with reading(engine) as session:
        code = session.scalar(select(Area.code).where(Area.level == "city").order_by(Area.code))
    if code is None:
        raise SystemExit("no city in this database; build it with python -m care.demo --counties 10")
    return code


def _map_html(engine: Engine, scope: Scope) -> str:
    """The map page's reads for the user's own area, the folium map and its HTML."""
    today = clock.today()
    flt = mapq.MapFilter()
    with reading(engine) as session:
        shown, shapes = mapq.area_shapes(session, scope, None)
        size = mapq.CIRCLE_PREFIX.get(shown.level) if shown is not None else None
        view = mapq.village_view(session, scope, flt, today, size=size) if size else mapq.VillageView()
        persons = [] if size else mapq.person_points(session, scope, flt, today)
    points = [(p.lat, p.lon) for p in persons] or [(v.lat, v.lon) for v in view.villages]
    built = build_map(
        tiles=parse_tiles("none"),
        bounds=mapq.shapes_bounds(shapes, points),
        villages=view.villages,
        persons=persons,
        shapes=shapes,
        mode="villages" if size else "persons",
    )
    return built.get_root().render()


def _county_cases(engine: Engine, county: str) -> dict[str, Callable[[], Any]]:
    """The one-county reads, each as a function of nothing (scopes looked up in ``engine``)."""
    today = clock.today()
    month = last_month()
    township = _scope(engine, "township", county)
    official = _scope(engine, "county", county)
    with reading(engine) as session:
        inside = in_area(Person.village_code, township.prefix or "")
        numbers = sorted(session.scalars(select(Person.id_number).where(inside, Person.deleted.is_(False))))
    # The same persons in both databases: picked by ID number, not by row id.
    picked = random.Random(1).sample(numbers, min(PERSON_FILES, len(numbers)))  # noqa: S311 - a repeatable pick

    def files() -> int:
        with reading(engine) as session:
            ids = list(session.scalars(select(Person.id).where(Person.id_number.in_(picked))))
            for pid in ids:
                assert person_file(session, township, pid, today) is not None
            return len(ids)

    def register() -> Any:
        with reading(engine) as session:
            return register_page(session, township, RegisterFilter(group="child", overdue=True), today).total

    def search() -> Any:
        with reading(engine) as session:
            return register_page(session, official, RegisterFilter(text="王", risk="high"), today).total

    def kpis() -> Any:
        with reading(engine) as session:
            return month_report(session, official, month=month, area_code=None, today=today).kpis

    return {
        "county_register": register,
        "county_register_search": search,
        "county_person_file": files,
        "county_map": lambda: len(_map_html(engine, official)),
        "county_kpis": kpis,
    }


def _same(left: Any, right: Any) -> bool:
    """Equal results, a rate that is NaN in both counting as equal."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, float) and isinstance(right, float) and left != left and right != right:  # noqa: PLR0124
        return True
    return bool(left == right)


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    return timed(fn, repeat=repeat)


def _visit_targets(engine: Engine, county: str, count: int) -> list[tuple[int, int]]:
    """(person, enrollment) of a county's active, assigned enrollments started before today."""
    with reading(engine) as session:
        rows = session.execute(
            select(Enrollment.person_id, Enrollment.id)
            .join(Assignment, and_(Assignment.enrollment_id == Enrollment.id, Assignment.end_date.is_(None)))
            .join(Person, Person.id == Enrollment.person_id)
            .where(
                Enrollment.county_code == county,
                Enrollment.end_date.is_(None),
                Enrollment.start_date < clock.today(),
                Person.status == "active",
                Person.deleted.is_(False),
            )
            .order_by(Enrollment.id)
            .limit(count)
        ).all()
    return [(int(p), int(e)) for p, e in rows]


def parallel_visits(engine: Engine, county_codes: list[str]) -> dict[str, Any]:
    """``THREADS`` threads, one per county (round robin), save visits at once; counted afterwards."""
    run = uuid.uuid4().hex[:8]
    plans = []
    for n in range(THREADS):
        county = county_codes[n % len(county_codes)]
        targets = _visit_targets(engine, county, VISITS_PER_THREAD * (1 + n // len(county_codes)))
        plans.append((_scope(engine, "admin", county), targets[-VISITS_PER_THREAD:]))
    errors: list[str] = []
    morning = dt.datetime.combine(clock.today(), dt.time(8))

    def work(n: int) -> None:
        scope, targets = plans[n]
        for k, (person, enrollment) in enumerate(targets):
            try:
                with transaction(engine) as session:
                    record_visit(
                        session,
                        scope,
                        person_id=person,
                        enrollment_ids=[enrollment],
                        status="done",
                        mode="home",
                        visited_at=morning + dt.timedelta(seconds=k),
                        client_token=f"bench-{run}-{n}-{k}",
                    )
            except Exception as exc:  # noqa: BLE001 - counted and shown in the result line
                errors.append(f"{type(exc).__name__}: {exc}"[:200])

    start = time.perf_counter()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    expected = sum(len(t) for _, t in plans)
    with reading(engine) as session:
        saved = int(
            session.scalar(select(func.count()).select_from(Visit).where(Visit.client_token.like(f"bench-{run}-%")))
            or 0
        )
    return {
        "seconds": round(seconds, 3),
        "threads": THREADS,
        "counties": len({plan[0].area_code for plan in plans}),
        "visits": expected,
        "saved": saved,
        "lost": expected - saved,
        "errors": errors[:5],
        "visits_per_s": round(expected / seconds, 1) if seconds else None,
    }


def bench_city(engine: Engine, n: int, alone: Engine | None = None) -> Iterator[dict[str, Any]]:
    """The cases of the module docstring."""
    city = _city(engine)
    with reading(engine) as session:
        codes = counties(session, areas.prefix_of(city))
    county = codes[-1]  # the demo county (522699…) is the city's first-built, highest-coded county
    cases = _county_cases(engine, county)
    alone_cases = _county_cases(alone, county) if alone is not None else {}
    for case, fn in cases.items():
        times, result = _timed(fn, repeat=5)
        extra: dict[str, Any] = {"county": county}
        if case in alone_cases:
            alone_times, alone_result = _timed(alone_cases[case], repeat=5)
            median = sorted(times)[len(times) // 2]
            alone_median = sorted(alone_times)[len(alone_times) // 2]
            extra |= {
                "alone_seconds": round(alone_median, 5),
                "ratio": round(median / alone_median, 2) if alone_median else None,
                "target_ratio": TARGET_RATIO,
                "same_result": _same(result, alone_result),
            }
        yield line("city", case, n, times, **extra)
    official = _scope(engine, "city", city)
    month = last_month()
    today = clock.today()

    def city_kpis() -> Any:
        with reading(engine) as session:
            return month_report(session, official, month=month, area_code=None, today=today)

    times, report = _timed(city_kpis, repeat=3)
    yield line(
        "city",
        "city_kpis",
        n,
        times,
        counties=len(report.by_area),
        enrollments=report.kpis["enrollments_listed"],
        target_s=CITY_KPIS_TARGET_S,
    )
    times, html = _timed(lambda: _map_html(engine, official), repeat=5)
    yield line("city", "city_map", n, times, bytes=len(html.encode("utf-8")), target_s=CITY_MAP_TARGET_S)
    result = parallel_visits(engine, codes)
    yield {"bench": "city", "case": "parallel_visits", "n": n, **result}


def alone_engine(url: str | None) -> Engine | None:
    """The county-alone database of ``--alone``, if given."""
    return get_engine(url) if url else None

"""Benchmarks: ``python -m care.bench [--db URL] [--only NAME]`` prints one JSON object per line.

``--scale city`` runs the city benches instead (``care.bench.city``): one county among many in one
database against the same county alone (``--alone URL``), the city's month report and map, and
eight threads saving visits in different counties.

Each line: ``{"bench": NAME, "case": CASE, "n": persons, "seconds": median, ...}``. On an empty
database the 100,000-person demo county is built first, so the figures are at county scale.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Engine, func, select

from care.auth import scope_of
from care.bench.city import alone_engine, bench_city
from care.bench.home import bench_home
from care.bench.households import bench_households
from care.bench.map import bench_map
from care.bench.pack import bench_pack
from care.bench.plans import bench_plans
from care.bench.reports import bench_reports
from care.bench.schedule import bench_schedule
from care.bench.visits import bench_visits
from care.domain import clock
from care.queries.person_file import person_file
from care.queries.registers import RegisterFilter, register_page
from care.queries.scoping import in_area
from care.scope import Scope
from db.migrate import upgrade
from db.models import Area, Person, User
from db.session import get_engine, reading

BENCH_RESIDENTS = 100_000
BENCH_SEED = 1


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Wall-clock seconds of ``repeat`` calls (after one warm-up call), and the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def line(bench: str, case: str, n: int, times: list[float], **extra: Any) -> dict[str, Any]:
    """One result line: the median, with min, max and run count beside it."""
    return {
        "bench": bench,
        "case": case,
        "n": n,
        "seconds": round(statistics.median(times), 5),
        "min": round(min(times), 5),
        "max": round(max(times), 5),
        "runs": len(times),
        **extra,
    }


def _user_scope(engine: Engine, role: str) -> Scope:
    with reading(engine) as session:
        user = session.scalar(select(User).where(User.role == role, User.area_code.is_not(None)).order_by(User.id))
        if user is None:
            raise SystemExit(f"no {role} account in this database; build it with python -m care.demo")
        return scope_of(user)


def bench_registers(engine: Engine, n: int) -> Iterator[dict[str, Any]]:
    """register_query: a township's filtered register page with the overdue flag; person_file: one file."""
    today = clock.today()
    township = _user_scope(engine, "township")
    county = _user_scope(engine, "county")
    cases = {
        "register_query": (township, RegisterFilter(group="child", overdue=True)),
        "register_query_township_all": (township, RegisterFilter()),
        "register_query_county_search": (county, RegisterFilter(text="王", risk="high")),
        "register_query_county_last_page": (county, RegisterFilter(page=10_000)),
    }
    for case, (scope, flt) in cases.items():

        def run(scope: Scope = scope, flt: RegisterFilter = flt) -> Any:
            with reading(engine) as session:
                return register_page(session, scope, flt, today)

        times, page = timed(run, repeat=15)
        yield line("registers", case, n, times, role=scope.role, matches=page.total, rows=len(page.rows))

    with reading(engine) as session:
        prefix = township.prefix or ""
        ids = list(session.scalars(select(Person.id).where(in_area(Person.village_code, prefix))))
    picks = random.Random(BENCH_SEED).sample(ids, min(30, len(ids)))
    times = []
    for pid in picks:
        start = time.perf_counter()
        with reading(engine) as session:
            pf = person_file(session, township, pid, today)
        times.append(time.perf_counter() - start)
        assert pf is not None
    yield line("registers", "person_file", n, times, role=township.role)


BENCHES: dict[str, Callable[[Engine, int], Iterator[dict[str, Any]]]] = {"registers": bench_registers}

BENCHES["map"] = bench_map
BENCHES["schedule"] = bench_schedule
BENCHES["visits"] = bench_visits
BENCHES["reports"] = bench_reports
BENCHES["households"] = bench_households
BENCHES["plans"] = bench_plans
BENCHES["home"] = bench_home
BENCHES["pack"] = bench_pack


def _ensure_data(engine: Engine) -> int:
    upgrade(engine)
    with reading(engine) as session:
        n = int(session.scalar(select(func.count()).select_from(Person)) or 0)
        has_areas = session.scalar(select(func.count()).select_from(Area))
    if n == 0 and not has_areas:
        from care.demo.build import build_demo

        print(f"empty database: building the {BENCH_RESIDENTS:,}-person demo county first", file=sys.stderr)
        build_demo(engine, residents=BENCH_RESIDENTS, seed=BENCH_SEED)
        return BENCH_RESIDENTS
    return n


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benches and print their JSON lines."""
    parser = argparse.ArgumentParser(prog="python -m care.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL or SQLite file (default: CARE_DATABASE_URL or the embedded file)")
    parser.add_argument("--only", choices=sorted(BENCHES), help="run one bench")
    parser.add_argument(
        "--scale",
        choices=["county", "city"],
        default="county",
        help="county: the benches above on one county; city: one county among many, the city's figures and map",
    )
    parser.add_argument("--alone", help="with --scale city: the database holding that county alone, to compare with")
    args = parser.parse_args(argv)
    engine = get_engine(args.db)
    if args.scale == "city":
        upgrade(engine)
        with reading(engine) as session:
            n = int(session.scalar(select(func.count()).select_from(Person)) or 0)
        for result in bench_city(engine, n, alone_engine(args.alone)):
            print(json.dumps(result, ensure_ascii=False), flush=True)
        return 0
    n = _ensure_data(engine)
    for name in [args.only] if args.only else sorted(BENCHES):
        for result in BENCHES[name](engine, n):
            print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0

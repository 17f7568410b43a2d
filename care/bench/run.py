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
import sys
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Engine, func, select

from care.bench.city import alone_engine, bench_city
from care.bench.home import bench_home
from care.bench.households import bench_households
from care.bench.map import bench_map
from care.bench.pack import bench_pack
from care.bench.plans import bench_plans
from care.bench.registers import bench_registers
from care.bench.reports import bench_reports
from care.bench.schedule import bench_schedule
from care.bench.visits import bench_visits
from care.demo.build import build_demo
from db.migrate import upgrade
from db.models import Area, Person
from db.session import get_engine, reading

BENCH_RESIDENTS = 100_000
BENCH_SEED = 1


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

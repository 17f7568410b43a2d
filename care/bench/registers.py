"""Register benchmarks: a township's filtered register page, a county's search and last page, one person's file."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, select

from care.bench.common import line, timed, user_scope
from care.domain import clock
from care.queries.person_file import person_file
from care.queries.registers import RegisterFilter, register_page
from care.queries.scoping import in_area
from care.scope import Scope
from db.models import Person
from db.session import reading

BENCH_SEED = 1


def bench_registers(engine: Engine, n: int) -> Iterator[dict[str, Any]]:
    """register_query: a township's filtered register page with the overdue flag; person_file: one file."""
    today = clock.today()
    township = user_scope(engine, "township")
    county = user_scope(engine, "county")
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

"""Household benchmarks: the household card of a person file, a member added (on a copy of the
database, as it writes), and the family rules re-run over the whole county."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, select

from care.bench.common import active_user, copy_database, line
from care.domain import clock
from care.queries.households import family_of, household_card
from care.queries.scoping import in_area
from care.services import households
from db.models import Household, HouseholdMember, Person
from db.session import get_engine, reading, transaction

SEED = 3


def _township_persons(engine: Engine, prefix: str) -> list[tuple[int, str]]:
    with reading(engine) as session:
        return list(
            session.execute(
                select(Person.id, Person.village_code).where(
                    in_area(Person.village_code, prefix), Person.deleted.is_(False)
                )
            ).tuples()
        )


def bench_households(engine: Engine, n: int) -> Iterator[dict[str, Any]]:
    """household_card: one person's household card (target < 0.1 s); family_county: the family facts
    of every person; add_member: a person moved into a neighbour's household, risks re-run (copy)."""
    today = clock.today()
    township = active_user(engine, "township")
    persons = _township_persons(engine, township.prefix or "")
    picks = random.Random(SEED).sample(persons, min(30, len(persons)))  # noqa: S311 - a repeatable sample
    times, sizes = [], []
    for pid, _ in picks:
        start = time.perf_counter()
        with reading(engine) as session:
            card = household_card(session, township, pid, today)
        times.append(time.perf_counter() - start)
        sizes.append(len(card.members) if card else 0)
    yield line("households", "household_card", n, times, role=township.role, largest=max(sizes), target=0.1)

    times = []
    for _ in range(3):
        start = time.perf_counter()
        with reading(engine) as session:
            family = family_of(session, None, today)
        times.append(time.perf_counter() - start)
    yield line("households", "family_county", n, times, persons=len(family))

    copy = get_engine(str(copy_database(engine)))
    by_village: dict[str, list[int]] = {}
    for pid, village in persons:
        by_village.setdefault(village, []).append(pid)
    rng = random.Random(SEED)  # noqa: S311 - a repeatable sample
    pairs = [tuple(rng.sample(ids, 2)) for ids in by_village.values() if len(ids) >= 2][:20]
    times = []
    for mover, host in pairs:
        with reading(copy) as session:
            hid = households.household_of_person(session, host)
            version = session.scalar(select(Household.version).where(Household.id == hid))
            same = session.scalar(
                select(HouseholdMember.id).where(
                    HouseholdMember.household_id == hid,
                    HouseholdMember.person_id == mover,
                    HouseholdMember.end_date.is_(None),
                )
            )
        if hid is None or version is None or same is not None:
            continue
        start = time.perf_counter()
        with transaction(copy) as session:
            households.add_member(
                session, township, household_id=hid, seen_version=version, person_id=mover, relation="other"
            )
        times.append(time.perf_counter() - start)
    copy.dispose()
    if times:
        yield line("households", "add_member", n, times, role=township.role, target=0.05)

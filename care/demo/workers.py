"""The demo county's workers (directors, coordinators) and who is assigned to whom."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from care.demo.common import (
    HISTORY_SHARE,
    JOINT_SHARE,
    UNASSIGNED_SHARE,
    _BuilderBase,
    _mobile,
    _Person,
    _Township,
    _Workers,
    demo_rng,
)
from db.models import (
    Worker,
)


class _WorkersPart(_BuilderBase):
    """The builder's workers."""

    def _workers(self, townships: list[_Township]) -> _Workers:
        rng = demo_rng(self.seed, "workers")
        ids_ = self.ids["workers"]
        rows: list[dict[str, Any]] = []
        found = _Workers()
        first_villages = townships[0].villages[:2]

        def add(kind: str, area: str, lat: float, lon: float, *, keep_office: bool = False) -> int:
            wid = ids_.take()
            # A few offices were never located on the map.
            located = keep_office or rng.random() >= 0.01
            rows.append(
                {
                    "id": wid,
                    "name": self.fake.name(),
                    "kind": kind,
                    "phone": _mobile(rng),
                    "area_code": area,
                    "office_lat": lat if located else None,
                    "office_lon": lon if located else None,
                    "active": True,
                }
            )
            return wid

        for town in townships:
            for village in town.villages:
                first = village is first_villages[0]
                director = add("child_director", village.code, village.lat, village.lon, keep_office=first)
                found.child[village.code] = [director]
                found.elderly[village.code] = add("elderly_visitor", village.code, village.lat, village.lon)
            found.rehab[town.code] = [add("rehab_coordinator", town.code, town.lat, town.lon) for _ in range(2)]
            add("volunteer", town.code, town.lat, town.lon)
        # The demo coordinator covers the first two villages of the first township, each of
        # which also has a colleague, so scoping by assignment (not by village) shows.
        v1, v2 = first_villages
        found.coordinator = found.child[v1.code][0]
        found.child[v1.code].append(add("child_director", v1.code, v1.lat, v1.lon))
        found.child[v2.code].insert(0, found.coordinator)
        self._insert(Worker, rows)
        return found

    def _assign(self, persons: list[_Person], workers: _Workers) -> None:
        rng = demo_rng(self.seed, f"assign:{len(persons)}")
        turn: dict[str, int] = {}
        # Children of one household have one director, who visits them together.
        by_home: dict[int, int] = {}
        for person in persons:
            village = person.village
            directors = workers.child[village.code]
            # Villages with two directors split their children (by household) between them.
            k = turn.get(village.code, 0)
            family = id(person.home) if person.home is not None else None
            director = by_home.get(family) if family is not None else None
            if director is None:
                director = directors[k % len(directors)]
                if person.kind == "child":
                    turn[village.code] = k + 1
                    if family is not None:
                        by_home[family] = director
            home = {
                "child": director,
                "elderly": workers.elderly[village.code],
                "disabled": workers.rehab[village.township.code][village.index % 2],
            }
            main = next((e for e in person.enrollments if e.group == person.kind and e.end is None), None)
            for enrollment in person.enrollments:
                worker = home[enrollment.group]
                # A disabled child or elder is often followed by the same visitor, one visit
                # covering both registers.
                if (
                    enrollment.group != person.kind
                    and main is not None
                    and enrollment.end is None
                    and rng.random() < JOINT_SHARE
                ):
                    worker = home[main.group]
                    enrollment.joined_to = main
                enrollment.segments = [(worker, enrollment.start, enrollment.end)]
        self._reassign(rng, persons, workers)

    def _reassign(self, rng: random.Random, persons: list[_Person], workers: _Workers) -> None:
        candidates = [
            e
            for p in persons
            if not p.pinned
            for e in p.enrollments
            if e.end is None and e.joined_to is None and not any(o.joined_to is e for o in p.enrollments)
        ]
        picked = rng.sample(candidates, round(len(candidates) * (HISTORY_SHARE + UNASSIGNED_SHARE)))
        n_unassigned = round(len(candidates) * UNASSIGNED_SHARE)
        owner = {e.id: p for p in persons for e in p.enrollments}
        for k, enrollment in enumerate(picked):
            worker, start, _ = enrollment.segments[0]
            if k < n_unassigned:
                # The responsible worker left and nobody has taken the case over yet.
                if (self.today - start).days > 90:
                    left = self.today - dt.timedelta(days=rng.randint(20, 150))
                    enrollment.segments = [(worker, start, max(left, start + dt.timedelta(days=30)))]
                else:
                    enrollment.segments = []
                continue
            if (self.today - start).days < 90:
                continue
            switch = start + dt.timedelta(days=rng.randint(30, (self.today - start).days - 30))
            earlier = self._colleague(rng, owner[enrollment.id], enrollment.group, worker, workers)
            enrollment.segments = [(earlier, start, switch - dt.timedelta(days=1)), (worker, switch, None)]

    @staticmethod
    def _colleague(rng: random.Random, person: _Person, group: str, worker: int, workers: _Workers) -> int:
        town = person.village.township
        if group == "disabled":
            pool = workers.rehab[town.code]
        elif group == "child":
            pool = [w for v in town.villages for w in workers.child[v.code]]
        else:
            pool = [workers.elderly[v.code] for v in town.villages]
        others = [w for w in pool if w not in (worker, workers.coordinator)]
        return rng.choice(others) if others else worker

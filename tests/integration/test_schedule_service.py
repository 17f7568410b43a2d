"""Weekly patrol plans: spread under the daily limit, routed, kept across regeneration, scoped."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from care import services
from care.domain.errors import NotFound, StaleRecord
from care.queries.schedule import week_plan
from care.services.assignments import assign_worker
from care.services.schedule import fix_day, generate_week
from db.models import Enrollment, Person, ScheduleDay, Setting, Visit, VisitEnrollment, Worker
from db.session import reading, transaction
from tests.integration.conftest import FIXTURE_TODAY

WED = FIXTURE_TODAY  # 2026-06-10 is a Wednesday
MON, THU, FRI = WED - dt.timedelta(days=2), WED + dt.timedelta(days=1), WED + dt.timedelta(days=2)


def _generate(engine, world, who, worker, seen=None):
    with transaction(engine) as session:
        return generate_week(
            session, world.scopes[who], worker_id=world.workers[worker], week_start=WED, seen_versions=seen
        )


def _plan(engine, world, who, worker):
    with reading(engine) as session:
        return week_plan(session, world.scopes[who], worker_id=world.workers[worker], week_start=WED, today=WED)


def _days(plan):
    """Day → the fixture keys of its stops, in route order."""
    return {d.day: [s.name.removeprefix("测试") for s in d.stops] for d in plan.days}


def _limit(engine, n):
    with transaction(engine) as session:
        session.add(Setting(key="policy.daily_limit", value=str(n)))


def _enrollments(engine, world, key):
    with reading(engine) as session:
        return list(session.scalars(select(Enrollment.id).where(Enrollment.person_id == world.persons[key])))


def _visit(engine, world, key, worker, day, status="done"):
    ids = _enrollments(engine, world, key)
    with transaction(engine) as session:
        visit = Visit(
            person_id=world.persons[key],
            worker_id=world.workers[worker],
            status=status,
            mode="home",
            findings={},
            visited_at=dt.datetime.combine(day, dt.time(10)),
            created_at=dt.datetime.combine(day, dt.time(10)),
        )
        session.add(visit)
        session.flush()
        for eid in ids:
            session.add(VisitEnrollment(visit_id=visit.id, enrollment_id=eid))
        session.flush()
        services.refresh_due_dates(session, enrollment_ids=ids)


def test_overdue_households_go_on_the_first_open_day_routed_from_the_office(engine, world):
    result = _generate(engine, world, "township_a", "w3")
    plan = _plan(engine, world, "township_a", "w3")
    assert result.placed == 2 and result.left == []
    days = _days(plan)
    assert days[MON] == [] and days[WED] != []  # days before today get nothing new
    assert sorted(days[WED]) == ["a1_child_disabled", "a2_disabled_w3"]
    wednesday = next(d for d in plan.days if d.day == WED)
    assert wednesday.distance_km > 0
    assert [s.seq for s in wednesday.stops] == [1, 2]


def test_a_person_in_two_groups_with_the_same_worker_is_one_stop_for_both(engine, world):
    with reading(engine) as session:
        disabled = session.scalar(
            select(Enrollment.id).where(
                Enrollment.person_id == world.persons["a1_child_disabled"], Enrollment.group == "disabled"
            )
        )
    with transaction(engine) as session:
        assign_worker(
            session, world.scopes["township_a"], worker_id=world.workers["w1"], seen={disabled: world.workers["w3"]}
        )
    _generate(engine, world, "township_a", "w1")
    with reading(engine) as session:
        stops = [s for row in session.scalars(select(ScheduleDay)) for s in row.stops]
    both = [s for s in stops if s["person_id"] == world.persons["a1_child_disabled"]]
    assert len(both) == 1 and len(both[0]["enrollment_ids"]) == 2
    assert len(stops) == 2


def test_the_daily_limit_spreads_overdue_households_over_the_following_days(engine, world):
    _limit(engine, 1)
    _generate(engine, world, "township_a", "w3")
    days = _days(_plan(engine, world, "township_a", "w3"))
    assert [len(days[d]) for d in (MON, WED, THU, FRI)] == [0, 1, 1, 0]
    # Overdue first, high risk first: the disabled child (high) before the adult.
    assert days[WED] == ["a1_child_disabled"] and days[THU] == ["a2_disabled_w3"]


def test_regenerating_keeps_visits_done_and_fixed_days(engine, world):
    _limit(engine, 1)
    _generate(engine, world, "township_a", "w3")
    _visit(engine, world, "a1_child_disabled", "w3", WED)
    plan = _plan(engine, world, "township_a", "w3")
    thursday = next(d for d in plan.days if d.day == THU)
    with transaction(engine) as session:
        fix_day(
            session,
            world.scopes["township_a"],
            worker_id=world.workers["w3"],
            day=THU,
            fixed=True,
            seen_version=thursday.version,
        )
    # A new household becomes due for w3: the plan must place it around what is kept.
    with reading(engine) as session:
        eid = session.scalar(select(Enrollment.id).where(Enrollment.person_id == world.persons["a1_child_w2"]))
    with transaction(engine) as session:
        assign_worker(
            session, world.scopes["township_a"], worker_id=world.workers["w3"], seen={eid: world.workers["w2"]}
        )
    result = _generate(engine, world, "township_a", "w3")
    after = _plan(engine, world, "township_a", "w3")
    days = _days(after)
    assert days[WED] == ["a1_child_disabled"]  # done today: kept
    assert next(s for d in after.days if d.day == WED for s in d.stops).status == "done"
    assert days[THU] == ["a2_disabled_w3"]  # fixed: unchanged
    assert days[FRI] == ["a1_child_w2"]  # the newcomer takes the first day with room
    assert result.kept == 2


def test_a_household_without_coordinates_is_routed_last_and_flagged_never_dropped(engine, world):
    with transaction(engine) as session:
        session.execute(update(Person).where(Person.id == world.persons["a1_child_w1"]).values(lat=None, lon=None))
    _generate(engine, world, "township_a", "w1")
    wednesday = next(d for d in _plan(engine, world, "township_a", "w1").days if d.day == WED)
    assert [s.name for s in wednesday.stops][-1] == "测试a1_child_w1"
    assert not wednesday.stops[-1].located and wednesday.stops[0].located


def test_a_worker_without_an_office_location_is_still_scheduled(engine, world):
    with transaction(engine) as session:
        session.execute(update(Worker).where(Worker.id == world.workers["w3"]).values(office_lat=None, office_lon=None))
    result = _generate(engine, world, "township_a", "w3")
    plan = _plan(engine, world, "township_a", "w3")
    assert result.placed == 2 and plan.office is None
    assert sum(len(d.stops) for d in plan.days) == 2


def test_when_the_week_is_full_what_does_not_fit_is_reported_not_dropped(engine, world, freeze_clock):
    freeze_clock(FRI)
    _limit(engine, 1)
    with transaction(engine) as session:
        result = generate_week(session, world.scopes["township_a"], worker_id=world.workers["w3"], week_start=WED)
    assert result.placed == 1 and len(result.left) == 1
    assert result.warnings == [("schedule.left_over", {"n": 1})]
    with reading(engine) as session:
        plan = week_plan(session, world.scopes["township_a"], worker_id=world.workers["w3"], week_start=WED, today=FRI)
    assert len(plan.unplaced) == 1


@pytest.mark.parametrize(
    ("who", "worker"), [("coord_1", "w2"), ("coord_1", "w3"), ("township_b", "w1"), ("no_area", "w1")]
)
def test_a_schedule_outside_the_users_scope_looks_like_one_that_does_not_exist(engine, world, who, worker):
    with pytest.raises(NotFound), transaction(engine) as session:
        generate_week(session, world.scopes[who], worker_id=world.workers[worker], week_start=WED)
    with pytest.raises(NotFound), reading(engine) as session:
        week_plan(session, world.scopes[who], worker_id=world.workers[worker], week_start=WED, today=WED)


def test_a_coordinator_plans_and_sees_their_own_week(engine, world):
    _generate(engine, world, "coord_1", "w1")
    plan = _plan(engine, world, "coord_1", "w1")
    assert plan.stops == 2


def test_two_people_changing_the_same_week_are_told_and_nothing_is_overwritten(engine, world):
    _generate(engine, world, "township_a", "w3")
    plan = _plan(engine, world, "township_a", "w3")
    seen = {d.day: d.version for d in plan.days}
    wednesday = next(d for d in plan.days if d.day == WED)
    with transaction(engine) as session:
        fix_day(
            session,
            world.scopes["township_a"],
            worker_id=world.workers["w3"],
            day=WED,
            fixed=True,
            seen_version=wednesday.version,
        )
    with pytest.raises(StaleRecord), transaction(engine) as session:
        fix_day(
            session,
            world.scopes["township_a"],
            worker_id=world.workers["w3"],
            day=WED,
            fixed=False,
            seen_version=wednesday.version,
        )
    with pytest.raises(StaleRecord):
        _generate(engine, world, "township_a", "w3", seen=seen)
    assert next(d for d in _plan(engine, world, "township_a", "w3").days if d.day == WED).fixed

"""The map's reads on SQLite and PostgreSQL: scope per role, aggregates equal the register, filters."""

from __future__ import annotations

import datetime as dt

import pytest

from care.demo.build import build_demo
from care.queries import map as mapq
from care.queries.registers import RegisterFilter, register_count
from db.models import Person, User
from db.session import reading, transaction
from tests.fixtures.scope import build_scope_fixture

TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def fixture(engine, freeze_clock):
    freeze_clock(TODAY)
    with transaction(engine) as session:
        fx = build_scope_fixture(session, today=TODAY)
    return fx


def _points(engine, scope, flt=None):
    with reading(engine) as session:
        return mapq.person_points(session, scope, flt or mapq.MapFilter(), TODAY)


def test_a_coordinator_sees_only_their_own_persons_on_the_map(engine, fixture):
    mine = {p.person_id for p in _points(engine, fixture.scopes["coord_1"])}
    assert mine == {fixture.persons["a1_child_w1"], fixture.persons["a1_child_disabled"]}
    theirs = {p.person_id for p in _points(engine, fixture.scopes["coord_2"])}
    assert theirs == {fixture.persons["a1_child_w2"]}


def test_a_township_supervisor_sees_their_township_and_nobody_elses(engine, fixture):
    seen = {p.person_id for p in _points(engine, fixture.scopes["township_a"])}
    assert fixture.persons["b1_child_w4"] not in seen
    assert fixture.persons["a1_deleted"] not in seen
    assert fixture.persons["a2_disabled_w3"] in seen


def test_a_user_without_an_area_sees_an_empty_map(engine, fixture):
    scope = fixture.scopes["no_area"]
    assert _points(engine, scope) == []
    with reading(engine) as session:
        assert mapq.village_aggregates(session, scope, mapq.MapFilter(), TODAY) == []
        assert mapq.area_shapes(session, scope, None) == (None, [])
        assert mapq.person_summary(session, scope, fixture.persons["a1_child_w1"], TODAY) is None


def test_a_person_in_two_groups_is_drawn_once_in_each_layer(engine, fixture):
    both = [
        p for p in _points(engine, fixture.scopes["township_a"]) if p.person_id == fixture.persons["a1_child_disabled"]
    ]
    assert sorted(p.group for p in both) == ["child", "disabled"]


def test_filters_by_group_risk_state_and_worker(engine, fixture):
    scope = fixture.scopes["admin"]
    children = _points(engine, scope, mapq.MapFilter(groups=("child",)))
    assert children and {p.group for p in children} == {"child"}
    high = _points(engine, scope, mapq.MapFilter(risk="high"))
    assert high and {p.risk for p in high} == {"high"}
    w3 = {p.person_id for p in _points(engine, scope, mapq.MapFilter(worker_id=fixture.workers["w3"]))}
    assert w3 == {fixture.persons["a2_disabled_w3"], fixture.persons["a1_child_disabled"]}
    nobody = {p.person_id for p in _points(engine, scope, mapq.MapFilter(unassigned=True))}
    assert nobody == {fixture.persons["a1_elder_unassigned"]}
    village = {p.person_id for p in _points(engine, scope, mapq.MapFilter(area_code=fixture.village_a2))}
    assert village == {fixture.persons["a2_disabled_w3"]}
    for state in mapq.VISIT_STATES:
        assert all(p.state == state for p in _points(engine, scope, mapq.MapFilter(state=state)))
    # Never visited yet: every fixture enrollment is 'never' or (when due has passed) 'overdue'.
    states = {p.state for p in _points(engine, scope)}
    assert states <= {"never", "overdue"}


def test_persons_without_coordinates_are_counted_and_listed(engine, fixture):
    with transaction(engine) as session:
        person = session.get(Person, fixture.persons["a1_child_w1"])
        person.lat = person.lon = None
    scope = fixture.scopes["township_a"]
    with reading(engine) as session:
        assert mapq.persons_without_location_count(session, scope, mapq.MapFilter(), TODAY) == 1
        rows, total = mapq.person_list(session, scope, mapq.MapFilter(), TODAY, missing_location=True)
    assert total == 1 and list(rows["person_id"]) == [fixture.persons["a1_child_w1"]]
    assert fixture.persons["a1_child_w1"] not in {p.person_id for p in _points(engine, scope)}


def test_the_summary_masks_the_id_and_names_the_worker(engine, fixture):
    with reading(engine) as session:
        found = mapq.person_summary(session, fixture.scopes["township_a"], fixture.persons["a1_child_disabled"], TODAY)
        hidden = mapq.person_summary(session, fixture.scopes["coord_2"], fixture.persons["a1_child_disabled"], TODAY)
    assert hidden is None
    assert "********" in found.id_masked
    assert {(e["group"], e["worker"]) for e in found.enrollments} == {("child", "吴儿主"), ("disabled", "李康复")}


def test_worker_options_keep_to_the_area_and_a_coordinator_gets_only_themself(engine, fixture):
    with reading(engine) as session:
        a = set(mapq.worker_options(session, fixture.scopes["township_a"])["id"])
        c = set(mapq.worker_options(session, fixture.scopes["coord_1"])["id"])
    assert fixture.workers["w4"] not in a and fixture.workers["w1"] in a
    assert c == {fixture.workers["w1"]}


@pytest.fixture
def small_demo(engine):
    build_demo(engine, residents=400, seed=7, today=TODAY)
    return engine


@pytest.mark.parametrize("role", ["county", "township", "coordinator"])
def test_village_aggregates_equal_the_register_counts(small_demo, role, freeze_clock):
    freeze_clock(TODAY)
    from sqlalchemy import select

    from care.auth import scope_of

    with reading(small_demo) as session:
        scope = scope_of(session.scalar(select(User).where(User.username == role)))
        for group in ("child", "elderly", "disabled"):
            flt = mapq.MapFilter(groups=(group,))
            dots = mapq.village_aggregates(session, scope, flt, TODAY)
            assert sum(d.persons for d in dots) == register_count(session, scope, RegisterFilter(group=group), TODAY)
            assert sum(d.overdue for d in dots) == register_count(
                session, scope, RegisterFilter(group=group, overdue=True), TODAY
            )
            for dot in dots[:5]:
                assert dot.persons == register_count(
                    session, scope, RegisterFilter(area_code=dot.code, group=group), TODAY
                )
                assert dot.by_group[group] == dot.persons


def test_the_demo_gives_every_township_and_village_a_boundary(small_demo):
    import json

    from sqlalchemy import select

    from db.models import Area

    with reading(small_demo) as session:
        areas = session.scalars(select(Area).where(Area.level != "county")).all()
    assert areas and all(a.boundary for a in areas)
    shape = json.loads(areas[0].boundary)
    assert shape["type"] == "Polygon" and shape["coordinates"][0][0] == shape["coordinates"][0][-1]

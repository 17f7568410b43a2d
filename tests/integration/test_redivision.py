"""Re-division (撤并): merged villages and townships move everything, keep history, and are audited."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from care import audit
from care.domain.errors import ValidationError
from care.queries.areas import area_changes, successor, village_on
from care.queries.reports import month_report
from care.services.areas import merge_areas, plan_merge
from db.models import (
    Area,
    Assignment,
    AuditEvent,
    Enrollment,
    Household,
    HouseholdMember,
    Person,
    PersonAreaHistory,
    User,
    Visit,
    VisitEnrollment,
    Worker,
)
from db.session import reading, transaction

NEW_VILLAGE = "522699101203"
PAST_MONTHS = ("2026-04", "2026-05")


def _visit(session, person_id: int, day: dt.date, *, status: str = "done", mode: str = "home") -> None:
    enrollments = session.scalars(select(Enrollment.id).where(Enrollment.person_id == person_id)).all()
    visit = Visit(
        person_id=person_id,
        status=status,
        mode=mode,
        visited_at=dt.datetime.combine(day, dt.time(10, 0)),
        created_at=dt.datetime.combine(day, dt.time(10, 0)),
    )
    session.add(visit)
    session.flush()
    session.add_all([VisitEnrollment(visit_id=visit.id, enrollment_id=e) for e in enrollments])


@pytest.fixture
def visited(world, engine):
    """The scope fixture with visits in April and May, some not counting (not met)."""
    p = world.persons
    with transaction(engine) as session:
        _visit(session, p["a1_child_w1"], dt.date(2026, 4, 3))
        _visit(session, p["a1_child_w1"], dt.date(2026, 5, 6))
        _visit(session, p["a2_disabled_w3"], dt.date(2026, 5, 20))
        _visit(session, p["a1_child_disabled"], dt.date(2026, 4, 28), status="not_met")
        _visit(session, p["b1_child_w4"], dt.date(2026, 5, 2))
        # A village-level account and a worker in the village merged away.
        session.add(Worker(name="王协调", kind="elderly_visitor", area_code=world.village_a2))
        session.add(
            User(
                username="village_a2",
                password_hash="!",
                role="township",
                area_code=world.village_a2,
                created_at=dt.datetime(2026, 1, 1),
            )
        )
    return world


def _figures(engine, scope, area: str) -> dict[str, object]:
    with reading(engine) as session:
        out = {}
        for month in PAST_MONTHS:
            report = month_report(session, scope, month=month, area_code=area, today=dt.date(2026, 6, 10))
            rates = report.visit_rates.set_index("group")[["listed", "visited"]].to_dict()
            out[month] = (report.kpis, rates)
        return out


def _by_village_on(engine, day: dt.date) -> dict[str, int]:
    with reading(engine) as session:
        code = village_on(day)
        return dict(session.execute(select(code, func.count()).group_by(code)).all())


def test_merging_two_villages_moves_everything_keeps_past_reports_and_is_audited(visited, engine):
    world = visited
    admin = world.scopes["admin"]
    county_before = _figures(engine, admin, world.county)
    township_before = _figures(engine, admin, world.township_a)
    a1_before, a2_before = _figures(engine, admin, world.village_a1), _figures(engine, admin, world.village_a2)
    may_villages_before = _by_village_on(engine, dt.date(2026, 5, 15))
    with reading(engine) as session:
        moved = set(
            session.scalars(select(Person.id).where(Person.village_code.in_([world.village_a1, world.village_a2])))
        )

    with transaction(engine) as session:
        done = merge_areas(
            session,
            admin,
            sources=[world.village_a1, world.village_a2],
            target=NEW_VILLAGE,
            target_name="羊乌村",
        )
    assert done.plan.persons == len(moved) == 6  # the soft-deleted person moves too

    with reading(engine) as session:
        # Every person, visit and assignment of the two villages is under the new code.
        assert set(session.scalars(select(Person.id).where(Person.village_code == NEW_VILLAGE))) == moved
        visit_villages = session.scalars(
            select(Person.village_code).join(Visit, Visit.person_id == Person.id).where(Person.id.in_(moved))
        ).all()
        assert visit_villages and set(visit_villages) == {NEW_VILLAGE}
        assignment_villages = session.scalars(
            select(Person.village_code)
            .join(Enrollment, Enrollment.person_id == Person.id)
            .join(Assignment, Assignment.enrollment_id == Enrollment.id)
            .where(Person.id.in_(moved))
        ).all()
        assert assignment_villages and set(assignment_villages) == {NEW_VILLAGE}
        # Their households moved with them.
        household_villages = session.scalars(
            select(Household.village_code)
            .join(HouseholdMember, HouseholdMember.household_id == Household.id)
            .where(HouseholdMember.person_id.in_(moved), HouseholdMember.end_date.is_(None))
        ).all()
        assert len(household_villages) == len(moved) and set(household_villages) == {NEW_VILLAGE}
        assert not session.scalar(
            select(func.count()).where(Worker.area_code.in_([world.village_a1, world.village_a2]))
        )
        assert session.scalar(select(func.count()).where(Worker.area_code == NEW_VILLAGE)) == 3
        assert session.scalar(select(User.area_code).where(User.username == "village_a2")) == NEW_VILLAGE
        # The old codes stay in history, retired the day before, pointing at the new one.
        for old in (world.village_a1, world.village_a2):
            area = session.get(Area, old)
            assert area.valid_to == dt.date(2026, 6, 9) and area.replaced_by == NEW_VILLAGE
            assert successor(session, old) == NEW_VILLAGE
        new = session.get(Area, NEW_VILLAGE)
        assert (new.name, new.level, new.parent_code, new.valid_from) == (
            "羊乌村",
            "village",
            world.township_a,
            dt.date(2026, 6, 10),
        )
        assert session.scalar(select(func.count()).select_from(PersonAreaHistory)) == len(moved)
        changes = area_changes(session, admin)
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "area.merge")).all()
        assert audit.verify_chain(session) == []
    assert changes["old_codes"].tolist() == [sorted([world.village_a1, world.village_a2])]
    assert len(events) == 1
    detail = events[0].detail
    assert detail["old_codes"] == [world.village_a1, world.village_a2] and detail["new_code"] == NEW_VILLAGE
    assert (detail["persons"], detail["workers"], detail["users"]) == (6, 3, 1)

    # Past months: the county and the township give the same figures as before the merge ...
    assert _figures(engine, admin, world.county) == county_before
    assert _figures(engine, admin, world.township_a) == township_before
    # ... the new village's figures are the two old villages' added up ...
    merged = _figures(engine, admin, NEW_VILLAGE)
    for month in PAST_MONTHS:
        kpis, rates = merged[month]
        assert kpis["persons_listed"] == a1_before[month][0]["persons_listed"] + a2_before[month][0]["persons_listed"]
        for column in ("listed", "visited"):
            for group, value in rates[column].items():
                assert value == a1_before[month][1][column][group] + a2_before[month][1][column][group]
    # ... and each person's village on a day before the merge is still the old one.
    assert _by_village_on(engine, dt.date(2026, 5, 15)) == may_villages_before
    assert NEW_VILLAGE in _by_village_on(engine, dt.date(2026, 6, 10))


def test_merging_a_township_recodes_its_villages_under_the_surviving_township(visited, engine):
    world = visited
    admin = world.scopes["admin"]
    county_before = _figures(engine, admin, world.county)
    with transaction(engine) as session:
        plan = plan_merge(session, admin, sources=[world.township_b], target=world.township_a)
        done = merge_areas(session, admin, sources=[world.township_b], target=world.township_a, expected=plan.code_map)
    # 南猛村 522699102201 would keep its serial 201, but 201 and 202 are taken there: the next free one.
    recoded = "522699101203"
    assert done.plan.code_map == {world.township_b: world.township_a, world.village_b1: recoded}
    with reading(engine) as session:
        person = session.get(Person, world.persons["b1_child_w4"])
        village = session.get(Area, recoded)
        supervisor_b = session.scalar(select(User.area_code).where(User.username == "township_b"))
        worker = session.get(Worker, world.workers["w4"])
    assert person.village_code == recoded and village.parent_code == world.township_a and village.name == "南猛村"
    assert supervisor_b == world.township_a and worker.area_code == recoded
    assert _figures(engine, admin, world.county) == county_before


@pytest.mark.parametrize(
    ("sources", "target", "name", "key"),
    [
        ([], "522699101201", None, "area.merge_need_sources"),
        (["522699101201"], "522699101201", None, "area.merge_need_sources"),
        (["522699101201", "522699102000"], "522699101202", None, "area.merge_mixed_levels"),
        (["522699101201"], "522699102000", None, "area.merge_target_level"),
        (["522699101201"], "522698101201", "外县村", "area.merge_target_outside"),
        (["522699101201"], "522699101299", "", "area.merge_target_name"),
        (["522699101201"], "522699109201", "无乡镇村", "area.merge_target_parent"),
        (["522699999201"], "522699101202", None, "area.merge_bad_source"),
        (["522699000000"], "522699101202", None, "area.merge_bad_source"),
    ],
)
def test_a_bad_merge_is_refused_with_its_reason_and_changes_nothing(world, engine, sources, target, name, key):
    with pytest.raises(ValidationError) as refused:
        with transaction(engine) as session:
            merge_areas(session, world.scopes["admin"], sources=sources, target=target, target_name=name)
    assert refused.value.key == key
    with reading(engine) as session:
        assert session.scalar(select(func.count()).where(Area.valid_to.is_not(None))) == 0
        assert session.scalar(select(func.count()).where(AuditEvent.action == "area.merge")) == 0


def test_a_merge_is_refused_when_the_areas_changed_since_the_preview_and_twice_is_refused(world, engine):
    admin = world.scopes["admin"]
    with pytest.raises(ValidationError) as refused:
        with transaction(engine) as session:
            merge_areas(
                session, admin, sources=[world.village_a2], target=world.village_a1, expected={"522699101202": "x"}
            )
    assert refused.value.key == "area.merge_plan_changed"
    with transaction(engine) as session:
        merge_areas(session, admin, sources=[world.village_a2], target=world.village_a1)
    with pytest.raises(ValidationError) as again:
        with transaction(engine) as session:
            merge_areas(session, admin, sources=[world.village_a2], target=world.village_a1)
    assert again.value.key == "area.merge_bad_source"


@pytest.mark.parametrize("role", ["county", "township_a", "coord_1", "no_area"])
def test_only_the_admin_may_merge_areas(world, engine, role):
    from care.domain.errors import CareError

    with pytest.raises(CareError):
        with transaction(engine) as session:
            merge_areas(session, world.scopes[role], sources=[world.village_a2], target=world.village_a1)
    with reading(engine) as session:
        assert session.get(Area, world.village_a2).valid_to is None

"""Household visits: one stop, one form, one visit per member, all or nothing, never twice."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from care.domain import policy
from care.domain.errors import NotFound, StaleRecord, ValidationError
from care.files.schedule_sheet import sheet_html
from care.queries.schedule import week_plan
from care.queries.visits import HouseholdItem, VisitItem, my_week
from care.services import households
from care.services.schedule import generate_week
from care.services.visits import MemberVisit, record_household_visit
from db.models import AuditEvent, Enrollment, Household, ScheduleDay, Visit, VisitEnrollment
from db.session import reading, transaction
from tests.integration.conftest import FIXTURE_TODAY

TODAY = FIXTURE_TODAY
MORNING = dt.datetime.combine(TODAY, dt.time(8, 30))
HOSTILE = '{{7*7}}<img src=x onerror=alert(1)>=HYPERLINK("x")'


def _household(engine, world, *members: str) -> int:
    """The first person's household, with the others joined as its children."""
    with reading(engine) as session:
        hid = households.household_of_person(session, world.persons[members[0]])
    for key in members[1:]:
        with reading(engine) as session:
            version = session.get(Household, hid).version
        with transaction(engine) as session:
            households.add_member(
                session,
                world.scopes["admin"],
                household_id=hid,
                seen_version=version,
                person_id=world.persons[key],
                relation="child",
            )
    return hid


def _week(engine, world, user="coord_1"):
    with reading(engine) as session:
        return my_week(session, world.scopes[user], TODAY)


def _family(engine, world) -> HouseholdItem:
    _household(engine, world, "a1_child_w1", "a1_child_disabled", "a1_child_w2")
    items = [i for i in _week(engine, world).items if isinstance(i, HouseholdItem)]
    assert len(items) == 1
    return items[0]


def _members(item: HouseholdItem, **statuses: str) -> list[MemberVisit]:
    return [
        MemberVisit(
            person_id=m.person_id,
            enrollment_ids=[e.id for e in m.enrollments],
            status=statuses.get(str(m.person_id), "done"),
            findings={"safety": "ok"},
        )
        for m in item.people
    ]


def _save(engine, world, item, members=None, token="hv-1", user="coord_1", version=None):
    with transaction(engine) as session:
        return record_household_visit(
            session,
            world.scopes[user],
            household_id=item.household_id,
            seen_version=item.version if version is None else version,
            members=_members(item) if members is None else members,
            mode="home",
            visited_at=MORNING,
            notes="一家人都在",
            client_token=token,
        )


def _count(engine, model, *where):
    with reading(engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_members_due_for_one_worker_in_one_household_are_one_item_and_others_are_only_counted(engine, world):
    item = _family(engine, world)
    names = [m.name for m in item.people]
    assert sorted(names) == ["测试a1_child_disabled", "测试a1_child_w1"]
    assert item.members[0][0] == "head"
    assert item.others == 1  # the colleague's child: counted, never named
    assert all(e.group == "child" for m in item.people for e in m.enrollments)  # w3's disabled group is not theirs
    singles = [i.person_id for i in _week(engine, world).items if isinstance(i, VisitItem)]
    assert world.persons["a1_child_w1"] not in singles
    colleague = _week(engine, world, "coord_2").items
    assert [type(i) for i in colleague] == [VisitItem]  # alone on coord_2's list: as today


def test_one_save_writes_a_linked_visit_per_member_and_one_due_update_per_enrollment(engine, world):
    item = _family(engine, world)
    saved = _save(engine, world, item)
    with reading(engine) as session:
        visits = session.scalars(select(Visit).where(Visit.id.in_(saved.visit_ids))).all()
        links = session.scalars(
            select(VisitEnrollment.enrollment_id).where(VisitEnrollment.visit_id.in_(saved.visit_ids))
        ).all()
        enrollments = session.scalars(select(Enrollment).where(Enrollment.id.in_(links))).all()
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "visit.record_household"))
    assert len(visits) == 2
    assert {v.household_id for v in visits} == {item.household_id}
    assert {v.household_visit for v in visits} == {"hv-1"}
    assert {v.person_id for v in visits} == {m.person_id for m in item.people}
    assert sorted(links) == sorted(e.id for m in item.people for e in m.enrollments)
    for e in enrollments:
        assert e.last_visit_on == TODAY
        assert e.next_due_on == TODAY + dt.timedelta(days=policy.DEFAULT_INTERVALS[("child", e.risk)])
    assert event.entity == "household" and event.entity_id == str(item.household_id)
    assert sorted(event.detail["visit_ids"]) == sorted(saved.visit_ids)
    assert "一家人都在" not in str(event.detail)
    assert _week(engine, world).items[0].state in ("done",) or all(
        m.state == "done" for i in _week(engine, world).items if isinstance(i, HouseholdItem) for m in i.people
    )


def test_a_member_not_met_keeps_their_due_date_while_the_other_moves(engine, world):
    item = _family(engine, world)
    missed = item.people[1]
    before = missed.next_due_on
    saved = _save(engine, world, item, _members(item, **{str(missed.person_id): "not_met"}))
    with reading(engine) as session:
        statuses = dict(
            session.execute(select(Visit.person_id, Visit.status).where(Visit.id.in_(saved.visit_ids))).all()
        )
        due = session.scalar(select(func.min(Enrollment.next_due_on)).where(Enrollment.id == missed.enrollments[0].id))
    assert statuses[missed.person_id] == "not_met" and statuses[item.people[0].person_id] == "done"
    assert due == before
    assert [k for k, _ in saved.warnings] == ["household_visit.not_met_keeps_due"]


def test_a_double_submit_records_nothing_twice(engine, world):
    item = _family(engine, world)
    first = _save(engine, world, item)
    second = _save(engine, world, item)
    assert second.visit_ids == sorted(first.visit_ids)
    assert _count(engine, Visit, Visit.household_visit == "hv-1") == 2
    assert _count(engine, AuditEvent, AuditEvent.action == "visit.record_household") == 1


def test_simultaneous_submits_of_one_form_save_each_member_once(engine, world):
    item = _family(engine, world)
    results, errors = [], []

    def submit() -> None:
        try:
            results.append(sorted(_save(engine, world, item).visit_ids))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({tuple(r) for r in results}) == 1
    assert _count(engine, Visit, Visit.household_visit == "hv-1") == 2


def test_a_form_opened_before_the_household_changed_is_refused_in_chinese_and_writes_nothing(engine, world):
    item = _family(engine, world)
    with pytest.raises(StaleRecord) as refused:
        _save(engine, world, item, version=item.version - 1)
    assert "这户的成员或信息已被他人修改" in refused.value.message("zh")
    assert "未保存任何记录" in refused.value.message("zh")
    assert _count(engine, Visit, Visit.household_id.is_not(None)) == 0


def test_one_bad_member_and_nothing_is_written(engine, world):
    item = _family(engine, world)
    members = _members(item)
    members[1] = MemberVisit(members[1].person_id, members[1].enrollment_ids, findings={"rehab": "no_such"})
    with pytest.raises(ValidationError):
        _save(engine, world, item, members)
    assert _count(engine, Visit, Visit.household_id.is_not(None)) == 0
    assert _count(engine, AuditEvent, AuditEvent.action == "visit.record_household") == 0


def test_a_coordinator_cannot_record_a_member_who_is_not_theirs(engine, world):
    item = _family(engine, world)
    with reading(engine) as session:
        colleague = session.scalar(select(Enrollment.id).where(Enrollment.person_id == world.persons["a1_child_w2"]))
    members = [*_members(item), MemberVisit(world.persons["a1_child_w2"], [colleague])]
    with pytest.raises(NotFound):
        _save(engine, world, item, members)
    disabled = next(e for e in _enrollments_of(engine, world.persons["a1_child_disabled"]) if e.group == "disabled")
    with pytest.raises(NotFound):
        _save(engine, world, item, [MemberVisit(world.persons["a1_child_disabled"], [disabled.id])])
    assert _count(engine, Visit, Visit.household_id.is_not(None)) == 0


def _enrollments_of(engine, pid):
    with reading(engine) as session:
        return session.scalars(select(Enrollment).where(Enrollment.person_id == pid)).all()


def test_the_weekly_plan_routes_a_household_once_and_the_sheet_lists_its_members_inert(engine, world):
    _household(engine, world, "a1_child_w1", "a1_child_disabled")
    with transaction(engine) as session:
        person = session.get(__import__("db.models", fromlist=["Person"]).Person, world.persons["a1_child_disabled"])
        person.name = HOSTILE
    with transaction(engine) as session:
        generate_week(session, world.scopes["township_a"], worker_id=world.workers["w1"], week_start=TODAY)
    with reading(engine) as session:
        stops = [s for row in session.scalars(select(ScheduleDay)) for s in row.stops]
        plan = week_plan(
            session, world.scopes["township_a"], worker_id=world.workers["w1"], week_start=TODAY, today=TODAY
        )
    family = [s for s in stops if "person_ids" in s]
    assert len(family) == 1 and len(stops) == 1
    assert sorted(family[0]["person_ids"]) == sorted([world.persons["a1_child_w1"], world.persons["a1_child_disabled"]])
    views = [s for d in plan.days for s in d.stops]
    assert len(views) == 1 and len(views[0].members) == 2
    assert plan.unplaced == []
    html = sheet_html(plan, "zh", TODAY)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "户主" in html


def test_an_old_stop_with_only_a_person_id_still_loads(engine, world):
    with transaction(engine) as session:
        session.add(
            ScheduleDay(
                worker_id=world.workers["w1"],
                day=TODAY,
                fixed=True,
                stops=[{"person_id": world.persons["a1_child_w1"], "enrollment_ids": []}],
                distance_km=1.0,
                generated_at=MORNING,
                version=1,
            )
        )
    with reading(engine) as session:
        plan = week_plan(session, world.scopes["coord_1"], worker_id=world.workers["w1"], week_start=TODAY, today=TODAY)
    stop = next(s for d in plan.days for s in d.stops)
    assert stop.person_id == world.persons["a1_child_w1"] and len(stop.members) == 1

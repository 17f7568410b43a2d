"""Recording and correcting visits: due dates, double clicks, situation changes, scope, conflicts."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from care.domain import policy
from care.domain.errors import NotFound, StaleRecord, ValidationError
from care.queries.person_file import person_file
from care.queries.visits import my_week
from care.services.visits import NeedInput, record_visit, update_visit
from db.models import AuditEvent, Enrollment, Need, Person, ScheduleDay, Setting, Visit, VisitEnrollment
from db.session import get_engine, reading, transaction
from tests.integration.conftest import FIXTURE_TODAY

TODAY = FIXTURE_TODAY
MORNING = dt.datetime.combine(TODAY, dt.time(8, 30))


def _enrollments(engine, person_id):
    with reading(engine) as session:
        return session.scalars(
            select(Enrollment).where(Enrollment.person_id == person_id).order_by(Enrollment.id)
        ).all()


def _record(engine, world, user="coord_1", person="a1_child_w1", **values):
    pid = world.persons[person]
    args = {
        "person_id": pid,
        "enrollment_ids": [e.id for e in _enrollments(engine, pid) if e.end_date is None][:1],
        "status": "done",
        "mode": "home",
        "visited_at": MORNING,
        **values,
    }
    with transaction(engine) as session:
        return record_visit(session, world.scopes[user], **args)


def _count(engine, model, *where):
    with reading(engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_done_home_visit_moves_the_next_due_date_by_the_policy_interval(engine, world):
    before = _enrollments(engine, world.persons["a1_child_w1"])[0]
    saved = _record(engine, world, findings={"safety": "ok", "schooling": "attending"}, notes="孩子在家写作业")
    after = _enrollments(engine, world.persons["a1_child_w1"])[0]
    assert before.next_due_on < TODAY
    assert after.last_visit_on == TODAY
    assert after.next_due_on == TODAY + dt.timedelta(days=policy.DEFAULT_INTERVALS[("child", after.risk)])
    assert saved.warnings == []
    with reading(engine) as session:
        visit = session.get(Visit, saved.id)
        links = session.scalars(select(VisitEnrollment.enrollment_id).where(VisitEnrollment.visit_id == saved.id)).all()
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "visit.record"))
    assert (visit.status, visit.mode, visit.worker_id, visit.due_date) == (
        "done",
        "home",
        world.workers["w1"],
        before.next_due_on,
    )
    assert visit.findings == {"safety": "ok", "schooling": "attending"}
    assert links == [after.id]
    assert event.entity_id == str(saved.id) and "孩子在家" not in str(event.detail)


@pytest.mark.parametrize(
    ("status", "mode", "phone_counts", "moves", "warning"),
    [
        ("not_met", None, False, False, "visit.not_met_keeps_due"),
        ("done", "phone", False, False, "visit.phone_not_counted"),
        ("done", "phone", True, True, None),
        ("done", "volunteer", False, True, None),
    ],
)
def test_only_a_counted_visit_moves_the_due_date(engine, world, status, mode, phone_counts, moves, warning):
    if phone_counts:
        with transaction(engine) as session:
            session.add(Setting(key=policy.SETTING_PHONE_COUNTS, value="1"))
    before = _enrollments(engine, world.persons["a1_child_w1"])[0]
    saved = _record(engine, world, status=status, mode=mode)
    after = _enrollments(engine, world.persons["a1_child_w1"])[0]
    assert (after.next_due_on != before.next_due_on) is moves
    assert [k for k, _ in saved.warnings] == ([warning] if warning else [])


def test_a_cancelled_visit_keeps_its_reason_and_the_due_date(engine, world):
    before = _enrollments(engine, world.persons["a1_child_w1"])[0]
    saved = _record(engine, world, status="cancelled", mode=None, visited_at=None, cancel_reason="暴雨道路中断")
    with reading(engine) as session:
        visit = session.get(Visit, saved.id)
    assert (visit.status, visit.visited_at, visit.cancel_reason) == ("cancelled", None, "暴雨道路中断")
    assert _enrollments(engine, world.persons["a1_child_w1"])[0].next_due_on == before.next_due_on


def test_a_double_click_with_one_client_token_saves_one_visit(engine, world):
    first = _record(engine, world, client_token="tab-1-form-7")
    second = _record(engine, world, client_token="tab-1-form-7", notes="second click")
    assert second.id == first.id
    assert _count(engine, Visit) == 1
    assert _count(engine, AuditEvent, AuditEvent.action == "visit.record") == 1


def test_simultaneous_saves_with_one_client_token_save_one_visit(engine, world):
    ids: list[int] = []
    errors: list[BaseException] = []
    enrollment = _enrollments(engine, world.persons["a1_child_w1"])[0].id

    def click() -> None:
        try:
            with transaction(engine) as session:
                saved = record_visit(
                    session,
                    world.scopes["coord_1"],
                    person_id=world.persons["a1_child_w1"],
                    enrollment_ids=[enrollment],
                    status="done",
                    mode="home",
                    visited_at=MORNING,
                    client_token="same-token",
                )
            ids.append(saved.id)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(ids)) == 1 and len(ids) == 4
    assert _count(engine, Visit) == 1


def test_eight_threads_saving_two_hundred_visits_each_lose_none(engine, world):
    engine = get_engine(engine.url.render_as_string(hide_password=False))
    people = ["a1_child_w1", "a1_child_w2", "a2_disabled_w3", "a1_child_disabled", "b1_child_w4", "a1_elder_unassigned"]
    targets = [(world.persons[p], _enrollments(engine, world.persons[p])[0].id) for p in people]
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for k in range(200):
                person, enrollment = targets[(n + k) % len(targets)]
                with transaction(engine) as session:
                    record_visit(
                        session,
                        world.scopes["admin"],
                        person_id=person,
                        enrollment_ids=[enrollment],
                        status="done",
                        mode="home",
                        visited_at=MORNING - dt.timedelta(minutes=k),
                        client_token=f"t{n}-{k}",
                    )
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [str(e) for e in errors] == []
    assert _count(engine, Visit) == 1600
    assert _count(engine, VisitEnrollment) == 1600
    assert _count(engine, AuditEvent, AuditEvent.action == "visit.record") == 1600


def test_a_coordinator_cannot_record_for_a_colleagues_resident_and_it_looks_missing(engine, world):
    colleague = world.persons["a1_child_w2"]
    enrollment = _enrollments(engine, colleague)[0].id
    answers = []
    for person_id in (colleague, 999_999):
        with pytest.raises(NotFound) as refused, transaction(engine) as session:
            record_visit(
                session,
                world.scopes["coord_1"],
                person_id=person_id,
                enrollment_ids=[enrollment],
                status="done",
                mode="home",
                visited_at=MORNING,
            )
        answers.append(refused.value.message("zh"))
    assert answers[0] == answers[1]
    assert _count(engine, Visit) == 0


def test_a_coordinator_cannot_count_a_visit_for_an_enrollment_assigned_to_someone_else(engine, world):
    child, disabled = _enrollments(engine, world.persons["a1_child_disabled"])
    with pytest.raises(NotFound):
        _record(engine, world, person="a1_child_disabled", enrollment_ids=[child.id, disabled.id])
    saved = _record(engine, world, person="a1_child_disabled", enrollment_ids=[child.id])
    assert saved.id and _count(engine, VisitEnrollment) == 1


def test_a_coordinator_records_under_their_own_worker_only(engine, world):
    with pytest.raises(NotFound):
        _record(engine, world, worker_id=world.workers["w2"])


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"visited_at": MORNING + dt.timedelta(days=1)}, "visit.in_future"),
        ({"visited_at": MORNING - dt.timedelta(days=201)}, "visit.before_start"),
        ({"mode": None}, "visit.mode_required"),
        ({"enrollment_ids": []}, "visit.no_enrollment"),
        ({"needs": [NeedInput("housing")]}, "needs.bad_kind"),
        (
            {"status": "cancelled", "cancel_reason": "雨", "visited_at": None, "needs": [NeedInput("medical")]},
            "visit.needs_need_visit",
        ),
    ],
)
def test_a_bad_visit_is_refused_and_nothing_is_written(engine, world, values, key):
    with pytest.raises(ValidationError) as refused:
        _record(engine, world, **values)
    assert refused.value.key == key
    assert _count(engine, Visit) == 0
    assert _count(engine, Need) == 0
    assert _count(engine, AuditEvent, AuditEvent.action == "visit.record") == 0


def test_needs_found_on_a_visit_are_opened_with_the_visit(engine, world):
    saved = _record(
        engine,
        world,
        needs=[NeedInput("medical", "乡卫生院", "咳嗽两周未就医"), NeedInput("schooling", "", "缺少课本")],
    )
    with reading(engine) as session:
        needs = session.scalars(select(Need).order_by(Need.id)).all()
        visit = session.get(Visit, saved.id)
    assert [(n.kind, n.status, n.visit_id, n.opened_on) for n in needs] == [
        ("medical", "open", saved.id, TODAY),
        ("schooling", "open", saved.id, TODAY),
    ]
    assert needs[0].created_by == world.scopes["coord_1"].user_id
    assert visit.follow_up == "咳嗽两周未就医；缺少课本"


def test_parent_returned_ends_the_child_enrollment_with_that_reason(engine, world):
    _record(engine, world, situation="parent_returned", visited_at=MORNING - dt.timedelta(days=2))
    enrollment = _enrollments(engine, world.persons["a1_child_w1"])[0]
    with reading(engine) as session:
        person = session.get(Person, world.persons["a1_child_w1"])
    assert (enrollment.exit_reason, enrollment.end_date, enrollment.next_due_on) == (
        "parent_returned",
        TODAY - dt.timedelta(days=2),
        None,
    )
    assert person.status == "exited"


@pytest.mark.parametrize(("situation", "status"), [("died", "deceased"), ("moved", "moved")])
def test_death_or_moving_away_ends_every_enrollment_of_the_person(engine, world, situation, status):
    child, _disabled = _enrollments(engine, world.persons["a1_child_disabled"])
    _record(engine, world, person="a1_child_disabled", enrollment_ids=[child.id], situation=situation)
    enrollments = _enrollments(engine, world.persons["a1_child_disabled"])
    with reading(engine) as session:
        person = session.get(Person, world.persons["a1_child_disabled"])
    assert person.status == status
    assert [(e.end_date, e.exit_reason) for e in enrollments] == [(TODAY, situation), (TODAY, situation)]


def test_a_recorded_visit_completes_the_planned_one_instead_of_adding_another(engine, world):
    pid = world.persons["a1_child_w1"]
    with transaction(engine) as session:
        planned = Visit(
            person_id=pid,
            worker_id=world.workers["w1"],
            status="planned",
            due_date=TODAY,
            findings={},
            created_at=MORNING,
        )
        session.add(planned)
        session.flush()
        planned_id = planned.id
    saved = _record(engine, world)
    with reading(engine) as session:
        visit = session.get(Visit, planned_id)
    assert saved.id == planned_id
    assert (visit.status, visit.version, visit.due_date) == ("done", 2, TODAY)
    assert _count(engine, Visit) == 1


def test_two_sessions_correcting_one_visit_get_one_conflict_and_no_lost_edit(engine, world):
    saved = _record(engine, world, notes="原始记录")
    with transaction(engine) as session:
        update_visit(
            session,
            world.scopes["coord_1"],
            visit_id=saved.id,
            seen_version=1,
            status="done",
            mode="home",
            visited_at=MORNING,
            notes="第一个窗口的修改",
        )
    with pytest.raises(StaleRecord) as stale, transaction(engine) as session:
        update_visit(
            session,
            world.scopes["township_a"],
            visit_id=saved.id,
            seen_version=1,
            status="done",
            mode="third_party",
            visited_at=MORNING,
            notes="第二个窗口的修改",
        )
    assert stale.value.current["notes"] == "第一个窗口的修改"
    assert stale.value.params == {"seen": 1, "now": 2}
    with reading(engine) as session:
        visit = session.get(Visit, saved.id)
    assert (visit.notes, visit.mode, visit.version) == ("第一个窗口的修改", "home", 2)


def test_correcting_a_visit_to_not_met_moves_the_due_date_back(engine, world):
    before = _enrollments(engine, world.persons["a1_child_w1"])[0]
    saved = _record(engine, world)
    with transaction(engine) as session:
        update_visit(
            session,
            world.scopes["coord_1"],
            visit_id=saved.id,
            seen_version=1,
            status="not_met",
            mode=None,
            visited_at=MORNING,
        )
    assert _enrollments(engine, world.persons["a1_child_w1"])[0].next_due_on == before.next_due_on


def test_a_coordinator_cannot_correct_a_colleagues_visit(engine, world):
    saved = _record(engine, world, user="coord_2", person="a1_child_w2")
    with pytest.raises(NotFound), transaction(engine) as session:
        update_visit(
            session,
            world.scopes["coord_1"],
            visit_id=saved.id,
            seen_version=1,
            status="done",
            mode="home",
            visited_at=MORNING,
        )


def test_my_week_lists_due_persons_by_due_date_and_shows_a_visit_done(engine, world):
    with reading(engine) as session:
        week = my_week(session, world.scopes["coord_1"], TODAY)
    names = {v: k for k, v in world.persons.items()}
    assert (week.start, week.end) == (dt.date(2026, 6, 8), dt.date(2026, 6, 14))
    assert [names[i.person_id] for i in week.items] == ["a1_child_disabled", "a1_child_w1"]
    assert {i.state for i in week.items} == {"overdue"}
    saved = _record(engine, world)
    with reading(engine) as session:
        week = my_week(session, world.scopes["coord_1"], TODAY)
    item = next(i for i in week.items if i.person_id == world.persons["a1_child_w1"])
    assert item.state == "done" and item.this_week is not None and item.this_week.id == saved.id
    assert item.next_due_on > week.end


def test_my_week_follows_the_route_order_of_the_schedule(engine, world):
    first, second = world.persons["a1_child_w1"], world.persons["a1_child_disabled"]
    with transaction(engine) as session:
        session.add_all(
            [
                ScheduleDay(
                    worker_id=world.workers["w1"],
                    day=TODAY + dt.timedelta(days=1),
                    stops=[{"person_id": second, "enrollment_ids": []}],
                    generated_at=MORNING,
                ),
                ScheduleDay(
                    worker_id=world.workers["w1"],
                    day=TODAY,
                    stops=[{"person_id": first, "enrollment_ids": []}],
                    generated_at=MORNING,
                ),
            ]
        )
    with reading(engine) as session:
        week = my_week(session, world.scopes["coord_1"], TODAY)
    assert [(i.person_id, i.planned_day) for i in week.items] == [
        (first, TODAY),
        (second, TODAY + dt.timedelta(days=1)),
    ]


def test_my_week_tells_what_to_check_from_the_last_findings_and_open_needs(engine, world):
    _record(
        engine,
        world,
        visited_at=MORNING - dt.timedelta(days=35),
        findings={"safety": "concern", "health": "good"},
        needs=[NeedInput("medical", "", "牙痛")],
    )
    with reading(engine) as session:
        week = my_week(session, world.scopes["coord_1"], TODAY)
    item = next(i for i in week.items if i.person_id == world.persons["a1_child_w1"])
    assert item.concerns == ("safety",)
    assert item.open_needs == ("medical",)


def test_a_colleague_sees_nothing_of_another_coordinators_week(engine, world):
    with reading(engine) as session:
        week = my_week(session, world.scopes["coord_2"], TODAY)
    assert [i.person_id for i in week.items] == [world.persons["a1_child_w2"]]


def test_enrollment_ids_that_are_not_numbers_look_missing(engine, world):
    with pytest.raises(NotFound):
        _record(engine, world, enrollment_ids=["1"])


def test_a_supervisor_cannot_name_a_worker_from_another_township(engine, world):
    with pytest.raises(ValidationError) as refused:
        _record(engine, world, user="township_a", worker_id=world.workers["w4"])
    assert refused.value.key == "visit.unknown_worker"
    saved = _record(engine, world, user="township_a", worker_id=world.workers["w2"])
    with reading(engine) as session:
        assert session.get(Visit, saved.id).worker_id == world.workers["w2"]


def test_a_supervisor_recording_without_naming_a_worker_credits_the_assigned_one(engine, world):
    saved = _record(engine, world, user="township_a")
    with reading(engine) as session:
        assert session.get(Visit, saved.id).worker_id == world.workers["w1"]


def test_the_person_file_shows_what_each_visit_found_wanting(engine, world):
    _record(engine, world, findings={"safety": "concern", "health": "poor", "schooling": "attending"})
    _record(engine, world, visited_at=MORNING - dt.timedelta(days=3), findings={"safety": "ok"})
    with reading(engine) as session:
        pf = person_file(session, world.scopes["township_a"], world.persons["a1_child_w1"], TODAY)
    assert [v["concerns"] for v in pf.visits] == [("safety", "health"), ()]

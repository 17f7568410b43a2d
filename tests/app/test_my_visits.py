"""我的巡访 and 需求转介 in AppTest: recording a visit, bad input, stale saves, moving needs."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, select

from care.auth import scope_of
from care.domain import clock
from care.queries.visits import my_week
from care.services.due import refresh_due_dates
from care.services.needs import move_need, raise_need
from care.services.visits import record_visit, update_visit
from db.models import Enrollment, Need, User, Visit, VisitEnrollment
from db.session import get_engine, reading, transaction
from tests.app.conftest import person_ref


@pytest.fixture(autouse=True)
def _undo_visits_and_needs(demo_db):
    """The demo county is shared by every app test: remove the visits and needs each test adds."""
    engine = get_engine(str(demo_db["path"]))
    with reading(engine) as session:
        last_visit = session.scalar(select(func.max(Visit.id))) or 0
        last_need = session.scalar(select(func.max(Need.id))) or 0
    yield
    with transaction(engine) as session:
        touched = session.scalars(
            select(VisitEnrollment.enrollment_id).where(VisitEnrollment.visit_id > last_visit)
        ).all()
        session.execute(delete(Need).where(Need.id > last_need))
        session.execute(delete(VisitEnrollment).where(VisitEnrollment.visit_id > last_visit))
        session.execute(delete(Visit).where(Visit.id > last_visit))
        refresh_due_dates(session, enrollment_ids=sorted(set(touched)))


def _texts(at) -> str:
    return "\n".join(str(e.value) for kind in ("error", "warning", "success", "info") for e in getattr(at, kind))


def _engine(demo_db):
    return get_engine(str(demo_db["path"]))


def _scope(demo_db, role):
    with reading(_engine(demo_db)) as session:
        user = session.scalar(select(User).where(User.username == demo_db["accounts"][role]["username"]))
        return scope_of(user)


def _week(demo_db):
    with reading(_engine(demo_db)) as session:
        return my_week(session, _scope(demo_db, "coordinator"), clock.today())


def _visits(demo_db, person_id) -> int:
    with reading(_engine(demo_db)) as session:
        return int(session.scalar(select(func.count()).select_from(Visit).where(Visit.person_id == person_id)))


def _open_my_visits(app_as):
    at = app_as("coordinator")
    at.run()
    at.switch_page("pages/my_visits.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _form_key(at, person_id: int) -> str:
    """Open the person's visit form (one form is drawn at a time) and return its key."""
    try:
        opened = at.session_state["my_visits_open"]
    except KeyError:
        opened = None
    if opened != ("record", person_id):
        at.button(key=f"record_{person_id}").click().run()
    token = at.session_state[f"visit_token_{person_id}"]
    return f"visit_{person_id}_{token[:8]}"


def _submit(at, form_key: str):
    button = next(b for b in at.button if b.form_id == form_key)
    return button.click().run()


def test_the_week_shows_each_due_person_with_facts_and_what_to_check(app_as, demo_db):
    week = _week(demo_db)
    at = _open_my_visits(app_as)
    assert week.items, "the demo coordinator has visits due this week"
    shown = "\n".join(str(m.value) for m in at.markdown)
    due = [item for item in week.items if item.state != "done"]
    assert due, "the demo coordinator has visits still to make this week"
    for item in due:  # the default view lists what is still to do
        assert item.name in shown
    assert not at.dataframe, "no wide tables on the phone page"


def test_recording_a_visit_shows_it_done_and_moves_the_next_due_date(app_as, demo_db):
    item = next(i for i in _week(demo_db).items if i.state in ("overdue", "due"))
    before = _visits(demo_db, item.person_id)
    at = _open_my_visits(app_as)
    key = _form_key(at, item.person_id)
    at.radio(key=f"{key}_status").set_value("done")
    at.radio(key=f"{key}_mode").set_value("home")
    at.selectbox(key=f"{key}_safety").set_value("ok")
    at.text_area(key=f"{key}_notes").input("<script>alert(1)</script> 家中一切正常")
    _submit(at, key)
    assert not at.exception
    assert "已保存" in _texts(at)
    assert _visits(demo_db, item.person_id) == before + 1
    after = next(i for i in _week(demo_db).items if i.person_id == item.person_id)
    assert after.state == "done"
    assert after.next_due_on is not None and (item.next_due_on is None or after.next_due_on > item.next_due_on)
    at.segmented_control(key="my_visits_show").set_value("all").run()
    assert "本周已访" in "\n".join(str(m.value) for m in at.markdown)


def test_a_cancelled_visit_without_a_reason_is_refused_in_chinese_and_nothing_saved(app_as, demo_db):
    item = next(i for i in _week(demo_db).items if i.state in ("overdue", "due"))
    before = _visits(demo_db, item.person_id)
    at = _open_my_visits(app_as)
    key = _form_key(at, item.person_id)
    at.radio(key=f"{key}_status").set_value("cancelled")
    _submit(at, key)
    assert "取消巡访需要填写原因" in _texts(at)
    assert _visits(demo_db, item.person_id) == before


def test_a_stale_correction_is_refused_and_the_newer_record_is_shown(app_as, demo_db):
    engine = _engine(demo_db)
    scope = _scope(demo_db, "coordinator")
    item = next(i for i in _week(demo_db).items if i.this_week is None)
    with transaction(engine) as session:
        saved = record_visit(
            session,
            scope,
            person_id=item.person_id,
            enrollment_ids=[item.enrollments[0].id],
            status="done",
            mode="home",
            visited_at=clock.now() - dt.timedelta(minutes=5),
            notes="第一次记录",
        )
    at = _open_my_visits(app_as)
    at.segmented_control(key="my_visits_show").set_value("all").run()
    at.button(key=f"edit_{item.person_id}").click().run()
    # Someone else (another tab) corrects the visit after this page loaded it.
    with transaction(engine) as session:
        update_visit(
            session,
            scope,
            visit_id=saved.id,
            seen_version=1,
            status="done",
            mode="third_party",
            visited_at=clock.now() - dt.timedelta(minutes=5),
            notes="另一个窗口的修改",
        )
    key = f"edit_visit_{item.person_id}_{saved.id}_1"
    at.text_area(key=f"{key}_notes").input("这个窗口的修改")
    _submit(at, key)
    assert "已被他人修改" in _texts(at)
    shown = "\n".join(str(v) for df in at.dataframe for v in df.value.to_numpy().ravel())
    assert "另一个窗口的修改" in shown
    with reading(engine) as session:
        assert session.get(Visit, saved.id).notes == "另一个窗口的修改"


def _a_need(demo_db) -> int:
    engine = _engine(demo_db)
    item = _week(demo_db).items[0]
    with transaction(engine) as session:
        return raise_need(
            session,
            _scope(demo_db, "coordinator"),
            person_id=item.person_id,
            kind="assistive_device",
            department="县残联",
            description="需要助行器",
        ).id


def _open_needs(app_as, role):
    at = app_as(role)
    at.run()
    at.switch_page("pages/needs.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_supervisor_moves_a_need_forward_from_the_needs_page(app_as, demo_db):
    need_id = _a_need(demo_db)
    at = _open_needs(app_as, "township")
    at.selectbox(key="needs_pick").set_value(need_id).run()
    at.radio(key=f"move_need_{need_id}_1_status").set_value("in_progress")
    next(b for b in at.button if b.form_id == f"move_need_{need_id}_1").click().run()
    assert "需求状态已更新" in _texts(at)
    with reading(_engine(demo_db)) as session:
        need = session.get(Need, need_id)
    assert (need.status, need.in_progress_on) == ("in_progress", clock.today())


def test_a_stale_need_move_is_refused_and_the_newer_status_shown(app_as, demo_db):
    need_id = _a_need(demo_db)
    at = _open_needs(app_as, "township")
    at.selectbox(key="needs_pick").set_value(need_id).run()
    with transaction(_engine(demo_db)) as session:
        move_need(session, _scope(demo_db, "admin"), need_id=need_id, seen_version=1, status="in_progress")
    at.radio(key=f"move_need_{need_id}_1_status").set_value("resolved")
    next(b for b in at.button if b.form_id == f"move_need_{need_id}_1").click().run()
    assert "已被他人修改" in _texts(at)
    with reading(_engine(demo_db)) as session:
        assert session.get(Need, need_id).status == "in_progress"


def test_a_county_official_sees_needs_but_no_form_to_move_them(app_as, demo_db):
    _a_need(demo_db)
    at = _open_needs(app_as, "county")
    assert at.dataframe
    assert not [b for b in at.button if b.form_id and b.form_id.startswith("move_need_")]


def test_a_need_raised_from_the_person_file_is_saved(app_as, demo_db):
    item = _week(demo_db).items[0]
    with reading(_engine(demo_db)) as session:
        before = session.scalar(select(func.count()).select_from(Need).where(Need.person_id == item.person_id))
    at = app_as("coordinator")
    at.query_params["ref"] = person_ref(demo_db["path"], item.person_id)
    at.run()
    at.switch_page("pages/person.py").run()
    key = f"raise_need_{item.person_id}"
    at.selectbox(key=f"{key}_kind").set_value("schooling")
    at.text_area(key=f"{key}_text").input("缺少冬季校服")
    next(b for b in at.button if b.form_id == key).click().run()
    assert not at.exception
    with reading(_engine(demo_db)) as session:
        rows = session.scalars(select(Need).where(Need.person_id == item.person_id)).all()
    assert len(rows) == before + 1
    assert any(n.kind == "schooling" and n.description == "缺少冬季校服" for n in rows)
    with reading(_engine(demo_db)) as session:
        assert session.scalar(select(Enrollment.id).where(Enrollment.person_id == item.person_id)) is not None


def test_a_second_submit_of_the_same_form_instance_saves_no_second_visit(app_as, demo_db):
    item = next(i for i in _week(demo_db).items if i.state in ("overdue", "due"))
    before = _visits(demo_db, item.person_id)
    at = _open_my_visits(app_as)
    key = _form_key(at, item.person_id)
    token = at.session_state[f"visit_token_{item.person_id}"]
    at.radio(key=f"{key}_status").set_value("not_met")
    _submit(at, key)
    assert _visits(demo_db, item.person_id) == before + 1
    # The double click's second request arrives carrying the same form instance (same token).
    at.session_state[f"visit_token_{item.person_id}"] = token
    at.run()
    key = _form_key(at, item.person_id)
    at.radio(key=f"{key}_status").set_value("not_met")
    _submit(at, key)
    assert not at.exception
    assert _visits(demo_db, item.person_id) == before + 1

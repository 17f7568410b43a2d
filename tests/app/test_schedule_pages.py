"""服务分配, 巡访排班 and 巡访规则 as their users drive them (on a demo county of this module's own)."""

from __future__ import annotations

from sqlalchemy import func, select

from care.demo.common import COUNTY_CODE
from care.domain import areas, clock
from care.domain.schedule import planning_week, working_days
from care.queries.settings import setting_value
from db.models import Assignment, CountySetting, Enrollment, Person, ScheduleDay, User, Worker
from db.session import get_engine, reading, transaction


def _texts(at) -> str:
    return "\n".join(
        str(e.value) for kind in ("error", "warning", "success", "info", "caption") for e in getattr(at, kind)
    )


def _engine(db):
    return get_engine(str(db["path"]))


def _caseload(db, worker_id: int) -> int:
    today = clock.today()
    with reading(_engine(db)) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Assignment)
                .join(Enrollment, Enrollment.id == Assignment.enrollment_id)
                .where(
                    Assignment.worker_id == worker_id,
                    Assignment.start_date <= today,
                    Assignment.end_date.is_(None) | (Assignment.end_date >= today),
                    Enrollment.end_date.is_(None),
                )
            )
        )


def _township_workers(db) -> list[int]:
    with reading(_engine(db)) as session:
        area = session.scalar(select(User.area_code).where(User.username == db["accounts"]["township"]["username"]))
        return list(session.scalars(select(Worker.id).where(Worker.area_code.like(area[:9] + "%")).order_by(Worker.id)))


def test_a_supervisor_moves_a_whole_caseload_and_the_caseloads_change(own_app_as, own_demo_db):
    at = own_app_as("township")
    at.run()
    at.switch_page("pages/assignments.py").run()
    assert not at.exception
    assert at.title[0].value == "服务分配"
    staff = _township_workers(own_demo_db)
    source = next(w for w in staff if _caseload(own_demo_db, w) > 0)
    target = next(w for w in staff if w != source)
    moving, before = _caseload(own_demo_db, source), _caseload(own_demo_db, target)
    at.selectbox(key="move_from").set_value(source).run()
    at.selectbox(key="move_to").set_value(target).run()
    at.checkbox(key="move_all").check().run()
    at.button(key="move_apply").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert f"已分配 {moving} 条" in _texts(at)
    assert _caseload(own_demo_db, source) == 0
    assert _caseload(own_demo_db, target) == before + moving


def test_the_unassigned_tab_lists_and_assigns_enrollments_with_nobody(own_app_as, own_demo_db):
    at = own_app_as("township")
    at.run()
    at.switch_page("pages/assignments.py").run()
    assert "条在册记录尚未分配责任人" in _texts(at)
    at.checkbox(key="una_all").check().run()
    at.toggle(key="una_fitting").set_value(False).run()
    worker = _township_workers(own_demo_db)[0]
    at.selectbox(key="una_target").set_value(worker).run()
    confirm = [c for c in at.checkbox if c.key and c.key.startswith("una_misfit_ok_")]
    if confirm:
        assert at.button(key="una_apply").disabled
        confirm[0].check().run()
    at.button(key="una_apply").click().run()
    assert not at.exception, [e.value for e in at.exception]
    at.run()
    assert "未分配（0）" in [t.label for t in at.tabs]


def test_a_coordinator_plans_their_week_and_sees_routed_days(own_app_as, own_demo_db):
    at = own_app_as("coordinator")
    at.run()
    at.switch_page("pages/schedule.py").run()
    assert not at.exception
    assert "该周还没有排班" in _texts(at)
    at.button(key="gen_week").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "已生成排班" in _texts(at)
    with reading(_engine(own_demo_db)) as session:
        worker = session.scalar(
            select(User.worker_id).where(User.username == own_demo_db["accounts"]["coordinator"]["username"])
        )
        days = list(session.scalars(select(ScheduleDay).where(ScheduleDay.worker_id == worker)))
    assert [d.day for d in days] == working_days(planning_week(clock.today()))
    planned = sum(len(d.stops) for d in days)
    assert planned > 0
    assert str(planned) in [m.value for m in at.metric]
    assert len(at.get("download_button")) == 2


def test_a_supervisor_sees_every_workers_week_side_by_side_and_plans_the_missing_ones(own_app_as, own_demo_db):
    at = own_app_as("township")
    at.run()
    at.switch_page("pages/schedule.py").run()
    assert not at.exception
    assert "尚未排班" in _texts(at)
    at.button(key="gen_all").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with reading(_engine(own_demo_db)) as session:
        planned = session.scalar(select(func.count(func.distinct(ScheduleDay.worker_id))))
    assert planned == len(_township_workers(own_demo_db))


def test_the_admin_previews_a_policy_change_then_saves_it(own_app_as, own_demo_db):
    at = own_app_as("admin")
    at.run()
    at.switch_page("pages/policy.py").run()
    assert not at.exception
    assert "修改上面的数值后" in _texts(at)
    at.toggle[0].set_value(True).run()
    markdown = "\n".join(m.value for m in at.markdown)
    assert "条的下次巡访日期将改变" in markdown
    at.button(key="policy_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "巡访规则已保存" in _texts(at)
    with reading(_engine(own_demo_db)) as session:
        assert setting_value(session, "policy.phone_counts", COUNTY_CODE) == "1"


def test_a_policy_saved_over_someone_elses_change_is_refused(own_app_as, own_demo_db):
    at = own_app_as("admin")
    at.run()
    at.switch_page("pages/policy.py").run()
    limit = at.number_input[0]
    limit.set_value(limit.value + 1).run()
    with transaction(_engine(own_demo_db)) as session:
        row = session.get(CountySetting, (COUNTY_CODE, "policy.version"))
        if row is None:
            session.add(CountySetting(county_code=COUNTY_CODE, key="policy.version", value="7"))
        else:
            row.value = str(int(row.value) + 5)
    at.button(key="policy_save").click().run()
    assert "已被他人修改" in _texts(at)


def _village_with_children(db) -> tuple[str, str]:
    """A village of the supervisor's township with current children enrolled, and its township."""
    with reading(_engine(db)) as session:
        area = session.scalar(select(User.area_code).where(User.username == db["accounts"]["township"]["username"]))
        village = session.scalar(
            select(Person.village_code)
            .join(Enrollment, Enrollment.person_id == Person.id)
            .where(Enrollment.group == "child", Enrollment.end_date.is_(None), Person.village_code.like(area[:9] + "%"))
            .limit(1)
        )
    return village[:9] + "000", village


def test_the_assign_tab_offers_only_workers_who_fit_and_warns_before_an_unusual_choice(own_app_as, own_demo_db):
    township, village = _village_with_children(own_demo_db)
    at = own_app_as("township")
    at.run()
    at.switch_page("pages/assignments.py").run()
    at.selectbox(key="asg_township").set_value(township).run()
    at.selectbox(key="asg_village").set_value(village).run()
    at.selectbox(key="asg_group").set_value("child").run()
    at.checkbox(key="asg_all").check().run()
    with reading(_engine(own_demo_db)) as session:
        staff = {w.id: w for w in session.scalars(select(Worker).where(Worker.area_code.like(township[:9] + "%")))}
    target = at.selectbox(key="asg_target")
    labels = set(target.options)
    offered = [worker_id for worker_id in staff if target.format_func(worker_id) in labels]
    assert offered, "a village with children has a worker who fits"
    for worker_id in offered:
        worker = staff[worker_id]
        assert worker.active and worker.kind in ("child_director", "volunteer"), worker.kind
        assert areas.contains(worker.area_code, village), worker.area_code
    rehab = next(w for w in staff.values() if w.kind == "rehab_coordinator" and w.active)
    assert rehab.id not in offered
    # Everyone, then a rehabilitation coordinator: a warning, and saving waits for a confirmation.
    at.toggle(key="asg_fitting").set_value(False).run()
    at.selectbox(key="asg_target").set_value(rehab.id).run()
    assert f"{rehab.name}（康复协调员）通常不负责" in _texts(at)
    assert at.button(key="asg_apply").disabled
    at.checkbox(key=f"asg_misfit_ok_{rehab.id}").check().run()
    assert not at.button(key="asg_apply").disabled

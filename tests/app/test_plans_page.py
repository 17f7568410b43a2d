"""一人一案 and 服务工单 through the pages: a coordinator drafts and submits a plan on the person file,
the township approves it, an order taken by phone is raised and then delivered from 服务清单."""

from __future__ import annotations

from sqlalchemy import select

from care.auth import scope_of
from care.domain import clock
from care.queries.visits import VisitItem, my_week
from db.models import CarePlan, ServiceOrder, User
from db.session import get_engine, reading
from tests.app.conftest import person_ref

HOSTILE = "{{7*7}}<img src=x onerror=alert(1)> **粗体** =1+1"


def _texts(at) -> str:
    kinds = ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def _child(db: dict) -> tuple[int, int]:
    """A child of the demo coordinator's: (person, child enrollment)."""
    engine = get_engine(str(db["path"]))
    with reading(engine) as session:
        user = session.scalar(select(User).where(User.username == db["accounts"]["coordinator"]["username"]))
        week = my_week(session, scope_of(user), clock.today())
    item = next(i for i in week.persons if isinstance(i, VisitItem) and any(e.group == "child" for e in i.enrollments))
    return item.person_id, next(e.id for e in item.enrollments if e.group == "child")


def _file(at_factory, db, role, person_id, lang="zh"):
    at = at_factory(role)
    if lang != "zh":
        at.session_state["lang"] = lang
    at.query_params["ref"] = person_ref(db["path"], person_id)
    at.run()
    at.switch_page("pages/person.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _plans(db, enrollment_id):
    with reading(get_engine(str(db["path"]))) as session:
        return session.scalars(
            select(CarePlan).where(CarePlan.enrollment_id == enrollment_id).order_by(CarePlan.revision)
        ).all()


def test_a_plan_is_drafted_and_submitted_by_the_coordinator_and_approved_by_the_township(own_app_as, own_demo_db):
    person, enrollment = _child(own_demo_db)
    at = _file(own_app_as, own_demo_db, "coordinator", person)
    assert "服务计划（一人一案）" in _texts(at) and "尚无生效的服务计划" in _texts(at)
    key = f"plan_form_{enrollment}_0"
    at.text_area(key=f"{key}_goals").input(HOSTILE)
    at.multiselect(key=f"{key}_services").set_value(["tutoring", "guardianship_guidance"]).run()
    at.number_input(key=f"{key}_tutoring_times").set_value(2)
    at.button(key=f"{key}_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "草稿已保存" in _texts(at)
    (draft,) = _plans(own_demo_db, enrollment)
    assert draft.status == "draft" and draft.goals == HOSTILE
    assert not [b for b in at.button if b.key == f"plan_approve_{draft.id}"], "a coordinator does not approve"
    at.button(key=f"plan_submit_{draft.id}").click().run()
    assert "已提交乡镇审批" in _texts(at)

    town = _file(own_app_as, own_demo_db, "township", person)
    assert HOSTILE not in "\n".join(str(m.value) for m in town.markdown), "the goals are shown escaped, never as markup"
    town.button(key=f"plan_approve_{draft.id}").click().run()
    assert not town.exception
    assert "服务计划已批准" in _texts(town)
    (approved,) = _plans(own_demo_db, enrollment)
    assert approved.status == "approved" and approved.risk_at_approval
    assert "第 1 版生效中" in _texts(town)
    (progress,) = [d.value for d in town.dataframe if "本期已提供 / 计划" in d.value.columns]
    assert list(progress["本期已提供 / 计划"]) == ["0 / 2", "0 / 1"]


def test_a_supervisor_returns_a_plan_without_a_reason_refused_in_chinese_then_with_one(own_app_as, own_demo_db):
    person, enrollment = _child(own_demo_db)
    at = _file(own_app_as, own_demo_db, "coordinator", person)
    pending = [p for p in _plans(own_demo_db, enrollment) if p.status in ("draft", "submitted", "returned")]
    if not pending:
        key = f"plan_form_{enrollment}_0"
        at.text_area(key=f"{key}_goals").input("复核：增加心理疏导")
        at.multiselect(key=f"{key}_services").set_value(["tutoring"]).run()
        at.button(key=f"{key}_save").click().run()
        pending = [p for p in _plans(own_demo_db, enrollment) if p.status == "draft"]
    plan = pending[0]
    if plan.status == "draft":
        at.button(key=f"plan_submit_{plan.id}").click().run()
    town = _file(own_app_as, own_demo_db, "township", person)
    town.button(key=f"plan_return_{plan.id}").click().run()
    assert "退回时请写明原因" in _texts(town)
    town.text_input(key=f"plan_reason_{plan.id}").input("目标不具体")
    town.button(key=f"plan_return_{plan.id}").click().run()
    assert "已退回起草人修改" in _texts(town)
    back = _file(own_app_as, own_demo_db, "coordinator", person)
    assert "已退回：目标不具体" in _texts(back)


def test_a_phone_order_is_raised_on_the_file_and_delivered_from_the_orders_tab(own_app_as, own_demo_db):
    person, _ = _child(own_demo_db)
    at = _file(own_app_as, own_demo_db, "coordinator", person)
    key = f"order_new_{person}"
    at.selectbox(key=f"{key}_service").set_value("tutoring").run()
    at.text_input(key=f"{key}_caller").input("奶奶 <b>王</b>")
    at.text_area(key=f"{key}_note").input(HOSTILE)
    at.button(key=f"{key}_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "已登记“课业辅导”工单" in _texts(at)
    with reading(get_engine(str(own_demo_db["path"]))) as session:
        order = session.scalars(select(ServiceOrder).where(ServiceOrder.person_id == person)).one()
    assert (order.status, order.requested_by, order.note) == ("open", "奶奶 <b>王</b>", HOSTILE)

    page = own_app_as("township")
    page.run()
    page.switch_page("pages/services.py").run()
    assert not page.exception
    page.selectbox(key="orders_move_order").set_value(order.id).run()
    page.selectbox(key=f"orders_move_to_{order.id}").set_value("delivered").run()
    page.button(key="orders_move_save").click().run()
    assert "请填写服务人员" in _texts(page)  # nothing saved without who delivered it
    page.text_input(key=f"orders_move_{order.id}_who").input("志愿者小王")
    page.selectbox(key=f"orders_move_{order.id}_satisfaction").set_value("satisfied")
    page.button(key="orders_move_save").click().run()
    assert not page.exception
    assert "工单已改为“已完成”" in _texts(page)
    with reading(get_engine(str(own_demo_db["path"]))) as session:
        done = session.get(ServiceOrder, order.id)
    assert (done.status, done.delivered_by, done.satisfaction) == ("delivered", "志愿者小王", "satisfied")


def test_the_plan_section_speaks_english(own_app_as, own_demo_db):
    person, _ = _child(own_demo_db)
    at = _file(own_app_as, own_demo_db, "coordinator", person, lang="en")
    text = _texts(at)
    assert "Care plans" in text and "Service orders" in text
    assert "服务计划" not in text


def test_the_reports_services_tab_shows_the_figures_and_their_lists(own_app_as, own_demo_db):
    at = own_app_as("county")
    at.run()
    at.switch_page("pages/reports.py").run()
    assert not at.exception, [e.value for e in at.exception]
    labels = {m.label: m.value for m in at.metric}
    assert "有生效计划的在册比例" in labels and labels["有生效计划的在册比例"].endswith("%")
    assert "本月完成服务" in labels and int(labels["本月完成服务"].replace(",", "")) > 0, "the demo delivers services"
    tables = [d.value for d in at.dataframe]
    assert any("完成次数" in t.columns and "提供方" in t.columns for t in tables), "deliveries by provider"
    at.selectbox(key="rpt_list_services").set_value("orders_delivered").run()
    assert not at.exception
    assert any("家属满意度" in d.value.columns for d in at.dataframe)


def test_the_person_file_shows_the_timeline_with_visits_and_the_risk_it_started_at(own_app_as, own_demo_db):
    person, _ = _child(own_demo_db)
    at = _file(own_app_as, own_demo_db, "coordinator", person)
    assert "时间线" in [s.value for s in at.subheader]
    (table,) = [d.value for d in at.dataframe if "事项" in d.value.columns]
    assert {"巡访", "风险等级"} <= set(table["事项"])
    assert list(table["日期"]) == sorted(table["日期"], reverse=True)


def test_the_order_form_offers_only_providers_that_reach_the_persons_village(own_app_as, own_demo_db):
    from care.services import service_list as svc
    from db.models import Area, Person

    person, _ = _child(own_demo_db)
    engine = get_engine(str(own_demo_db["path"]))
    with reading(engine) as session:
        admin = scope_of(
            session.scalar(select(User).where(User.username == own_demo_db["accounts"]["admin"]["username"]))
        )
        home = session.get(Person, person).village_code
        # A village team of the same township, but of another village.
        elsewhere = session.scalar(
            select(Area.code)
            .where(Area.level == "village", Area.code.startswith(home[:9]), Area.code != home)
            .order_by(Area.code)
        )
    from db.session import transaction

    with transaction(engine) as session:
        far = svc.save_provider(
            session,
            admin,
            values=svc.ProviderInput(
                kind="volunteer", name="邻村志愿者队", area_code=elsewhere, services=("tutoring",)
            ),
        )
    at = _file(own_app_as, own_demo_db, "coordinator", person)
    key = f"order_new_{person}"
    at.selectbox(key=f"{key}_service").set_value("tutoring").run()
    offered = at.selectbox(key=f"{key}_provider").options
    assert offered, "the form offers providers"
    assert not [o for o in offered if "邻村志愿者队" in o], "another village's team is not offered"
    assert far.id

"""Care plans (一人一案: drafted, approved or returned, reviewed) and service orders (raised, assigned,
delivered, declined; a need resolved), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from care.domain import plans
from care.domain.errors import NotFound, PermissionDenied, StaleRecord, ValidationError
from care.domain.reports import parse_month
from care.queries import plans as q
from care.services import orders as order_service
from care.services import plans as plan_service
from care.services import service_list as svc
from care.services.needs import raise_need
from db.models import AuditEvent, CarePlan, Enrollment, Need, PlanService, Provider, ServiceOrder
from db.session import reading, transaction
from tests.integration.conftest import FIXTURE_TODAY

TODAY = FIXTURE_TODAY
HOSTILE = "{{7*7}}<img src=x onerror=alert(1)> =1+1 ${alert(1)}"


@pytest.fixture
def county(engine, world):
    """The default service list and a county volunteer team offering tutoring and guidance."""
    with transaction(engine) as session:
        svc.seed_default_services(session, valid_from=TODAY - dt.timedelta(days=30), county_code=world.county)
        team = svc.save_provider(
            session,
            world.scopes["admin"],
            values=svc.ProviderInput(
                kind="volunteer", name="青年志愿者队", area_code=world.county, services=("tutoring",)
            ),
        )
    return {"team": team.id}


def _enrollment(engine, person_id: int) -> int:
    with reading(engine) as session:
        return session.scalar(
            select(Enrollment.id).where(Enrollment.person_id == person_id, Enrollment.group == "child")
        )


def _draft(engine, scope, enrollment_id, *, provider=None, goals="按时上学，周末有人辅导", plan_id=None, seen=0):
    with transaction(engine) as session:
        return plan_service.save_draft(
            session,
            scope,
            enrollment_id=enrollment_id,
            goals=goals,
            review_on=TODAY + dt.timedelta(days=90),
            items=[
                plan_service.PlannedService("tutoring", 4, "month", provider, HOSTILE),
                plan_service.PlannedService("guardianship_guidance", 1, "quarter"),
            ],
            plan_id=plan_id,
            seen_version=seen,
            today=TODAY,
        )


def _call(engine, action, scope, **params):
    with transaction(engine) as session:
        return action(session, scope, **params)


def _approved(engine, world, county):
    eid = _enrollment(engine, world.persons["a1_child_w1"])
    draft = _draft(engine, world.scopes["coord_1"], eid, provider=county["team"])
    sent = _call(
        engine, plan_service.submit_plan, world.scopes["coord_1"], plan_id=draft.id, seen_version=draft.version
    )
    _call(
        engine,
        plan_service.approve_plan,
        world.scopes["township_a"],
        plan_id=draft.id,
        seen_version=sent.version,
        today=TODAY,
    )
    return eid, draft.id


def test_a_plan_is_drafted_submitted_and_approved_and_the_file_shows_it_in_force(engine, world, county):
    eid, plan_id = _approved(engine, world, county)
    with reading(engine) as session:
        found = q.person_plans(session, world.scopes["coord_1"], world.persons["a1_child_w1"], TODAY)
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.entity == "plan").order_by(AuditEvent.id)
        ).all()
    slot = next(s for s in found.plans if s.enrollment_id == eid)
    assert slot.current is not None and slot.current.id == plan_id and slot.pending is None
    assert [i.service_code for i in slot.current.items] == ["tutoring", "guardianship_guidance"]
    assert slot.current.items[0].provider == "青年志愿者队" and slot.current.items[0].note == " ".join(HOSTILE.split())
    assert slot.current.decided_by == "township_a" and not slot.current.review_reasons
    assert actions == ["plan.draft", "plan.submit", "plan.approve"]


def test_a_returned_plan_carries_the_reason_is_changed_and_a_new_approval_supersedes_the_old(engine, world, county):
    eid, first = _approved(engine, world, county)
    coord, town = world.scopes["coord_1"], world.scopes["township_a"]
    second = _draft(engine, coord, eid, goals="增加心理关爱")
    with pytest.raises(ValidationError) as twice:
        _draft(engine, coord, eid)
    assert twice.value.key == "plan.error.pending"
    sent = _call(engine, plan_service.submit_plan, coord, plan_id=second.id, seen_version=second.version)
    with pytest.raises(ValidationError) as no_reason:
        _call(engine, plan_service.return_plan, town, plan_id=second.id, seen_version=sent.version, reason="  ")
    assert no_reason.value.key == "plan.error.reason_required"
    back = _call(engine, plan_service.return_plan, town, plan_id=second.id, seen_version=sent.version, reason=HOSTILE)
    with reading(engine) as session:
        found = q.person_plans(session, coord, world.persons["a1_child_w1"], TODAY)
    slot = next(s for s in found.plans if s.enrollment_id == eid)
    assert slot.current.id == first, "the approved plan stays in force while the revision is returned"
    assert slot.pending.status == "returned" and slot.pending.return_reason == " ".join(HOSTILE.split())
    changed = _draft(engine, coord, eid, goals="增加心理关爱，每周一次电话", plan_id=second.id, seen=back.version)
    sent = _call(engine, plan_service.submit_plan, coord, plan_id=second.id, seen_version=changed.version)
    _call(engine, plan_service.approve_plan, town, plan_id=second.id, seen_version=sent.version, today=TODAY)
    with reading(engine) as session:
        statuses = dict(
            session.execute(select(CarePlan.revision, CarePlan.status).where(CarePlan.enrollment_id == eid)).all()
        )
    assert statuses == {1: "superseded", 2: "approved"}


def test_nobody_approves_their_own_plan_and_a_coordinator_cannot_approve_at_all(engine, world, county):
    town = world.scopes["township_a"]
    eid = _enrollment(engine, world.persons["a1_child_w1"])
    own = _draft(engine, town, eid)
    sent = _call(engine, plan_service.submit_plan, town, plan_id=own.id, seen_version=own.version)
    with pytest.raises(ValidationError) as mine:
        _call(engine, plan_service.approve_plan, town, plan_id=own.id, seen_version=sent.version, today=TODAY)
    assert mine.value.key == "plan.error.own_plan"
    with pytest.raises(PermissionDenied):
        _call(engine, plan_service.approve_plan, world.scopes["coord_1"], plan_id=own.id, seen_version=sent.version)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"goals": "   "}, "plan.error.goals_required"),
        ({"review_on": TODAY}, "plan.error.review_date"),
        ({"review_on": TODAY + dt.timedelta(days=190)}, "plan.error.review_date"),
        ({"items": []}, "plan.error.no_services"),
        ({"items": [plan_service.PlannedService("meal", 1, "month")]}, "plan.error.service"),  # an elderly service
        ({"items": [plan_service.PlannedService("tutoring", 0, "month")]}, "plan.error.times"),
        ({"items": [plan_service.PlannedService("tutoring", 2, "fortnight")]}, "error.bad_choice"),
        (
            {"items": [plan_service.PlannedService("tutoring", 1, "month")] * 2},
            "plan.error.duplicate",
        ),
    ],
)
def test_a_bad_draft_is_refused_with_its_reason_and_nothing_is_written(engine, world, county, change, key):
    eid = _enrollment(engine, world.persons["a1_child_w1"])
    values = {
        "enrollment_id": eid,
        "goals": "目标",
        "review_on": TODAY + dt.timedelta(days=30),
        "items": [plan_service.PlannedService("tutoring", 1, "month")],
        "today": TODAY,
        **change,
    }
    with pytest.raises(ValidationError) as refused:
        _call(engine, plan_service.save_draft, world.scopes["coord_1"], **values)
    assert refused.value.key == key
    with reading(engine) as session:
        assert session.scalar(select(func.count()).select_from(CarePlan)) == 0
        assert session.scalar(select(func.count()).select_from(PlanService)) == 0


def test_a_provider_that_does_not_offer_the_service_is_refused(engine, world, county):
    eid = _enrollment(engine, world.persons["a1_child_w1"])
    with transaction(engine) as session:
        other = svc.save_provider(
            session,
            world.scopes["admin"],
            values=svc.ProviderInput(
                kind="social_org", name="社工站", area_code=world.county, services=("counselling",)
            ),
        )
    with pytest.raises(ValidationError) as refused:
        _draft(engine, world.scopes["coord_1"], eid, provider=other.id)
    assert refused.value.key == "plan.error.provider"


def test_a_colleagues_child_and_another_townships_child_are_not_found(engine, world, county):
    theirs = _enrollment(engine, world.persons["a1_child_w2"])
    with pytest.raises(NotFound):
        _draft(engine, world.scopes["coord_1"], theirs)
    far = _enrollment(engine, world.persons["b1_child_w4"])
    with pytest.raises(NotFound):
        _draft(engine, world.scopes["township_a"], far)


def test_a_stale_draft_is_refused_with_the_newer_values(engine, world, county):
    eid = _enrollment(engine, world.persons["a1_child_w1"])
    first = _draft(engine, world.scopes["coord_1"], eid)
    _draft(engine, world.scopes["coord_1"], eid, goals="第二次修改", plan_id=first.id, seen=first.version)
    with pytest.raises(StaleRecord) as stale:
        _draft(engine, world.scopes["coord_1"], eid, goals="旧页面上的修改", plan_id=first.id, seen=first.version)
    assert stale.value.current["goals"] == "第二次修改"


def test_a_plan_is_due_for_review_on_its_date_or_when_the_risk_changes(engine, world, county):
    eid, plan_id = _approved(engine, world, county)
    town = world.scopes["township_a"]
    with reading(engine) as session:
        assert q.plans_to_act_on(session, town, TODAY).empty
        later = q.plans_to_act_on(session, town, TODAY + dt.timedelta(days=90))
    assert list(later["plan_id"]) == [plan_id] and later.iloc[0]["reasons"] == ("plan.review.date",)
    with transaction(engine) as session:
        enrollment = session.get(Enrollment, eid)
        enrollment.risk = "high" if enrollment.risk != "high" else "low"
    with reading(engine) as session:
        now = q.plans_to_act_on(session, town, TODAY)
        other = q.plans_to_act_on(session, world.scopes["township_b"], TODAY)
    assert now.iloc[0]["reasons"] == ("plan.review.risk",)
    assert other.empty, "another township's supervisor sees none of it"


def _order(engine, scope, person_id, token=None, **values):
    base = {"service_code": "tutoring", "source": "phone", "requested_by": "奶奶（祖母）"}
    with transaction(engine) as session:
        return order_service.raise_order(
            session,
            scope,
            person_id=person_id,
            values=order_service.OrderInput(**{**base, **values}),
            client_token=token,
            today=TODAY,
        )


def test_a_phone_order_is_assigned_delivered_and_rated_and_counts_in_the_plans_progress(engine, world, county):
    _approved(engine, world, county)
    coord = world.scopes["coord_1"]
    child = world.persons["a1_child_w1"]
    made = _order(engine, coord, child, note=HOSTILE)
    assigned = _call(
        engine,
        order_service.move_order,
        coord,
        order_id=made.id,
        seen_version=made.version,
        move=order_service.OrderMove("assigned", provider_id=county["team"]),
        today=TODAY,
    )
    _call(
        engine,
        order_service.move_order,
        coord,
        order_id=made.id,
        seen_version=assigned.version,
        move=order_service.OrderMove(
            "delivered", delivered_on=TODAY, delivered_by="志愿者小王", minutes=90, satisfaction="satisfied"
        ),
        today=TODAY,
    )
    with reading(engine) as session:
        found = q.person_plans(session, coord, child, TODAY)
        events = session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "order")).all()
    slot = next(s for s in found.plans if s.group == "child")
    tutoring = next(i for i in slot.current.items if i.service_code == "tutoring")
    assert tutoring.delivered == 1 and tutoring.times == 4 and not tutoring.met
    row = found.orders.iloc[0]
    assert (
        row["status"] == "delivered" and row["provider"] == "青年志愿者队" and row["note"] == " ".join(HOSTILE.split())
    )
    assert events == ["order.create", "order.move", "order.move"]


def test_an_order_raised_from_a_need_resolves_it_when_delivered(engine, world, county):
    coord = world.scopes["coord_1"]
    child = world.persons["a1_child_w1"]
    with transaction(engine) as session:
        need = raise_need(session, coord, person_id=child, kind="schooling", description="作业没人辅导")
    made = _order(engine, coord, child, source="need", need_id=need.id, requested_by="", provider_id=county["team"])
    _call(
        engine,
        order_service.move_order,
        coord,
        order_id=made.id,
        seen_version=made.version,
        move=order_service.OrderMove("delivered", delivered_on=TODAY, delivered_by="志愿者小王"),
        today=TODAY,
    )
    with reading(engine) as session:
        assert session.get(Need, need.id).status == "resolved"
    with pytest.raises(ValidationError) as resolved:
        _order(engine, coord, child, source="need", need_id=need.id)
    assert resolved.value.key == "order.error.source"


@pytest.mark.parametrize(
    ("move", "key"),
    [
        (order_service.OrderMove("declined"), "order.error.reason"),
        (order_service.OrderMove("assigned"), "order.error.provider"),
        (
            order_service.OrderMove("delivered", delivered_on=TODAY + dt.timedelta(days=1), delivered_by="x"),
            "order.error.delivered_on",
        ),
        (order_service.OrderMove("delivered", delivered_on=TODAY), "order.error.delivered_by"),
        (order_service.OrderMove("delivered", delivered_on=TODAY, delivered_by="x", minutes=0), "order.error.minutes"),
        (
            order_service.OrderMove("delivered", delivered_on=TODAY, delivered_by="x", satisfaction="great"),
            "error.bad_choice",
        ),
        (order_service.OrderMove("scheduled", scheduled_on=TODAY - dt.timedelta(days=1)), "order.error.scheduled"),
        (order_service.OrderMove("open"), "order.error.move"),
    ],
)
def test_a_bad_move_is_refused_with_its_reason_and_the_order_is_unchanged(engine, world, county, move, key):
    made = _order(engine, world.scopes["coord_1"], world.persons["a1_child_w1"])
    with pytest.raises(ValidationError) as refused:
        _call(
            engine,
            order_service.move_order,
            world.scopes["coord_1"],
            order_id=made.id,
            seen_version=made.version,
            move=move,
            today=TODAY,
        )
    assert refused.value.key == key
    with reading(engine) as session:
        order = session.get(ServiceOrder, made.id)
        assert (order.status, order.version) == ("open", 1)


def test_a_declined_order_is_final_and_a_stale_move_is_refused(engine, world, county):
    coord = world.scopes["coord_1"]
    made = _order(engine, coord, world.persons["a1_child_w1"])
    declined = _call(
        engine,
        order_service.move_order,
        coord,
        order_id=made.id,
        seen_version=made.version,
        move=order_service.OrderMove("declined", reason="家属不需要"),
        today=TODAY,
    )
    with pytest.raises(StaleRecord):
        _call(
            engine,
            order_service.move_order,
            coord,
            order_id=made.id,
            seen_version=made.version,
            move=order_service.OrderMove("cancelled", reason="x"),
            today=TODAY,
        )
    with pytest.raises(ValidationError) as final:
        _call(
            engine,
            order_service.move_order,
            coord,
            order_id=made.id,
            seen_version=declined.version,
            move=order_service.OrderMove("cancelled", reason="x"),
            today=TODAY,
        )
    assert final.value.key == "order.error.move"


def test_a_double_submit_raises_one_order_and_a_bad_source_raises_none(engine, world, county):
    coord = world.scopes["coord_1"]
    child = world.persons["a1_child_w1"]
    first = _order(engine, coord, child, token="same-form")
    again = _order(engine, coord, child, token="same-form")
    assert first.id == again.id
    with pytest.raises(ValidationError) as caller:
        _order(engine, coord, child, requested_by=" ")
    assert caller.value.key == "order.error.caller"
    with pytest.raises(ValidationError) as elderly:
        _order(engine, coord, child, service_code="meal")
    assert elderly.value.key == "order.error.group"
    with pytest.raises(ValidationError) as not_planned:
        _order(engine, coord, child, source="plan", plan_id=999)
    assert not_planned.value.key == "order.error.source"
    with pytest.raises(NotFound):
        _order(engine, coord, world.persons["a1_child_w2"])  # a colleague's child
    with reading(engine) as session:
        assert session.scalar(select(func.count()).select_from(ServiceOrder)) == 1


def test_the_months_service_figures_count_plans_deliveries_overdue_orders_satisfaction_and_pairings(
    engine, world, county
):
    _approved(engine, world, county)
    town = world.scopes["township_a"]
    coord = world.scopes["coord_1"]
    child = world.persons["a1_child_w1"]
    done = _order(engine, coord, child, provider_id=county["team"])
    _call(
        engine,
        order_service.move_order,
        coord,
        order_id=done.id,
        seen_version=done.version,
        move=order_service.OrderMove(
            "delivered", delivered_on=TODAY, delivered_by="小王", minutes=60, satisfaction="fair"
        ),
        today=TODAY,
    )
    _order(engine, coord, child, due_on=TODAY)  # open, due today: overdue tomorrow
    with transaction(engine) as session:
        svc.pair(session, town, person_id=child, provider_id=county["team"], start_date=TODAY, today=TODAY)
    month = parse_month(TODAY.strftime("%Y-%m"), today=TODAY)
    with reading(engine) as session:
        figures = q.service_figures(
            session, town, prefix=world.township_a[:9], month=month, today=TODAY + dt.timedelta(days=1)
        )
        other = q.service_figures(
            session, world.scopes["township_b"], prefix=world.township_b[:9], month=month, today=TODAY
        )
    assert figures.with_plan == 1 and figures.delivered == 1 and figures.delivered_minutes == 60
    assert figures.opened == 2 and figures.open_now == 1 and figures.overdue_now == 1
    assert figures.rated == 1 and figures.satisfied == 0 and figures.satisfied_share == 0
    assert figures.paired == 1 and figures.persons >= 1
    assert list(figures.by_service["service"]) == ["课业辅导"] and list(figures.by_provider["provider"]) == [
        "青年志愿者队"
    ]
    assert figures.enrollments > figures.with_plan
    assert (other.with_plan, other.delivered, other.opened, other.paired) == (0, 0, 0, 0)


def test_review_dates_and_progress_follow_the_calendar():
    assert plans.latest_review(dt.date(2026, 8, 31)) == dt.date(2027, 2, 28)
    assert plans.period_start(dt.date(2026, 11, 18), "quarter") == dt.date(2026, 10, 1)
    assert plans.period_start(dt.date(2026, 11, 18), "week") == dt.date(2026, 11, 16)
    done = [dt.date(2026, 10, 30), dt.date(2026, 11, 2), dt.date(2026, 11, 17)]
    assert plans.progress(done, times=2, period="month", today=dt.date(2026, 11, 18)).delivered == 2
    assert plans.progress(done, times=2, period="month", today=dt.date(2026, 11, 18)).met


def test_the_service_report_lists_its_figures_and_the_workbook_carries_them_inert(engine, world, county):
    import io

    import openpyxl

    from care.files.exports import ExportMeta, workbook_bytes
    from care.queries.plans import service_report, service_sheets
    from care.queries.reports import month_report

    _approved(engine, world, county)
    coord, town = world.scopes["coord_1"], world.scopes["township_a"]
    child = world.persons["a1_child_w1"]
    with transaction(engine) as session:
        session.get(Provider, county["team"]).name = '=HYPERLINK("http://x")'
    made = _order(engine, coord, child, provider_id=county["team"], due_on=TODAY)
    done = _order(engine, coord, child, provider_id=county["team"])
    _call(
        engine,
        order_service.move_order,
        coord,
        order_id=done.id,
        seen_version=done.version,
        move=order_service.OrderMove("delivered", delivered_on=TODAY, delivered_by=HOSTILE[:64], minutes=30),
        today=TODAY,
    )
    later = TODAY + dt.timedelta(days=1)
    month = TODAY.strftime("%Y-%m")
    with reading(engine) as session:
        found = service_report(session, town, month=month, area_code=world.township_a, today=later)
        report = month_report(session, town, month=month, area_code=world.township_a, today=later)
    assert list(found.lists["orders_overdue"]["person_id"]) == [child]
    assert found.lists["orders_overdue"].iloc[0]["order_status"] == "assigned"
    assert list(found.lists["orders_delivered"]["delivered_by"]) == [" ".join(HOSTILE.split())[:64]]
    assert child not in set(found.lists["high_risk_no_plan"]["person_id"]), "the child has a plan in force"
    with pytest.raises(NotFound):
        with reading(engine) as session:
            service_report(session, town, month=month, area_code=world.township_b, today=later)
    meta = ExportMeta(
        area_code=world.township_a,
        area_name="丹江镇",
        month=month,
        username="township_a",
        generated_at=dt.datetime(2026, 5, 20, 9),
    )
    data, _ = workbook_bytes(report, None, meta, "zh", services=service_sheets(found))
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book["服务与计划"]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert ["本月完成服务", 1] in [r[:2] for r in rows]
    assert ["有生效计划的在册比例", f"{found.figures.plan_share * 100:.1f}%"] in [r[:2] for r in rows]
    assert any(r[0] == '=HYPERLINK("http://x")' and r[1] == 1 for r in rows), "deliveries by provider"
    assert all(c.data_type != "f" for r in sheet.iter_rows() for c in r), "no cell is a formula"
    listed = book[next(n for n in book.sheetnames if "逾期工单" in n)]
    rows = [[c.value for c in r] for r in listed.iter_rows()]
    assert len(rows) == 2 and rows[1][0] == child, rows
    assert made.id


def test_the_printed_plan_carries_the_goals_as_text_and_a_masked_id_and_is_audited(engine, world, county):
    from care.domain import ids
    from db.models import Person
    from tests.integration.test_hostile_text import flat, pdf_text

    eid = _enrollment(engine, world.persons["a1_child_w1"])
    draft = _draft(engine, world.scopes["coord_1"], eid, goals=HOSTILE, provider=county["team"])
    data = _call(engine, plan_service.print_plan, world.scopes["coord_1"], plan_id=draft.id, lang="zh", today=TODAY)
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    with reading(engine) as session:
        number = session.get(Person, world.persons["a1_child_w1"]).id_number
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "plan.print")).one()
    assert flat(HOSTILE) in text and "课业辅导" in text and "青年志愿者队" in text
    assert ids.mask_id_number(number) in text and number not in text
    assert event.entity_id == str(draft.id) and len(event.detail["sha256"]) == 64
    with pytest.raises(NotFound):
        _call(engine, plan_service.print_plan, world.scopes["township_b"], plan_id=draft.id, lang="zh", today=TODAY)


def _number(engine, person_id: int) -> str:
    from db.models import Person

    with reading(engine) as session:
        return session.get(Person, person_id).id_number


def test_a_service_record_file_is_written_all_or_nothing_and_a_second_import_writes_nothing(engine, world, county):
    from care.imports import build_template, run_import
    from care.imports.services import TEMPLATE_HEADERS
    from tests.integration.test_imports import as_csv, as_xlsx

    eid, plan_id = _approved(engine, world, county)
    coord = world.scopes["coord_1"]
    child = _number(engine, world.persons["a1_child_w1"])
    day = (TODAY - dt.timedelta(days=3)).isoformat()
    good = [
        [child, "课业辅导", day, "青年志愿者队", "志愿者小王", "90", "满意", HOSTILE],
        [child, "guardianship_guidance", day, "", "吴儿主", "", "", ""],
    ]
    bad = [
        *good,
        [child, "助餐", day, "", "x", "", "", ""],  # an elderly service for a child
        [_number(engine, world.persons["a1_child_w2"]), "课业辅导", day, "", "x", "", "", ""],  # a colleague's
        [child, "课业辅导", (TODAY + dt.timedelta(days=1)).isoformat(), "", "x", "", "", ""],  # the future
        [child, "课业辅导", day, "不存在的队", "x", "", "", ""],  # an unknown provider
        [child, "课业辅导", day, "", "y", "0", "很好", ""],  # minutes and satisfaction, both shown
        [child, "课业辅导", day, "青年志愿者队", "志愿者小王", "90", "满意", ""],  # repeats the first row
    ]
    refused = run_import(engine, coord, kind="services", data=as_xlsx(TEMPLATE_HEADERS, bad), filename="台账.xlsx")
    assert not refused.ok and refused.committed == 0
    keys = sorted({(e.row, e.key) for e in refused.errors})
    assert (4, "order.error.group") in keys and (5, "import.person_not_found") in keys
    assert (6, "order.error.delivered_on") in keys
    assert {(7, "import.provider_unknown"), (8, "order.error.minutes"), (8, "import.bad_choice")} <= set(keys)
    assert (9, "import.duplicate_in_file") in keys
    with reading(engine) as session:
        assert session.scalar(select(func.count()).select_from(ServiceOrder)) == 0, "nothing half-done"
    done = run_import(engine, coord, kind="services", data=as_csv(TEMPLATE_HEADERS, good), filename="台账.csv")
    assert done.ok and done.committed == 2, done.errors
    again = run_import(engine, coord, kind="services", data=as_xlsx(TEMPLATE_HEADERS, good), filename="台账.xlsx")
    assert again.ok and again.committed == 0 and again.unchanged == 2
    with reading(engine) as session:
        rows = session.scalars(select(ServiceOrder).order_by(ServiceOrder.id)).all()
        found = q.person_plans(session, coord, world.persons["a1_child_w1"], TODAY)
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "import.services", AuditEvent.outcome == "success")
        ).one()
    assert [(r.source, r.status, r.plan_id, r.enrollment_id) for r in rows] == [
        ("import", "delivered", plan_id, eid)
    ] * 2
    assert rows[0].note == HOSTILE and rows[0].minutes == 90 and rows[0].satisfaction == "satisfied"
    slot = next(s for s in found.plans if s.enrollment_id == eid)
    assert {i.service_code: i.delivered for i in slot.current.items} == {"tutoring": 1, "guardianship_guidance": 1}
    assert event.detail["committed"] == 2
    with reading(engine) as session:
        template = build_template(session, coord, kind="services")
    sheet = openpyxl.load_workbook(io.BytesIO(template)).worksheets[0]
    assert [c.value for c in sheet[1]] == TEMPLATE_HEADERS


def test_the_high_risk_without_a_plan_worklist_drops_a_child_once_their_plan_is_approved(engine, world, county):
    from care.queries.registers import RegisterFilter, register_count

    town = world.scopes["township_a"]
    eid = _enrollment(engine, world.persons["a1_child_w1"])
    with transaction(engine) as session:
        session.get(Enrollment, eid).risk = "high"
    listed = RegisterFilter(worklist="high_risk_no_plan")
    with reading(engine) as session:
        before = register_count(session, town, listed, TODAY)
        unvisited = register_count(session, town, RegisterFilter(worklist="high_risk_unvisited"), TODAY)
    _approved(engine, world, county)
    with reading(engine) as session:
        after = register_count(session, town, listed, TODAY)
    assert before >= 1 and after == before - 1
    assert unvisited >= 1, "the fixture child has no visit this month"


def test_the_person_timeline_holds_visits_needs_services_plans_and_risk_changes_newest_first(engine, world, county):
    from care.queries.timeline import person_timeline
    from care.services import update_enrollment
    from care.services.visits import record_visit
    from db.models import RiskChange

    child = world.persons["a1_child_w1"]
    coord, town = world.scopes["coord_1"], world.scopes["township_a"]
    eid, _ = _approved(engine, world, county)
    with transaction(engine) as session:
        record_visit(
            session,
            coord,
            person_id=child,
            enrollment_ids=[eid],
            status="done",
            mode="home",
            visited_at=dt.datetime.combine(TODAY, dt.time(9)),
            notes=HOSTILE,
        )
        need = raise_need(session, coord, person_id=child, kind="medical", description="看牙")
    made = _order(engine, coord, child, source="need", need_id=need.id, requested_by="", provider_id=None)
    _call(
        engine,
        order_service.move_order,
        coord,
        order_id=made.id,
        seen_version=made.version,
        move=order_service.OrderMove("delivered", delivered_on=TODAY, delivered_by="李医生"),
        today=TODAY,
    )
    with transaction(engine) as session:
        enrollment = session.get(Enrollment, eid)
        target = "high" if enrollment.risk != "high" else "low"
        facts = {"guardianship": "grandparent", "schooling": "primary"}
        update_enrollment(
            session,
            town,
            enrollment_id=eid,
            seen_version=enrollment.version,
            subtype=enrollment.subtype,
            facts=facts,
            risk_override=target,
            risk_override_reason="家访发现独自在家",
        )
    with reading(engine) as session:
        events = person_timeline(session, coord, child, TODAY)
        hidden = person_timeline(session, world.scopes["township_b"], child, TODAY)
        changes = session.scalars(select(RiskChange.cause).where(RiskChange.enrollment_id == eid)).all()
    kinds = [e.kind for e in events]
    assert {"visit", "need", "need_resolved", "order", "delivered", "plan", "risk"} <= set(kinds)
    assert [e.day for e in events] == sorted((e.day for e in events), reverse=True)
    assert next(e for e in events if e.kind == "visit").text == "吴儿主"
    risk = next(e for e in events if e.kind == "risk" and e.codes[2] == "edit")
    assert risk.codes[1] == target
    assert "edit" in changes
    assert hidden == [], "another township's supervisor sees nothing of the child"

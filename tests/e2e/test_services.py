"""服务清单 and the person file's plan section in Chromium: the orders and plans tabs, the services
tab of the reports, a person file with its plan at phone width (screenshots)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import DemoServer, expect, login, open_page, shot, wait_idle

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e
LONG_MS = 60_000


def test_the_township_sees_its_orders_and_plans_to_act_on_and_the_services_report(page: Page, demo_server: DemoServer):
    login(page, demo_server, "township")
    open_page(page, "服务清单")
    expect(page.get_by_role("heading", name="服务清单")).to_be_visible(timeout=LONG_MS)
    page.get_by_role("tab", name="服务工单").click()
    wait_idle(page)
    expect(page.get_by_text("办理工单（派单、预约、完成、拒绝、取消）").first).to_be_visible(timeout=LONG_MS)
    shot(page, "services_orders_township")
    page.get_by_role("tab", name="计划待办").click()
    wait_idle(page)
    shot(page, "services_plans_township")
    open_page(page, "统计报表")
    page.get_by_role("tab", name="服务与计划").click()
    wait_idle(page)
    tile = page.locator('[data-testid="stMetric"]').filter(has_text="有生效计划的在册比例").first
    expect(tile).to_be_visible(timeout=LONG_MS)
    assert tile.locator('[data-testid="stMetricValue"]').inner_text().endswith("%")
    shot(page, "reports_services_township")


def test_a_coordinator_reads_a_plan_in_force_on_a_phone(page: Page, demo_server: DemoServer):
    page.set_viewport_size({"width": 390, "height": 900})
    login(page, demo_server, "coordinator")
    page.goto(f"{demo_server.url}/person?ref={_planned_ref(demo_server)}")
    wait_idle(page)
    expect(page.get_by_text("服务计划（一人一案）").first).to_be_visible(timeout=LONG_MS)
    expect(page.get_by_text("生效中").first).to_be_visible(timeout=LONG_MS)
    page.get_by_text("服务计划（一人一案）").first.scroll_into_view_if_needed()
    shot(page, "person_plan_phone")


def _planned_ref(server: DemoServer) -> str:
    from sqlalchemy import select

    from care.auth import scope_of
    from care.queries.person_file import ref_of
    from care.queries.plans import assigned_enrollments
    from db.models import CarePlan, User
    from db.session import get_engine, reading

    engine = get_engine(str(server.db_path))
    with reading(engine) as session:
        user = session.scalar(select(User).where(User.username == server.accounts["coordinator"][0]))
        scope = scope_of(user)
        plans = session.execute(select(CarePlan.enrollment_id, CarePlan.person_id).where(CarePlan.status == "approved"))
        by_enrollment = dict(plans.all())
        mine = assigned_enrollments(session, scope, list(by_enrollment))
        assert mine, "the demo coordinator has a plan in force"
        ref = ref_of(session, by_enrollment[min(mine)])
    assert ref
    return ref

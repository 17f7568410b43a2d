"""我的巡访 on a phone (390 × 844): a coordinator records a visit and sees it done, due date moved."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from care import clock
from care.auth import scope_of
from care.queries.visits import my_week
from care.services.needs import raise_need
from db.models import User
from db.session import get_engine, transaction
from tests.e2e.conftest import DemoServer, expect, login, nav_link, open_app, open_page, shot, submit_login, wait_idle

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
EXPAND_SIDEBAR = '[data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapsedControl"] button'
# Each person's card is a keyed container (class st-key-visit_card_<person id>).
CARDS = '[class*="st-key-visit_card_"]'
DUE = re.compile(r"下次巡访：(\d{4}-\d{2}-\d{2})")


def _no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px screen"


def _open_my_visits(page: Page) -> None:
    """On a phone the navigation sits in the collapsed sidebar: open it, then pick 我的巡访."""
    link = nav_link(page, "我的巡访").first
    expand = page.locator(EXPAND_SIDEBAR).first
    if expand.is_visible():
        expand.click()
    expect(link).to_be_in_viewport()
    link.click()
    wait_idle(page)
    # On a phone the sidebar lies over the page: close it once the page is chosen.
    collapse = page.get_by_role("button", name="Collapse sidebar")
    if collapse.is_visible():
        collapse.click()
        wait_idle(page)
    expect(page.get_by_role("heading", name="我的巡访")).to_be_visible()


def _first_card(page: Page) -> Locator:
    """The first person card that still has a visit to record."""
    cards = page.locator(CARDS).filter(has_text="本周到期").or_(page.locator(CARDS).filter(has_text="已逾期"))
    expect(cards.first).to_be_visible()
    return cards.first


def test_a_coordinator_records_a_visit_on_a_phone_and_sees_it_done(page: Page, demo_server: DemoServer) -> None:
    page.set_viewport_size(PHONE)
    open_app(page, demo_server)
    submit_login(page, *demo_server.accounts["coordinator"])
    _open_my_visits(page)
    _no_horizontal_scroll(page)
    shot(page, "my_visits_phone")

    card = _first_card(page)
    name = card.locator("strong").first.inner_text()
    due_before = DUE.search(card.inner_text())
    assert due_before, card.inner_text()
    card.get_by_role("button", name="记录巡访").click()
    wait_idle(page)
    card.get_by_text("上门", exact=True).first.click()
    card.get_by_label("情况记录").fill("在家，祖母照看，作业已完成")
    _no_horizontal_scroll(page)
    shot(page, "my_visits_phone_form")
    card.get_by_role("button", name="保存巡访记录").click()
    wait_idle(page)
    # Shown at the top of the page and as a toast where the phone is scrolled to.
    expect(page.locator('[data-testid="stToast"]').filter(has_text=f"已保存{name}的巡访记录")).to_be_in_viewport()
    shot(page, "my_visits_phone_saved")

    page.get_by_text("全部（含已访）").click()
    wait_idle(page)
    done = page.locator(CARDS).filter(has_text=name).first
    expect(done.get_by_text("本周已访")).to_be_visible()
    due_after = DUE.search(done.inner_text())
    assert due_after and due_after.group(1) > due_before.group(1)
    _no_horizontal_scroll(page)
    done.scroll_into_view_if_needed()
    shot(page, "my_visits_phone_done")


def _raise_a_need(server: DemoServer) -> None:
    """A need in the supervisor's township, raised as the coordinator there would."""
    engine = get_engine(str(server.db_path))
    with transaction(engine) as session:
        user = session.scalar(select(User).where(User.username == server.accounts["coordinator"][0]))
        scope = scope_of(user)
        person = my_week(session, scope, clock.today()).items[0].person_id
        raise_need(
            session, scope, person_id=person, kind="assistive_device", department="县残联", description="需要助行器"
        )


def test_a_supervisor_sees_open_needs_oldest_first_and_moves_one(page: Page, demo_server: DemoServer) -> None:
    _raise_a_need(demo_server)
    login(page, demo_server, "township")
    open_page(page, "需求转介")
    expect(page.get_by_role("heading", name="需求转介")).to_be_visible()
    expect(page.locator('[data-testid="stDataFrame"]')).to_be_visible()
    shot(page, "needs_township")
    page.get_by_text("处理中", exact=True).last.click()
    page.get_by_role("button", name="保存状态").click()
    wait_idle(page)
    expect(page.get_by_text("需求状态已更新")).to_be_visible()

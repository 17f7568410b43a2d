"""我的巡访 on a phone (390 × 844): a coordinator records a visit and sees it done, due date moved."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from care.auth import scope_of
from care.domain import clock
from care.queries.visits import my_week
from care.services.needs import raise_need
from db.models import AuditEvent, Person, User
from db.session import get_engine, reading, transaction
from tests.e2e.conftest import (
    APP_TIMEOUT_MS,
    DemoServer,
    expect,
    login,
    nav_link,
    open_app,
    open_page,
    shot,
    submit_login,
    wait_idle,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

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


# A phone's own browser: Streamlit closes the sidebar after a page is chosen on a mobile device.
PHONE_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A page in a phone's browser: 390 × 844, touch, a mobile user agent."""
    context = browser.new_context(
        viewport=PHONE,
        user_agent=PHONE_AGENT,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(APP_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def _any_card(page: Page) -> Locator:
    """The first person card of the week, visited already or not."""
    page.get_by_text("全部（含已访）").click()
    wait_idle(page)
    card = page.locator(CARDS).first
    expect(card).to_be_visible()
    return card


def _sidebar_closed(page: Page) -> bool:
    box = page.locator('[data-testid="stSidebar"]').bounding_box()
    return box is None or box["x"] + box["width"] <= 0


def _wait_sidebar_closed(page: Page) -> None:
    """Wait until the sidebar has slid off the screen (it closes with an animation)."""
    page.wait_for_function(
        "() => { const s = document.querySelector('[data-testid=\"stSidebar\"]');"
        " if (!s) return true; const b = s.getBoundingClientRect(); return b.right <= 0 || b.width === 0; }"
    )


def _events(server: DemoServer, action: str) -> list[AuditEvent]:
    with reading(get_engine(str(server.db_path))) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_a_coordinator_lands_on_my_visits_and_choosing_a_page_closes_the_sidebar(
    phone: Page, demo_server: DemoServer
) -> None:
    open_app(phone, demo_server)
    submit_login(phone, *demo_server.accounts["coordinator"])
    expect(phone.get_by_role("heading", name="我的巡访")).to_be_visible()
    assert phone.url.endswith("/my_visits"), phone.url
    assert _sidebar_closed(phone)
    shot(phone, "phone-01-landed")

    phone.locator(EXPAND_SIDEBAR).first.click()
    expect(nav_link(phone, "首页").first).to_be_in_viewport()
    nav_link(phone, "首页").first.click()
    wait_idle(phone)
    expect(phone.get_by_role("heading", name="首页")).to_be_visible()
    _wait_sidebar_closed(phone)
    shot(phone, "phone-02-home-sidebar-closed")

    phone.locator(EXPAND_SIDEBAR).first.click()
    nav_link(phone, "我的巡访").first.click()
    wait_idle(phone)
    _wait_sidebar_closed(phone)
    card = _any_card(phone)
    card.get_by_role("button", name="记录巡访").click()  # nothing lies over it any more
    wait_idle(phone)
    expect(card.get_by_role("button", name="保存巡访记录")).to_be_visible()
    _no_horizontal_scroll(phone)


def test_a_deep_link_still_opens_its_own_page_after_login(phone: Page, demo_server: DemoServer) -> None:
    open_app(phone, demo_server, "needs")
    submit_login(phone, *demo_server.accounts["coordinator"])
    expect(phone.get_by_role("heading", name="需求转介")).to_be_visible()
    assert not phone.url.endswith("/my_visits")


def test_tap_to_call_and_to_navigate_open_the_phone_and_the_map_and_are_audited(
    phone: Page, demo_server: DemoServer
) -> None:
    open_app(phone, demo_server)
    submit_login(phone, *demo_server.accounts["coordinator"])
    _any_card(phone)
    # Not every file has a number to dial: the first card that offers one.
    dialable = phone.locator(CARDS).filter(has=phone.get_by_role("button", name="打电话")).first
    key = next(c for c in dialable.get_attribute("class").split() if c.startswith("st-key-visit_card_"))
    card = phone.locator(f".{key}")  # the same card after its button turns into the link
    calls, trips = len(_events(demo_server, "person.call")), len(_events(demo_server, "person.navigate"))
    card.get_by_role("button", name="打电话").click()
    wait_idle(phone)
    call = card.locator('a[href^="tel:"]')
    expect(call).to_be_visible()
    number = call.get_attribute("href").removeprefix("tel:")
    assert re.fullmatch(r"\+?\d{5,}", number), number
    card.get_by_role("button", name="导航").click()
    wait_idle(phone)
    expect(card.locator('a[href^="geo:"]').or_(card.get_by_text("档案中没有住址位置", exact=False))).to_be_visible()
    geo = card.locator('a[href^="geo:"]')
    if geo.count():
        assert re.fullmatch(r"geo:-?\d+\.\d+,-?\d+\.\d+\?q=.*", geo.get_attribute("href"))
        expect(card.locator('a[href^="https://uri.amap.com/marker"]')).to_be_visible()
    shot(phone, "phone-03-call-navigate")
    made_calls, made_trips = _events(demo_server, "person.call"), _events(demo_server, "person.navigate")
    assert len(made_calls) == calls + 1 and len(made_trips) == trips + 1
    assert made_calls[-1].entity == "person" and made_calls[-1].entity_id == made_trips[-1].entity_id
    with reading(get_engine(str(demo_server.db_path))) as session:
        person = session.get(Person, int(made_calls[-1].entity_id))
        assert person is not None and number in "".join(ch for ch in person.phone if ch.isdigit() or ch == "+")


def test_the_visit_form_opens_what_matters_and_shows_fields_only_when_they_apply(
    phone: Page, demo_server: DemoServer
) -> None:
    open_app(phone, demo_server)
    submit_login(phone, *demo_server.accounts["coordinator"])
    card = _any_card(phone)
    card.get_by_role("button", name="记录巡访").click()
    wait_idle(phone)
    # 已访: how, when, the findings and the follow-up need are open; no reason for cancelling.
    expect(card.get_by_text("巡访方式", exact=True)).to_be_visible()
    expect(card.get_by_text("巡访发现", exact=True)).to_be_visible()
    expect(card.get_by_text("安全", exact=True)).to_be_visible()
    expect(card.get_by_text("登记后续需求（可选）", exact=True)).to_be_visible()
    expect(card.get_by_label("取消原因")).to_have_count(0)
    shot(phone, "phone-04-form-done")

    card.get_by_text("已取消", exact=True).click()
    wait_idle(phone)
    expect(card.get_by_label("取消原因")).to_be_visible()
    expect(card.get_by_text("巡访方式", exact=True)).to_have_count(0)
    expect(card.get_by_text("巡访发现", exact=True)).to_have_count(0)
    shot(phone, "phone-05-form-cancelled")

    card.get_by_text("未遇", exact=True).click()
    wait_idle(phone)
    expect(card.get_by_text("巡访方式", exact=True)).to_be_visible()
    expect(card.get_by_label("取消原因")).to_have_count(0)
    expect(card.get_by_text("巡访发现", exact=True)).to_have_count(0)
    _no_horizontal_scroll(phone)

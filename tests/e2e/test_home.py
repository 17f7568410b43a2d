"""Each role's home and the report page at desktop and phone width: they draw without an error
(screenshots under artifacts/screenshots/ to look at)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import DemoServer, expect, login, open_page, shot, wait_idle

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e
LONG_MS = 60_000
HEADINGS = {"county": "首页", "township": "首页", "coordinator": "首页", "admin": "首页"}


@pytest.mark.parametrize("width", [1400, 390])
@pytest.mark.parametrize("role", sorted(HEADINGS))
def test_each_roles_home_and_report_draw_at_desktop_and_phone_width(
    page: Page, demo_server: DemoServer, role: str, width: int
):
    page.set_viewport_size({"width": 1400, "height": 900})
    login(page, demo_server, role)
    # A coordinator lands on 我的巡访: home is one click away in the menu.
    open_page(page, "首页")
    page.set_viewport_size({"width": width, "height": 900})
    wait_idle(page)
    expect(page.get_by_role("heading", name=HEADINGS[role])).to_be_visible(timeout=LONG_MS)
    if role == "coordinator":
        expect(page.get_by_text("今天计划走访").first).to_be_visible(timeout=LONG_MS)
    else:
        expect(page.get_by_text("待办清单").first).to_be_visible(timeout=LONG_MS)
    assert page.locator('[data-testid="stException"]').count() == 0
    shot(page, f"home_{role}_{width}")
    if role == "coordinator":
        return
    # Further down: the areas below ranked by their shortfalls, then the needs waiting longest.
    page.set_viewport_size({"width": width, "height": 2400})  # the page's own scroll holds the rest
    wait_idle(page)
    expect(page.get_by_role("heading", name="本月缺口")).to_be_visible(timeout=LONG_MS)
    expect(page.get_by_role("heading", name="等待最久的需求")).to_be_visible(timeout=LONG_MS)
    shot(page, f"home_{role}_{width}_whole")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{demo_server.url}/reports")
    wait_idle(page)
    expect(page.get_by_role("heading", name="统计报表")).to_be_visible(timeout=LONG_MS)
    expect(page.get_by_text("分区域地图").first).to_be_visible(timeout=LONG_MS)
    assert page.locator('[data-testid="stException"]').count() == 0
    shot(page, f"reports_{role}_{width}")

"""A city official in the browser: home ranks the counties, the map draws one circle per township
inside the counties' outlines, and the report has a row per county (screenshots to look at)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import DemoServer, expect, login, shot, wait_idle

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e
LONG_MS = 60_000


def test_the_city_official_reads_the_city_by_county(page: Page, city_server: DemoServer):
    assert len(city_server.summary["counties"]) == 3
    page.set_viewport_size({"width": 1400, "height": 2400})
    login(page, city_server, "city")
    expect(page.get_by_role("heading", name="各县本月缺口")).to_be_visible(timeout=LONG_MS)
    ranking = page.locator('[data-testid="stDataFrame"]').filter(has_text="县")
    expect(ranking.first).to_be_visible(timeout=LONG_MS)
    assert page.locator('[data-testid="stException"]').count() == 0
    shot(page, "city_home")

    page.goto(f"{city_server.url}/map")
    wait_idle(page)
    expect(page.get_by_text("全市按乡镇汇总显示").first).to_be_visible(timeout=LONG_MS)
    frame = page.frame_locator("iframe").first
    expect(frame.locator(".leaflet-container")).to_be_visible(timeout=LONG_MS)
    expect(frame.get_by_text("乡镇汇总：逾期人数占比")).to_be_visible(timeout=LONG_MS)
    assert page.locator('[data-testid="stException"]').count() == 0
    shot(page, "city_map")

    page.goto(f"{city_server.url}/reports")
    wait_idle(page)
    expect(page.get_by_text("分区域指标").first).to_be_visible(timeout=LONG_MS)
    assert page.locator('[data-testid="stException"]').count() == 0
    shot(page, "city_reports")

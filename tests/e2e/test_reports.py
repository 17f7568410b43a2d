"""The 统计报表 page in Chromium: county and township views (screenshots), a drill-down, a download."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import openpyxl
import pytest

from care.i18n import t
from tests.e2e.conftest import DemoServer, expect, login, open_page, rerun_mark, shot, wait_idle

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e
LONG_MS = 60_000


def _metric(page: Page, label: str) -> str:
    tile = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    expect(tile).to_be_visible(timeout=LONG_MS)
    return tile.locator('[data-testid="stMetricValue"]').inner_text()


def test_the_county_report_drills_down_to_a_township(page: Page, demo_server: DemoServer):
    login(page, demo_server, "county")
    open_page(page, "统计报表")
    expect(page.get_by_role("heading", name="统计报表")).to_be_visible(timeout=LONG_MS)
    county_persons = int(_metric(page, "在册人数").replace(",", ""))
    assert _metric(page, "月探访率（合计）").endswith("%")
    expect(page.get_by_text("分区域指标").first).to_be_visible()
    shot(page, "reports_county")

    page.get_by_label(t("register.township"), exact=True).first.click()
    # The township's run, not the county's before it: a loaded machine answers a moment later.
    mark = rerun_mark(page)
    page.get_by_role("option").nth(1).click()
    wait_idle(page, mark)
    township_persons = int(_metric(page, "在册人数").replace(",", ""))
    assert 0 < township_persons < county_persons
    shot(page, "reports_county_drilled_to_township")


def test_the_township_supervisor_sees_their_township_and_downloads_the_workbook(page: Page, demo_server: DemoServer):
    login(page, demo_server, "township")
    open_page(page, "统计报表")
    expect(page.get_by_role("heading", name="统计报表")).to_be_visible(timeout=LONG_MS)
    assert int(_metric(page, "在册人数").replace(",", "")) > 0
    shot(page, "reports_township")

    with page.expect_download() as caught:
        page.get_by_role("button", name="下载此名单 CSV").first.click()
    text = caught.value.path().read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    header = text.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("对象编号,姓名,公民身份号码")

    page.get_by_role("tab", name="导出").click()
    page.get_by_role("button", name="生成 Excel 工作簿").click()
    wait_idle(page)
    expect(page.get_by_text("已记入审计日志")).to_be_visible(timeout=LONG_MS)
    with page.expect_download() as caught:
        page.get_by_role("button", name="下载 Excel 工作簿").click()
    data = caught.value.path().read_bytes()
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames[0] == "概览"
    assert "统计报表" in book["概览"]["A1"].value
    shot(page, "reports_township_exports")

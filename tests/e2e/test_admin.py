"""The admin's 系统管理 page in Chromium: the tabs draw, and a merge shows its code mapping first."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import DemoServer, expect, login, open_page, shot, wait_idle

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e


def test_the_admin_walks_through_areas_redivision_and_backup_tabs(page: Page, demo_server: DemoServer) -> None:
    login(page, demo_server, "admin")
    open_page(page, "系统管理")
    expect(page.get_by_role("heading", name="系统管理")).to_be_visible()
    page.get_by_role("tab", name="区划", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text("乡镇（街道）").first).to_be_visible()
    shot(page, "admin-01-areas")

    page.get_by_role("tab", name="区划调整", exact=True).click()
    wait_idle(page)
    page.get_by_role("button", name="预览调整").click()
    wait_idle(page)
    expect(page.get_by_text("请至少选择一个被撤并的区划").first).to_be_visible()
    shot(page, "admin-02-redivision-refused")

    page.get_by_role("tab", name="备份", exact=True).click()
    wait_idle(page)
    expect(page.get_by_role("button", name="生成备份")).to_be_visible()
    shot(page, "admin-03-backup")

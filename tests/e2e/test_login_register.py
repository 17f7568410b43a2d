"""Logging in, and a township supervisor finding a person's file in the register (in Chromium)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import (
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
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.e2e

# Streamlit's data grid draws on a canvas: the row-selection checkbox sits at the left edge,
# below the header row (both rows are 35 px high by default).
GRID_ROW_PX = 35
GRID_CHECKBOX_X_PX = 18


def select_first_row(page: Page, table: Locator) -> None:
    """Tick the first data row of an st.dataframe that has row selection."""
    table.scroll_into_view_if_needed()
    box = table.locator('[data-testid="data-grid-canvas"]').bounding_box()
    assert box is not None, "the register table has no visible grid"
    page.mouse.click(box["x"] + GRID_CHECKBOX_X_PX, box["y"] + GRID_ROW_PX * 1.5)
    expect(table.locator('table[role="grid"] tr[aria-rowindex="2"]')).to_have_attribute("aria-selected", "true")
    wait_idle(page)


def test_township_supervisor_opens_a_person_file_from_the_register(page: Page, demo_server: DemoServer) -> None:
    open_app(page, demo_server)
    expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()
    shot(page, "01-login")

    login(page, demo_server, "township")
    expect(nav_link(page, "对象台账")).to_be_visible()
    open_page(page, "对象台账")

    table = page.get_by_test_id("stDataFrame").first
    expect(table).to_be_visible()
    # The grid keeps an accessible copy of the table; its row count includes the header row.
    rows = int(table.locator('table[role="grid"]').get_attribute("aria-rowcount") or 0) - 1
    assert rows > 0, "the township's register is empty"
    shot(page, "02-register")

    select_first_row(page, table)
    page.get_by_role("button", name="打开档案").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name=re.compile("一人一档"))).to_be_visible()
    shot(page, "03-person-file")


def test_wrong_password_is_refused_with_a_message(page: Page, demo_server: DemoServer) -> None:
    username, _ = demo_server.accounts["coordinator"]
    open_app(page, demo_server)
    submit_login(page, username, "not-the-password-1")

    expect(page.get_by_text(re.compile("用户名或密码错误")).first).to_be_visible()
    expect(page.locator('[data-testid="stSidebarNavLink"]')).to_have_count(0)
    shot(page, "04-login-refused")

"""A newcomer's first start: the empty database offers the demo county, whose accounts then log in."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from care.queries.demo import demo_accounts
from db.session import get_engine, reading
from tests.e2e.conftest import DemoServer, expect, open_app, shot, submit_login, wait_idle

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e


def test_an_empty_database_offers_the_demo_county_and_its_accounts_log_in(page: Page, empty_server: DemoServer):
    open_app(page, empty_server)
    expect(page.get_by_role("heading", name="首次使用：初始化数据库")).to_be_visible()
    shot(page, "10-first-run")
    page.get_by_role("button", name="创建演示县").click()
    # The build says which step it is on (it takes seconds), one line per step as it starts.
    expect(page.get_by_text(re.compile(r"第 [2-9]/9 步")).first).to_be_visible(timeout=60_000)
    shot(page, "10b-demo-progress")
    expect(page.get_by_role("heading", name=re.compile("演示账号"))).to_be_visible(timeout=120_000)
    wait_idle(page)
    shot(page, "11-demo-accounts")

    with reading(get_engine(str(empty_server.db_path))) as session:
        accounts = {a["role"]: a for a in demo_accounts(session)}
    username, password = accounts["township"]["username"], accounts["township"]["password"]
    shown = page.get_by_test_id("stDataFrame").first.locator('table[role="grid"]').inner_text()
    assert username in shown and password in shown
    submit_login(page, username, password)
    expect(page.get_by_role("heading", name="首页")).to_be_visible()
    wait_idle(page)
    shot(page, "12-home-zh")

    page.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Home")).to_be_visible()
    expect(page.get_by_text("Registers").first).to_be_visible()
    shot(page, "13-home-en")

"""Each demo role sees only its pages; wrong passwords lock an account with the same message (Chromium)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from care import auth
from db.models import AuditEvent
from db.session import get_engine, reading, transaction
from tests.e2e.conftest import NAV_LINKS, DemoServer, expect, login, open_app, open_page, shot, submit_login

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

# The menu of each role, written out (the person file opens from a row, so it is not listed; order aside).
MENUS = {
    "county": ["首页", "总览地图", "对象台账", "需求转介", "服务清单", "民情日记", "统计报表"],
    "township": [
        "首页",
        "总览地图",
        "对象台账",
        "新建对象",
        "服务分配",
        "巡访排班",
        "需求转介",
        "服务清单",
        "民情日记",
        "数据导入",
        "统计报表",
    ],
    "coordinator": [
        "首页",
        "我的巡访",
        "巡访排班",
        "总览地图",
        "对象台账",
        "需求转介",
        "服务清单",
        "民情日记",
        "数据导入",
    ],
    "admin": [
        "首页",
        "总览地图",
        "对象台账",
        "新建对象",
        "服务分配",
        "巡访排班",
        "需求转介",
        "服务清单",
        "民情日记",
        "数据导入",
        "统计报表",
        "巡访规则",
        "系统管理",
        "审计日志",
    ],
}
REFUSED = "用户名或密码错误"
FULL_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
FULL_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


@pytest.mark.parametrize("role", sorted(MENUS))
def test_each_role_sees_only_its_pages_in_the_menu(page: Page, demo_server: DemoServer, role: str) -> None:
    login(page, demo_server, role)
    links = page.locator(NAV_LINKS)
    expect(links).to_have_count(len(MENUS[role]))
    # Each link's text is its icon's ligature name, then the title.
    titles = [text.strip().splitlines()[-1] for text in links.all_inner_texts()]
    assert sorted(titles) == sorted(MENUS[role])
    shot(page, f"roles-{role}-menu")


def _make_login(server: DemoServer, username: str, password: str) -> None:
    with transaction(get_engine(str(server.db_path))) as session:
        auth.create_user(session, username=username, password=password, role="county", area_code=None)


def _refusal(page: Page, username: str, password: str) -> str:
    submit_login(page, username, password)
    alert = page.get_by_test_id("stAlertContentError")
    expect(alert).to_be_visible()
    return alert.inner_text().strip()


def test_the_sixth_wrong_password_meets_a_locked_account_and_the_right_one_is_refused(
    page: Page, demo_server: DemoServer
) -> None:
    password = "Right-Pass-2026"
    _make_login(demo_server, "lock_me", password)
    open_app(page, demo_server)
    unknown = _refusal(page, "nobody_at_all", "whatever-1")
    answers = [_refusal(page, "lock_me", f"wrong-{n}") for n in range(6)]
    right = _refusal(page, "lock_me", password)
    shot(page, "roles-locked-account")
    assert REFUSED in unknown
    assert set(answers) == {unknown} and right == unknown, "one message: no way to tell locked from wrong"
    expect(page.locator(NAV_LINKS)).to_have_count(0)
    with reading(get_engine(str(demo_server.db_path))) as session:
        outcomes = list(
            session.scalars(
                select(AuditEvent.outcome)
                .where(AuditEvent.action == "login", AuditEvent.username == "lock_me")
                .order_by(AuditEvent.id)
            )
        )
    assert outcomes == ["failure"] * 4 + ["lockout", "locked", "locked"]


def test_the_server_log_holds_no_full_id_or_phone_number(page: Page, demo_server: DemoServer) -> None:
    login(page, demo_server, "township")
    text = demo_server.log_path.read_text(encoding="utf-8", errors="replace")
    assert FULL_ID.findall(text) == [] and FULL_PHONE.findall(text) == []


def test_a_new_login_changes_its_password_before_any_page_opens(page: Page, demo_server: DemoServer) -> None:
    temporary, chosen = "Temp-Pass-2026", "Chosen-Pass-2026"
    with transaction(get_engine(str(demo_server.db_path))) as session:
        auth.create_user(
            session, username="first_time", password=temporary, role="county", area_code=None, must_change_password=True
        )
    open_app(page, demo_server)
    submit_login(page, "first_time", temporary)
    expect(page.get_by_role("heading", name="修改密码")).to_be_visible()
    expect(page.locator(NAV_LINKS)).to_have_count(0)
    shot(page, "roles-forced-change")
    page.get_by_label("当前密码", exact=True).fill(temporary)
    page.get_by_label("新密码", exact=True).fill(chosen)
    page.get_by_label("再次输入新密码", exact=True).fill(chosen)
    page.get_by_role("button", name="修改密码", exact=True).last.click()
    expect(page.get_by_text("密码已修改。")).to_be_visible()
    expect(page.locator(NAV_LINKS).first).to_be_visible()
    shot(page, "roles-password-changed")


def test_the_admin_sees_the_users_tab_and_the_audit_log(page: Page, demo_server: DemoServer) -> None:
    login(page, demo_server, "admin")
    open_page(page, "审计日志")
    expect(page.get_by_role("heading", name="审计日志")).to_be_visible()
    page.get_by_role("button", name="校验哈希链").click()
    expect(page.get_by_text("哈希链完整")).to_be_visible()
    shot(page, "roles-audit-log")
    open_page(page, "系统管理")
    expect(page.get_by_text("账号列表")).to_be_visible()
    shot(page, "roles-admin-users")

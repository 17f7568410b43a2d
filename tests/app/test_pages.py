"""Every page for every role renders without exception; a page outside the role refuses, audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from care.scope import ROLE_PAGES

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
ROLES = ("county", "township", "coordinator", "admin")
PAGE_FILES = {
    "home": "pages/home.py",
    "registers": "pages/registers.py",
    "person": "pages/person.py",
    "person_new": "pages/person_new.py",
    "map": "pages/map.py",
    "my_visits": "pages/my_visits.py",
    "schedule": "pages/schedule.py",
    "assignments": "pages/assignments.py",
    "needs": "pages/needs.py",
    "services": "pages/services.py",
    "diary": "pages/diary.py",
    "imports": "pages/imports.py",
    "reports": "pages/reports.py",
    "policy": "pages/policy.py",
    "admin": "pages/admin.py",
    "audit": "pages/audit.py",
}
ALLOWED = [(role, page) for role in ROLES for page in sorted(PAGE_FILES) if page in ROLE_PAGES[role]]
DENIED = [(role, page) for role in ROLES for page in sorted(PAGE_FILES) if page not in ROLE_PAGES[role]]


def texts(at: AppTest) -> str:
    """Every visible text element of a run, joined."""
    parts = [
        e.value
        for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success")
        for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize(("role", "page"), ALLOWED)
def test_every_allowed_page_renders_for_every_role(app_as, role, page):
    at = app_as(role)
    at.run()
    assert not at.exception
    at.switch_page(PAGE_FILES[page]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, "the page drew nothing"


@pytest.mark.parametrize(("role", "page"), DENIED)
def test_a_page_outside_the_role_opened_by_its_address_refuses_and_is_audited(app_as, demo_db, role, page):
    # Its URL exists (a link may be shared), the menu does not list it (tests/e2e/test_roles.py).
    at = app_as(role)
    at.run()
    before = _denials(demo_db, page)
    at.switch_page(PAGE_FILES[page]).run()
    assert not at.exception
    assert "您的角色无权打开此页面" in texts(at)
    assert not at.dataframe and not at.text_input
    assert _denials(demo_db, page) == before + 1


def _denials(demo_db, page: str) -> int:
    from sqlalchemy import func, select

    from db.models import AuditEvent
    from db.session import get_engine, reading

    with reading(get_engine(str(demo_db["path"]))) as session:
        return session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "page.open", AuditEvent.entity_id == page, AuditEvent.outcome == "denied")
        )


@pytest.mark.parametrize(("role", "page"), DENIED)
def test_a_page_outside_the_role_refuses_even_when_run_directly(app_as, role, page):
    at = app_as(role)
    direct = AppTest.from_file(str(ROOT / PAGE_FILES[page]), default_timeout=60)
    direct.session_state["login_token"] = at.session_state["login_token"]
    direct.run()
    assert "您的角色无权打开此页面" in texts(direct)
    assert not direct.text_input and not direct.button


def test_a_logged_out_visitor_gets_no_page_but_the_login(demo_db):
    direct = AppTest.from_file(str(ROOT / "pages/registers.py"), default_timeout=60).run()
    assert "请重新登录" in texts(direct)
    assert not direct.dataframe


def test_the_login_form_lets_a_demo_user_in_and_refuses_a_wrong_password(demo_db):
    account = demo_db["accounts"]["township"]
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert "登录" in texts(at)
    at.text_input(key="login_username").input(account["username"])
    at.text_input(key="login_password").input("wrong-password")
    at.button[0].click().run()
    assert "用户名或密码错误" in texts(at)
    at.text_input(key="login_password").input(account["password"])
    at.button[0].click().run()
    assert not at.exception and "用户名或密码错误" not in texts(at)
    # AppTest keeps running the script it last ran; a browser follows st.navigation (see tests/e2e).
    at.switch_page("pages/home.py").run()
    assert [t.value for t in at.title] == ["首页"]


def test_the_login_page_lists_the_demo_accounts_while_the_database_is_the_demo(demo_db):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert "演示账号" in texts(at)
    shown = at.dataframe[0].value
    assert set(shown.iloc[:, 1]) == {a["username"] for a in demo_db["accounts"].values()}

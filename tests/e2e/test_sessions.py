"""Staying logged in: the HttpOnly cookie across reloads, tabs, deep links and app processes (Chromium).

Also the HTTP side: the cookie's flags, the one-time hand-over refusing other sites, the security
headers on every route, no Content-Security-Policy violation on any page, no raw page list.
"""

from __future__ import annotations

import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import create_engine, func, select, text

from care import auth
from db.models import AuditEvent, LoginSession, Person, User
from db.session import get_engine, reading, transaction
from tests.e2e.conftest import (
    APP_TIMEOUT_MS,
    NAV_LINKS,
    DemoServer,
    _accounts_by_role,
    _seed_demo,
    _serve,
    expect,
    flush_page_events,
    login,
    open_app,
    open_page,
    poll_until,
    session_cookies,
    shot,
    submit_login,
    wait_cookie,
    wait_idle,
)
from tests.e2e.test_login_register import select_first_row

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.e2e

LOGIN_TITLE = "乡村关爱地图 · 登录"
COOKIE = "caremap_session"
# Collects every Content-Security-Policy violation, in the page and in each of its frames.
CSP_WATCH = """
(() => {
  const sink = () => { try { return window.top.__cspViolations; } catch (e) { return null; } };
  if (window === window.top) { window.__cspViolations = []; }
  document.addEventListener("securitypolicyviolation", (e) => {
    const list = sink() || (window.__cspViolations = window.__cspViolations || []);
    list.push(`${e.violatedDirective} ${e.blockedURI} ${location.pathname} ${e.sample || ""}`);
  });
})();
"""
# Every navigation link text the page ever shows, from the first paint on.
NAV_WATCH = """
(() => {
  window.__navSeen = [];
  const links = '[data-testid="stSidebarNavLink"], [data-testid="stSidebarNavItems"] a';
  const look = () => document.querySelectorAll(links).forEach((a) => {
    const t = a.innerText.trim();
    if (t && !window.__navSeen.includes(t)) window.__navSeen.push(t);
  });
  new MutationObserver(look).observe(document, {subtree: true, childList: true, characterData: true});
})();
"""


def _title(page: Page) -> str:
    return page.get_by_test_id("stHeading").first.inner_text().strip()


def _expect_title(page: Page, title: str) -> None:
    expect(page.get_by_test_id("stHeading").first).to_have_text(title)


def _logged_in_at(page: Page) -> bool:
    return page.locator(NAV_LINKS).count() > 0 and page.get_by_label("密码", exact=True).count() == 0


# --- reload, tabs, deep links -------------------------------------------------------------------


def test_the_login_cookie_is_httponly_strict_and_lives_no_longer_than_a_session(page: Page, demo_server):
    login(page, demo_server, "township")
    cookie = wait_cookie(page.context, page)
    assert cookie["name"] == COOKIE, "plain HTTP: no __Host- prefix, which needs Secure"
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False
    assert cookie["path"] == "/"
    assert 0 < cookie["expires"] - time.time() <= auth.ABSOLUTE_TIMEOUT.total_seconds() + 60
    # Script in the page cannot read it.
    assert COOKIE not in page.evaluate("document.cookie")
    # What the browser holds is a live token of this user, kept on the server only as a hash.
    engine = get_engine(str(demo_server.db_path))
    with transaction(engine) as session:
        scope = auth.resume_session(session, token=cookie["value"])
    assert scope is not None and scope.username == demo_server.accounts["township"][0]


def test_a_reload_keeps_the_user_logged_in_on_the_same_page(page: Page, demo_server):
    login(page, demo_server, "township")
    wait_cookie(page.context, page)
    open_page(page, "对象台账")
    assert page.url.endswith("/registers")
    page.reload()
    wait_idle(page)
    expect(page.locator(NAV_LINKS).first).to_be_visible()
    assert page.url.endswith("/registers")
    _expect_title(page, "对象台账")
    assert page.get_by_label("密码", exact=True).count() == 0
    shot(page, "sessions-after-reload")


def test_a_new_tab_and_a_typed_address_open_logged_in(page: Page, demo_server):
    login(page, demo_server, "county")
    wait_cookie(page.context, page)
    other = page.context.new_page()
    other.goto(f"{demo_server.url}/map")
    wait_idle(other)
    expect(other.locator(NAV_LINKS).first).to_be_visible()
    _expect_title(other, "总览地图")
    assert other.url.endswith("/map")


def test_a_deep_link_opened_logged_out_lands_on_its_page_after_the_login(page: Page, demo_server):
    open_app(page, demo_server, "/reports")
    expect(page.get_by_label("密码", exact=True)).to_be_visible()
    assert page.url.endswith("/reports"), "the address stays as typed while the login shows"
    assert page.get_by_role("dialog").count() == 0, "no 'page not found' on the way"
    submit_login(page, *demo_server.accounts["county"])
    expect(page.locator(NAV_LINKS).first).to_be_visible()
    _expect_title(page, "统计报表")
    assert page.url.endswith("/reports")


def _person(server: DemoServer, *, inside_of: str, inside: bool) -> Person:
    engine = get_engine(str(server.db_path))
    with reading(engine) as session:
        area = session.scalar(select(User.area_code).where(User.username == inside_of))
        where = Person.village_code.startswith(area[:9])
        return session.scalar(
            select(Person).where(where if inside else ~where, Person.deleted.is_(False)).order_by(Person.id).limit(1)
        )


def _denied_views(server: DemoServer) -> int:
    with reading(get_engine(str(server.db_path))) as session:
        return session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "person.view", AuditEvent.outcome == "denied")
        )


def test_a_person_link_carries_an_opaque_reference_and_a_link_outside_the_scope_is_refused_and_audited(
    page: Page, demo_server
):
    username = demo_server.accounts["township"][0]
    mine = _person(demo_server, inside_of=username, inside=True)
    theirs = _person(demo_server, inside_of=username, inside=False)
    login(page, demo_server, "township")
    wait_cookie(page.context, page)
    # From the register: the address the file opens at is the shareable one.
    open_page(page, "对象台账")
    page.get_by_test_id("stDataFrame").first.wait_for()
    page.goto(f"{demo_server.url}/person?ref={mine.ref}")
    wait_idle(page)
    expect(page.get_by_test_id("stHeading").first).to_contain_text("一人一档 · ")
    assert mine.name in _title(page)
    assert mine.id_number not in page.url and f"={mine.id}" not in page.url
    before = _denied_views(demo_server)
    page.goto(f"{demo_server.url}/person?ref={theirs.ref}")
    wait_idle(page)
    expect(page.get_by_text("记录不存在或无权查看")).to_be_visible()
    assert theirs.name not in page.inner_text("body")
    page.goto(f"{demo_server.url}/person?ref=NoSuchReference0")
    wait_idle(page)
    expect(page.get_by_text("记录不存在或无权查看")).to_be_visible()
    assert _denied_views(demo_server) == before + 2
    shot(page, "sessions-person-link-refused")


def test_opening_a_file_from_the_register_puts_its_reference_in_the_address(page: Page, demo_server):
    login(page, demo_server, "township")
    open_page(page, "对象台账")
    table = page.get_by_test_id("stDataFrame").first
    expect(table).to_be_visible()
    select_first_row(page, table)
    page.get_by_role("button", name="打开档案").click()
    wait_idle(page)
    expect(page).to_have_url(re.compile(r"/person\?ref=[A-Za-z0-9_-]{16}$"))
    ref = page.url.split("ref=", 1)[1]
    with reading(get_engine(str(demo_server.db_path))) as session:
        person = session.scalar(select(Person).where(Person.ref == ref))
    assert person is not None
    expect(page.get_by_test_id("stHeading").first).to_contain_text(person.name)
    # The address works as a link: a colleague's browser (here: a reload) opens the same file.
    page.reload()
    wait_idle(page)
    expect(page.get_by_test_id("stHeading").first).to_contain_text(person.name)


# --- logout and ended sessions ---------------------------------------------------------------------


def test_logout_in_one_tab_ends_the_other_tab_at_its_next_click_and_clears_the_cookie(page: Page, demo_server):
    login(page, demo_server, "township")
    token = wait_cookie(page.context, page)["value"]
    other = page.context.new_page()
    other.goto(f"{demo_server.url}/registers")
    wait_idle(other)
    expect(other.locator(NAV_LINKS).first).to_be_visible()
    page.get_by_role("button", name="退出登录").click()
    wait_idle(page)
    expect(page.get_by_label("密码", exact=True)).to_be_visible()
    poll_until(lambda: not session_cookies(page.context), "the logout clears the cookie")
    with reading(get_engine(str(demo_server.db_path))) as session:
        row = session.get(LoginSession, auth._token_hash(token))
    assert row is not None and row.ended_at is not None, "the token is dead on the server"
    # The other tab's next click meets the login.
    open_page(other, "首页")
    expect(other.get_by_text("登录已过期或已退出").or_(other.get_by_label("密码", exact=True)).first).to_be_visible()
    other.reload()
    wait_idle(other)
    expect(other.get_by_label("密码", exact=True)).to_be_visible()


def test_a_password_reset_by_the_admin_ends_the_session_behind_the_cookie(page: Page, demo_server):
    engine = get_engine(str(demo_server.db_path))
    with transaction(engine) as session:
        auth.create_user(session, username="reset_me", password="Reset-Me-2026!", role="county", area_code=None)
    open_app(page, demo_server, "/map")
    submit_login(page, "reset_me", "Reset-Me-2026!")
    expect(page.locator(NAV_LINKS).first).to_be_visible()
    wait_cookie(page.context, page)
    with transaction(engine) as session:
        user = session.scalar(select(User).where(User.username == "reset_me"))
        auth.end_sessions_of(session, user_id=user.id)
    page.reload()
    wait_idle(page)
    expect(page.get_by_label("密码", exact=True)).to_be_visible()


# --- the HTTP side ---------------------------------------------------------------------------------


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


ROUTES = [
    "/",
    "/map",
    "/person?ref=x",
    "/no-such-page",
    "/_stcore/health",
    "/_stcore/host-config",
    "/app/static/vendor/leaflet/leaflet.js",
    "/component/streamlit_folium.st_folium/index.html",
    "/session/claim?code=x",
    "/session/end?tag=x",
    "/static/favicon.png",
]


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_carries_the_security_headers(demo_server, route):
    status, headers = _get(demo_server.url + route)
    assert status < 500, (route, status)
    csp = headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    script = directives["script-src"].split()
    assert script[0] == "'self'" and "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
    assert all(s in ("'self'", "'wasm-unsafe-eval'") or s.startswith("'sha256-") for s in script), script
    for name in ("connect-src", "frame-src"):
        assert directives[name] == "'self'", (name, directives[name])
    assert directives["style-src"].split()[0] == "'self'"
    assert "https://tile.openstreetmap.org" in directives["img-src"]
    assert directives["object-src"] == "'none'"
    framed = route.startswith(("/component/", "/_stcore/", "/session/", "/app/static/"))
    assert directives["frame-ancestors"] == ("'self'" if framed else "'none'"), route
    assert headers["X-Frame-Options"] == ("SAMEORIGIN" if framed else "DENY")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "camera=()" in headers["Permissions-Policy"] and "microphone=()" in headers["Permissions-Policy"]


def test_the_cookie_hand_over_refuses_a_request_from_another_site(demo_server):
    engine = get_engine(str(demo_server.db_path))
    with transaction(engine) as session:
        user = session.scalar(select(User).where(User.username == demo_server.accounts["county"][0]))
        token = auth.start_session(session, user=user)
        code = auth.start_handoff(session, token=token)
    claim = f"{demo_server.url}/session/claim?code={urllib.parse.quote(code)}"
    # A link on another site (login CSRF: the victim would be logged in as the attacker).
    for fetch_site in ("cross-site", "same-site", "none", None):
        status, headers = _get(claim, {"Sec-Fetch-Site": fetch_site} if fetch_site else {})
        assert status == 204 and headers.get("Set-Cookie") is None, fetch_site
    status, headers = _get(claim, {"Sec-Fetch-Site": "same-origin"})
    assert status == 204
    set_cookie = headers["Set-Cookie"]
    assert set_cookie.startswith(f"{COOKIE}={token};")
    flags = {part.strip().lower() for part in set_cookie.split(";")[1:]}
    assert {"httponly", "path=/", "samesite=strict"} <= flags
    assert not any(f == "secure" for f in flags)
    status, headers = _get(claim, {"Sec-Fetch-Site": "same-origin"})
    assert headers.get("Set-Cookie") is None, "the code is spent"


def test_behind_a_proxy_speaking_https_the_cookie_is_secure_and_host_only(demo_server):
    engine = get_engine(str(demo_server.db_path))
    with transaction(engine) as session:
        user = session.scalar(select(User).where(User.username == demo_server.accounts["county"][0]))
        token = auth.start_session(session, user=user)
        code = auth.start_handoff(session, token=token)
    # uvicorn believes X-Forwarded-Proto from 127.0.0.1, where a reverse proxy on the host sits.
    https = {"Sec-Fetch-Site": "same-origin", "X-Forwarded-Proto": "https"}
    status, headers = _get(f"{demo_server.url}/session/claim?code={urllib.parse.quote(code)}", https)
    assert status == 204
    set_cookie = headers["Set-Cookie"]
    assert set_cookie.startswith(f"__Host-{COOKIE}={token};")
    flags = {part.strip().lower() for part in set_cookie.split(";")[1:]}
    assert {"httponly", "secure", "path=/", "samesite=strict"} <= flags
    assert not any(f.startswith("domain=") for f in flags)
    assert headers["Strict-Transport-Security"].startswith("max-age=")


# --- no CSP violation on any page -----------------------------------------------------------------

TOUR = [
    "首页",
    "总览地图",
    "对象台账",
    "新建对象",
    "服务分配",
    "巡访排班",
    "需求转介",
    "数据导入",
    "统计报表",
    "巡访规则",
    "系统管理",
    "审计日志",
]


def test_no_page_breaks_the_content_security_policy(page: Page, demo_server):
    page.context.add_init_script(CSP_WATCH)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    login(page, demo_server, "admin")
    for title in TOUR:
        open_page(page, title)
        expect(page.get_by_test_id("stHeading").first).to_be_visible()
        flush_page_events(page)
    # A person file with its map frame.
    with reading(get_engine(str(demo_server.db_path))) as session:
        ref = session.scalar(select(Person.ref).where(Person.lat.is_not(None)).order_by(Person.id).limit(1))
    page.goto(f"{demo_server.url}/person?ref={ref}")
    wait_idle(page)
    expect(page.get_by_test_id("stHeading").first).to_be_visible()
    # Every frame on it (the location picker's map) has loaded and run what it queued.
    for frame in page.frames:
        frame.wait_for_load_state()
    flush_page_events(page)
    violations = page.evaluate("window.__cspViolations || []")
    assert violations == [] and console == [], (violations, console)


# --- several app processes on one PostgreSQL database, and a cold start -------------------------


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[tuple[str, str, dict[str, tuple[str, str]], str]]:
    """Two fresh app processes on one PostgreSQL schema with a small demo county in it."""
    url = os.environ.get("CARE_TEST_POSTGRES_URL", "").strip()
    if not url:
        if os.environ.get("CARE_E2E_REQUIRED") == "1":
            pytest.fail("CARE_TEST_POSTGRES_URL is not set (CARE_E2E_REQUIRED=1)", pytrace=False)
        pytest.skip("CARE_TEST_POSTGRES_URL is not set")
    from tests.conftest import _plain_driver_url, _with_search_path

    admin = create_engine(_plain_driver_url(url), isolation_level="AUTOCOMMIT")
    schema = f"e2e_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db_url = _with_search_path(_plain_driver_url(url), schema)
    env = {**os.environ, "CARE_DATABASE_URL": db_url, "PYTHONUNBUFFERED": "1"}
    try:
        summary = _seed_demo(db_url, env)
        with _serve(env, tmp_path / "a.log") as first, _serve(env, tmp_path / "b.log") as second:
            yield first, second, _accounts_by_role(summary), db_url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_the_browser_moved_to_another_app_process_mid_session_stays_logged_in(browser: Browser, two_processes) -> None:
    first, second, accounts, db_url = two_processes
    # The first visitor of a freshly started process: no raw list of page files at any moment.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(APP_TIMEOUT_MS)
    context.add_init_script(NAV_WATCH)
    try:
        page = context.new_page()
        page.goto(f"{first}/needs")
        wait_idle(page)
        submit_login(page, *accounts["township"])
        expect(page.locator(NAV_LINKS).first).to_be_visible()
        _expect_title(page, "需求转介")
        seen = page.evaluate("window.__navSeen")
        raw = {"admin", "person new", "change password", "login", "setup", "my visits", "home"}
        assert not raw & {s.lower() for s in seen}, seen
        wait_cookie(context, page)
        # A reconnect that lands on the other process (a proxy without sticky sessions, a restart).
        port_a, port_b = first.rsplit(":", 1)[1], second.rsplit(":", 1)[1]
        assert port_a != port_b
        page.goto(f"{second}/needs")
        wait_idle(page)
        expect(page.locator(NAV_LINKS).first).to_be_visible()
        _expect_title(page, "需求转介")
        # Logging out on the second process ends the session for the first one too.
        page.get_by_role("button", name="退出登录").click()
        wait_idle(page)
        back = context.new_page()
        back.goto(f"{first}/needs")
        wait_idle(back)
        expect(back.get_by_label("密码", exact=True)).to_be_visible()
        shot(back, "sessions-two-processes-logged-out")
    finally:
        context.close()
    engine = get_engine(db_url)
    with reading(engine) as session:
        live = session.scalar(select(func.count()).select_from(LoginSession).where(LoginSession.ended_at.is_(None)))
    assert live == 0

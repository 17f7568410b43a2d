"""Single sign-on through a unified identity service (Streamlit's st.login), in Chromium.

One app server for the module, with Streamlit's ``[auth]`` secrets in a temporary file (never in
the repository's .streamlit/) pointing at a small OpenID Connect provider in a thread
(tests/e2e/fake_oidc.py): discovery, signing keys, an authorization endpoint that signs the browser
in at once, a token endpoint with PKCE and an end-session endpoint. The provider is reached as
``localhost`` and the app as ``127.0.0.1``: another site, as a real identity service is.

The last tests call the sign-on logic directly on the module's database, in transactions that are
rolled back: the freshness and once-only rules and each refusal, without a browser.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from care import auth
from care.domain import clock
from db.models import AuditEvent, LoginSession, User
from db.session import get_engine, reading, transaction
from tests.e2e.conftest import (
    APP_TIMEOUT_MS,
    DEMO_TIMEOUT_S,
    NAV_LINKS,
    ROOT,
    DemoServer,
    _serve,
    expect,
    open_app,
    poll_until,
    shot,
    wait_idle,
)
from tests.e2e.fake_oidc import FakeProvider

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = pytest.mark.e2e

CLIENT_ID = "caremap-e2e"
SSO_BUTTON = "使用统一身份认证登录"
REFUSAL = "用户名或密码错误，或账号已停用/锁定。"
EXPIRED = "登录已过期或已退出，请重新登录。"
SESSION_COOKIES = ("caremap_session", "__Host-caremap_session")
IDENTITY_COOKIE = "_streamlit_user"
RESIDENTS = 300
SEED = 5


@dataclass(frozen=True)
class SsoServer:
    """The app with single sign-on on, its provider, its database and its demo logins."""

    url: str
    provider: FakeProvider
    db_path: Path
    log_path: Path
    accounts: dict[str, tuple[str, str]]

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _seed(db_path: Path, env: dict[str, str]) -> dict[str, Any]:
    """A small demo county; the builder's last line is its JSON summary (with the logins)."""
    command = [sys.executable, "-m", "care.demo", "--db", str(db_path), "--residents", str(RESIDENTS)]
    command += ["--seed", str(SEED)]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=DEMO_TIMEOUT_S, check=False
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        pytest.fail(f"the demo builder exited {done.returncode}\n{done.stderr[-3000:]}", pytrace=False)
    return json.loads(lines[-1])


def _secrets_file(path: Path, provider: FakeProvider) -> Path:
    """Streamlit's standard [auth] section; ``{port}`` is filled in by Streamlit with its own port."""
    path.write_text(
        "\n".join(
            [
                "[auth]",
                'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"',
                f'cookie_secret = "{secrets.token_urlsafe(32)}"',
                f'client_id = "{provider.client_id}"',
                f'client_secret = "{provider.client_secret}"',
                f'server_metadata_url = "{provider.metadata_url}"',
                "",
            ]
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SsoServer]:
    workdir = tmp_path_factory.mktemp("sso")
    db_path = workdir / "sso.db"
    env = {**os.environ, "CARE_DATABASE_URL": str(db_path), "PYTHONUNBUFFERED": "1"}
    env.pop("CARE_SSO_CLAIM", None)
    summary = _seed(db_path, env)
    accounts: dict[str, tuple[str, str]] = {}
    for account in summary.get("accounts", []):
        accounts.setdefault(account["role"], (account["username"], account["password"]))
    with FakeProvider(client_id=CLIENT_ID, client_secret=secrets.token_urlsafe(24)) as provider:
        secrets_path = _secrets_file(workdir / "secrets.toml", provider)
        # Streamlit reads secrets from the files its secrets.files option lists (here by environment).
        server_env = {**env, "STREAMLIT_SECRETS_FILES": str(secrets_path)}
        log_path = workdir / "streamlit.log"
        with _serve(server_env, log_path) as url:
            yield SsoServer(url, provider, db_path, log_path, accounts)


# --- helpers ------------------------------------------------------------------------------------


def _cookies(context: BrowserContext, *names: str) -> list[dict[str, Any]]:
    return [c for c in context.cookies() if c["name"] in names]


def _identity_cookies(context: BrowserContext) -> list[str]:
    return [c["name"] for c in context.cookies() if c["name"].startswith(IDENTITY_COOKIE)]


def _wait_until(page: Page, check: Any, message: str, timeout_s: float = 15.0) -> None:
    poll_until(check, message, timeout_s=timeout_s)


def _settle(page: Page) -> None:
    page.wait_for_selector('[data-testid="stAppViewContainer"]', state="attached", timeout=APP_TIMEOUT_MS)
    wait_idle(page)


def sign_on(page: Page, server: SsoServer, username: str | None) -> None:
    """Press the single sign-on button; the provider signs the browser in as ``username`` and sends it back."""
    server.provider.username = username
    open_app(page, server)  # type: ignore[arg-type]
    button = page.get_by_role("button", name=SSO_BUTTON)
    expect(button).to_be_visible()
    with page.expect_navigation(timeout=APP_TIMEOUT_MS):
        button.click()
    _settle(page)


def _logins(server: SsoServer, username: str) -> list[AuditEvent]:
    with reading(get_engine(str(server.db_path))) as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "login", AuditEvent.username == username)
                .order_by(AuditEvent.id)
            )
        )


def _logged_in(page: Page) -> bool:
    return page.locator(NAV_LINKS).count() > 0 and page.get_by_label("密码", exact=True).count() == 0


# --- in the browser -----------------------------------------------------------------------------


def test_sign_on_as_the_township_account_logs_in_with_the_httponly_cookie_and_a_reload_keeps_it(
    page: Page, sso_server: SsoServer
):
    username = sso_server.accounts["township"][0]
    before = len(_logins(sso_server, username))
    sign_on(page, sso_server, username)
    expect(page.locator(NAV_LINKS).first).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_text(f"当前用户：{username}", exact=False)).to_be_visible()
    shot(page, "sso-01-signed-in")

    _wait_until(page, lambda: _cookies(page.context, *SESSION_COOKIES), "the sign-on set no session cookie")
    cookie = _cookies(page.context, *SESSION_COOKIES)[0]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["name"] not in page.evaluate("document.cookie")
    engine = get_engine(str(sso_server.db_path))
    with transaction(engine) as session:
        scope = auth.resume_session(session, token=cookie["value"])
        row = session.get(LoginSession, auth._token_hash(cookie["value"]))
        assert scope is not None and scope.username == username
        assert row is not None and row.sso_key and len(row.sso_key) == 64, "the session keeps its sign-on's key"
    events = _logins(sso_server, username)[before:]
    assert [(e.outcome, e.detail) for e in events] == [("success", {"via": "sso"})]
    # The provider saw one authorization with PKCE and a nonce, for this client.
    asked = sso_server.provider.authorizations[-1]
    assert asked["client_id"] == CLIENT_ID and asked["code_challenge_method"] == "S256" and asked["nonce"]

    page.reload()
    _settle(page)
    expect(page.locator(NAV_LINKS).first).to_be_visible()
    assert _logged_in(page)
    assert len(_logins(sso_server, username)) == before + 1, "a reload resumes the session, it does not sign on again"


def test_a_claim_naming_no_local_user_is_refused_with_the_login_message_audited_and_forgotten(
    page: Page, sso_server: SsoServer
):
    stranger = "no-such-person-in-caremap"
    sign_on(page, sso_server, stranger)
    expect(page.get_by_text(REFUSAL)).to_be_visible()
    expect(page.get_by_label("密码", exact=True)).to_be_visible()
    expect(page.locator(NAV_LINKS)).to_have_count(0)
    shot(page, "sso-02-refused")
    events = _logins(sso_server, stranger)
    assert [(e.outcome, e.user_id, e.detail) for e in events] == [
        ("failure", None, {"via": "sso", "reason": "unknown"})
    ]
    # Streamlit's identity cookie is cleared, so the refused identity does not come back.
    _wait_until(page, lambda: not _identity_cookies(page.context), "the refused identity's cookie stays")
    assert not _cookies(page.context, *SESSION_COOKIES)
    page.reload()
    _settle(page)
    expect(page.get_by_label("密码", exact=True)).to_be_visible()
    expect(page.get_by_text(REFUSAL)).to_have_count(0)
    assert len(_logins(sso_server, stranger)) == 1, "nothing more is tried after the reload"


def test_after_logout_the_browser_stays_logged_out_and_the_identity_is_cleared(page: Page, sso_server: SsoServer):
    username = sso_server.accounts["county"][0]
    sign_on(page, sso_server, username)
    expect(page.locator(NAV_LINKS).first).to_be_visible()
    _wait_until(page, lambda: _cookies(page.context, *SESSION_COOKIES), "the sign-on set no session cookie")
    token = _cookies(page.context, *SESSION_COOKIES)[0]["value"]
    logouts = len(sso_server.provider.logouts)

    # st.logout() takes the browser through Streamlit's logout route and the provider's end of session.
    # The page may change its address in place first (a same-document navigation), so the test waits
    # for the provider to see the end of session rather than for the first navigation.
    page.get_by_role("button", name="退出登录").click()
    # Two redirects and a new app session: on a loaded machine this takes longer than a page change.
    _wait_until(
        page,
        lambda: len(sso_server.provider.logouts) > logouts,
        "the provider never saw the end of session",
        timeout_s=40.0,
    )
    page.wait_for_url(f"{sso_server.url}/**", timeout=APP_TIMEOUT_MS)
    _settle(page)
    expect(page.get_by_label("密码", exact=True)).to_be_visible()
    assert len(sso_server.provider.logouts) == logouts + 1
    assert sso_server.provider.logouts[-1]["client_id"] == CLIENT_ID
    assert not _identity_cookies(page.context)
    _wait_until(page, lambda: not _cookies(page.context, *SESSION_COOKIES), "the session cookie stays")
    with reading(get_engine(str(sso_server.db_path))) as session:
        row = session.get(LoginSession, auth._token_hash(token))
    assert row is not None and row.ended_at is not None

    page.reload()
    _settle(page)
    expect(page.get_by_label("密码", exact=True)).to_be_visible()
    assert not _logged_in(page)
    shot(page, "sso-03-logged-out")


def test_an_identity_does_not_renew_a_session_ended_on_the_server(page: Page, sso_server: SsoServer):
    username = sso_server.accounts["coordinator"][0]
    sign_on(page, sso_server, username)
    expect(page.locator(NAV_LINKS).first).to_be_visible()
    _wait_until(page, lambda: _cookies(page.context, *SESSION_COOKIES), "the sign-on set no session cookie")
    assert _identity_cookies(page.context), "Streamlit keeps the identity in its own cookie"
    # An administrator ends the session (a reset or a deactivation does this) within the two minutes.
    with transaction(get_engine(str(sso_server.db_path))) as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        auth.end_sessions_of(session, user_id=user.id)

    page.reload()
    _settle(page)
    expect(page.get_by_label("密码", exact=True)).to_be_visible()
    expect(page.get_by_text(EXPIRED)).to_be_visible()
    assert not _logged_in(page)
    assert _logins(sso_server, username)[-1].detail == {"via": "sso", "reason": "reused"}
    _wait_until(page, lambda: not _identity_cookies(page.context), "the used identity's cookie stays")


def test_without_an_auth_section_the_login_page_has_no_sign_on_button(page: Page, sso_server: SsoServer, tmp_path):
    env = {**os.environ, "CARE_DATABASE_URL": str(sso_server.db_path), "PYTHONUNBUFFERED": "1"}
    env.pop("STREAMLIT_SECRETS_FILES", None)
    with _serve(env, tmp_path / "plain.log") as url:
        open_app(page, DemoServer(url, {}, {}, sso_server.db_path, tmp_path / "plain.log"))
        expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()
        expect(page.get_by_role("button", name=SSO_BUTTON)).to_have_count(0)
        assert not _identity_cookies(page.context)


# --- the rules, without a browser ---------------------------------------------------------------


@contextmanager
def _rolled_back(server: SsoServer) -> Iterator[Session]:
    session = Session(bind=get_engine(str(server.db_path)), autoflush=False)
    try:
        session.begin()
        yield session
    finally:
        session.rollback()
        session.close()


def _claims(provider: FakeProvider, username: str | None, *, iat: float | None = None, **extra: Any) -> dict[str, Any]:
    issued = int(time.time() if iat is None else iat)
    claims: dict[str, Any] = {
        "iss": provider.issuer,
        "aud": CLIENT_ID,
        "sub": f"province-{username}",
        "iat": issued,
        "exp": issued + 600,
        "nonce": secrets.token_urlsafe(8),
        "is_logged_in": True,
    }
    if username is not None:
        claims["preferred_username"] = username
    claims.update(extra)
    return claims


def test_an_identity_starts_a_session_only_while_fresh_and_only_once(sso_server: SsoServer):
    from ui import sso

    username = sso_server.accounts["township"][0]
    now = time.time()
    with _rolled_back(sso_server) as session:
        assert sso.start_session(session, _claims(sso_server.provider, username, iat=now - 121), now=now).refused == (
            "stale"
        )
        ahead = _claims(sso_server.provider, username, iat=now + sso.CLOCK_SKEW_S + 5)
        assert sso.start_session(session, ahead, now=now).refused == "stale"
        claims = _claims(sso_server.provider, username, iat=now - 119)
        first = sso.start_session(session, claims, now=now)
        assert first.token and first.code and not first.refused
        row = session.get(LoginSession, auth._token_hash(first.token))
        assert row is not None and row.sso_key == sso.identity_key(claims)
        assert sso.start_session(session, claims, now=now).refused == "reused"
        # The same person signing in again at the provider is a new identity (new iat and nonce).
        again = _claims(sso_server.provider, username, iat=now - 1)
        assert sso.start_session(session, again, now=now).token
        failures = session.scalars(
            select(AuditEvent.detail).where(
                AuditEvent.action == "login", AuditEvent.username == username, AuditEvent.outcome == "failure"
            )
        ).all()
        assert {"via": "sso", "reason": "reused"} in failures and {"via": "sso", "reason": "stale"} in failures


def test_the_key_covers_issuer_subject_time_and_nonce_or_audience(sso_server: SsoServer):
    from ui import sso

    claims = _claims(sso_server.provider, "someone", iat=1_800_000_000, nonce="n1")
    key = sso.identity_key(claims)
    assert key and len(key) == 64
    for change in ({"iss": "http://other"}, {"sub": "other"}, {"iat": 1_800_000_001}, {"nonce": "n2"}):
        assert sso.identity_key({**claims, **change}) != key
    no_nonce = {k: v for k, v in claims.items() if k != "nonce"}
    assert sso.identity_key(no_nonce) != sso.identity_key({**no_nonce, "aud": "another-client"})
    assert sso.identity_key({k: v for k, v in claims.items() if k != "iat"}) is None


def _session_count(session: Session, user_id: int) -> int:
    return len(session.scalars(select(LoginSession.token_hash).where(LoginSession.user_id == user_id)).all())


@pytest.mark.parametrize("state", ["inactive", "locked", "no_claim", "unknown"])
def test_inactive_locked_unnamed_and_unknown_users_are_refused(sso_server: SsoServer, state: str):
    from ui import sso

    username = sso_server.accounts["county"][0]
    with _rolled_back(sso_server) as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        if state == "inactive":
            user.active = False
        if state == "locked":
            user.locked_until = clock.now() + auth.LOCKOUT
        session.flush()
        sessions = _session_count(session, user.id)
        named = {"no_claim": None, "unknown": "nobody-of-ours"}.get(state, username)
        outcome = sso.start_session(session, _claims(sso_server.provider, named))
        assert outcome.token is None and outcome.refused == state
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        assert (event.action, event.outcome, event.detail) == ("login", "failure", {"via": "sso", "reason": state})
        assert event.user_id == (user.id if state in ("inactive", "locked") else None)
        assert _session_count(session, user.id) == sessions, "a refusal starts no session"


def test_the_claim_is_configurable(sso_server: SsoServer, monkeypatch: pytest.MonkeyPatch):
    from ui import sso

    username = sso_server.accounts["admin"][0]
    monkeypatch.setenv(sso.CLAIM_ENV, "employee_no")
    assert sso.claim_name() == "employee_no"
    with _rolled_back(sso_server) as session:
        named_by_default = _claims(sso_server.provider, username)
        assert sso.start_session(session, named_by_default).refused == "no_claim"
        by_employee_no = _claims(sso_server.provider, "someone-else", employee_no=username)
        outcome = sso.start_session(session, by_employee_no)
        assert outcome.token is not None
        scope = auth.resume_session(session, token=outcome.token)
        assert scope is not None and scope.username == username
    monkeypatch.delenv(sso.CLAIM_ENV)
    assert sso.claim_name() == "preferred_username"

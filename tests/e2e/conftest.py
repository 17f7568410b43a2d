"""Browser tests: a seeded demo county served by `streamlit run`, driven by Debian's Chromium.

Helpers for the tests (import them: ``from tests.e2e.conftest import login, shot``):
``open_app``, ``submit_login``, ``login``, ``open_page``, ``wait_for_rerun`` (``wait_idle``), ``shot``.

No test sleeps a fixed time: each waits for the script run its action asked for (``wait_for_rerun``)
and then for what it expects to see.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from care import web

# Without playwright the browser fixture skips the tests, or fails them where required.
try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    expect = sync_playwright = None  # type: ignore[assignment]
    PlaywrightError = Exception  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DEMO_RESIDENTS = 600
DEMO_SEED = 11
DEMO_TIMEOUT_S = 180
SERVER_START_TIMEOUT_S = 60
APP_TIMEOUT_MS = 30_000
EXPECT_TIMEOUT_MS = 15_000

APP_CONNECTED = '[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
APP_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
NAV_LINKS = '[data-testid="stSidebarNavLink"], [data-testid="stTopNavLink"]'

# Installed in every page before its own scripts: counts, in one sequence, each request for a script
# run the page sends (a BackMsg whose first field is rerun_script, protobuf field 11: tag byte 0x5A)
# and each run the server reports finished for good (a ForwardMsg whose script_finished, field 6, is
# not FINISHED_EARLY_FOR_RERUN = 2). A page watched only after it connected (``blind``) cannot see
# the server's messages: there the end of a run is stApp's data-test-script-state turning back to
# "notRunning". ``wait_for_rerun`` reads the counts.
RERUN_WATCH = """
(() => {
    if (window.__careRuns) return;
    const runs = window.__careRuns = {seq: 0, sent: 0, finished: 0, idle: 0, state: null, blind: false};
    const bytes = (data) => data instanceof ArrayBuffer ? new Uint8Array(data)
        : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
    // Whether a ForwardMsg reports a run finished for good: its top-level fields, read one by one.
    const finishedForGood = (b) => {
        let i = 0;
        const varint = () => {
            let value = 0, shift = 0, byte;
            do { byte = b[i++]; value += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80 && i < b.length);
            return value;
        };
        while (i < b.length) {
            const tag = varint(), field = Math.floor(tag / 8), wire = tag % 8;
            if (wire === 0) { const value = varint(); if (field === 6) return value !== 2; }
            else if (wire === 2) i += varint();
            else if (wire === 5) i += 4;
            else if (wire === 1) i += 8;
            else return false;
        }
        return false;
    };
    const Native = window.WebSocket;
    const send = Native.prototype.send;
    Native.prototype.send = function (data) {
        const b = bytes(data);
        if (b && b[0] === 0x5a) runs.sent = ++runs.seq;
        return send.call(this, data);
    };
    window.WebSocket = class extends Native {
        constructor(...args) {
            super(...args);
            this.addEventListener("message", (event) => {
                const b = bytes(event.data);
                if (b && finishedForGood(b)) runs.finished = ++runs.seq;
            });
        }
    };
    const look = () => {
        const app = document.querySelector('[data-testid="stApp"]');
        const state = app ? app.getAttribute("data-test-script-state") : null;
        if (state === runs.state) return;
        if (state === "notRunning" && runs.state !== null) runs.idle = ++runs.seq;
        runs.state = state;
    };
    new MutationObserver(look).observe(document, {
        subtree: true, childList: true, attributes: true, attributeFilter: ["data-test-script-state"],
    });
    look();
    // Watched late: the app's connection was opened before, its messages are out of sight.
    runs.blind = document.querySelector('[data-testid="stApp"]') !== null;
})();
"""
# Settled: connected, no run going, and since the last run asked for, the server has reported a run
# finished for good or the page has shown one end (a run that starts and ends between two frames
# shows none; a request the server folds into the run going reports none); with ``since``, also a
# run asked for after that point of the sequence.
RERUN_DONE = """(since) => {
    const runs = window.__careRuns;
    const app = document.querySelector('[data-testid="stApp"]');
    if (!runs || !app || app.getAttribute("data-test-connection-state") !== "CONNECTED") return false;
    if (app.getAttribute("data-test-script-state") !== "notRunning") return false;
    if (since !== null && runs.sent <= since) return false;
    return runs.sent === 0 || runs.idle > runs.sent || (!runs.blind && runs.finished > runs.sent);
}"""


_FAILED = pytest.StashKey[bool]()


@dataclass(frozen=True)
class DemoServer:
    """The running app: its address, one demo login per role, and where its log is."""

    url: str
    accounts: dict[str, tuple[str, str]]
    summary: dict[str, Any] = field(repr=False)
    db_path: Path
    log_path: Path

    def log_tail(self, lines: int = 60) -> str:
        """The last lines the server wrote (shown with a failing test)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e/ is an e2e test, marked or not."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
        server = getattr(item, "funcargs", {}).get("demo_server")
        if isinstance(server, DemoServer):
            report.sections.append(("streamlit server log (tail)", server.log_tail()))
    return report


# --- the server -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _seed_demo(db_path: Path | str, env: dict[str, str], *extra: str) -> dict[str, Any]:
    """Build the demo county (``extra``: more arguments, e.g. ``--counties 3``) into ``db_path`` (a file
    or a database URL); return the summary it prints last."""
    command = [
        sys.executable,
        "-m",
        "care.demo",
        "--db",
        str(db_path),
        "--residents",
        str(DEMO_RESIDENTS),
        "--seed",
        str(DEMO_SEED),
        *extra,
    ]
    try:
        done = subprocess.run(
            command,
            check=False,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=DEMO_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the demo builder took over {DEMO_TIMEOUT_S} s", pytrace=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        pytest.fail(
            f"`{' '.join(command[1:])}` exited {done.returncode}\n{done.stderr[-3000:]}",
            pytrace=False,
        )
    try:
        summary = json.loads(lines[-1])
    except json.JSONDecodeError:
        pytest.fail(
            f"the demo builder's last line is not JSON: {lines[-1][:300]!r}",
            pytrace=False,
        )
    if not isinstance(summary, dict):
        pytest.fail(
            f"the demo builder's last line is not a JSON object: {lines[-1][:300]!r}",
            pytrace=False,
        )
    return summary


def _accounts_by_role(summary: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The first demo account of each role."""
    accounts: dict[str, tuple[str, str]] = {}
    for account in summary.get("accounts", []):
        accounts.setdefault(account["role"], (account["username"], account["password"]))
    return accounts


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
            pytest.fail(
                f"streamlit exited with {process.returncode} while starting:\n{log}",
                pytrace=False,
            )
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200 and response.read().strip() == b"ok":
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    _stop(process)
    log = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
    pytest.fail(
        f"streamlit did not answer {url}/_stcore/health within {SERVER_START_TIMEOUT_S} s:\n{log}",
        pytrace=False,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The app on a free port over a freshly seeded demo county (one per pytest worker)."""
    workdir = tmp_path_factory.mktemp("e2e")
    db_path = workdir / "demo.db"
    log_path = workdir / "streamlit.log"
    env = {**os.environ, "CARE_DATABASE_URL": str(db_path), "PYTHONUNBUFFERED": "1"}
    summary = _seed_demo(db_path, env)
    with _serve(env, log_path) as url:
        yield DemoServer(url, _accounts_by_role(summary), summary, db_path, log_path)


@pytest.fixture(scope="module")
def city_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The app over a demo city of three counties (its ``city`` account reads all three)."""
    workdir = tmp_path_factory.mktemp("e2e_city")
    db_path = workdir / "city.db"
    log_path = workdir / "streamlit.log"
    env = {**os.environ, "CARE_DATABASE_URL": str(db_path), "PYTHONUNBUFFERED": "1"}
    summary = _seed_demo(db_path, env, "--counties", "3")
    with _serve(env, log_path) as url:
        yield DemoServer(url, _accounts_by_role(summary), summary, db_path, log_path)


@pytest.fixture
def empty_server(tmp_path: Path) -> Iterator[DemoServer]:
    """The app on a brand-new empty database, as a newcomer first starts it."""
    db_path = tmp_path / "fresh.db"
    log_path = tmp_path / "streamlit.log"
    env = {**os.environ, "CARE_DATABASE_URL": str(db_path), "PYTHONUNBUFFERED": "1"}
    with _serve(env, log_path) as url:
        yield DemoServer(url, {}, {}, db_path, log_path)


@contextmanager
def _serve(env: dict[str, str], log_path: Path) -> Iterator[str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.fileWatcherType",
        "none",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(process, url, log_path)
        yield url
    finally:
        _stop(process)


# --- the browser ------------------------------------------------------------------------------


def _unavailable(reason: str) -> None:
    """Browser tests are mandatory where CARE_E2E_REQUIRED=1 (CI), optional elsewhere."""
    if os.environ.get("CARE_E2E_REQUIRED") == "1":
        pytest.fail(f"{reason} (CARE_E2E_REQUIRED=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium through Playwright (no downloaded browser)."""
    if sync_playwright is None:
        _unavailable("playwright is not installed (pip install -r requirements-dev.txt)")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    # Streamlit reruns the whole script per click; give assertions time to see the result.
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies or session shared between tests)."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(APP_TIMEOUT_MS)
    watch_reruns(context)
    page = context.new_page()
    try:
        yield page
        if request.node.stash.get(_FAILED, False):
            # A crashed page cannot be photographed; the test's own error says enough then.
            with contextlib.suppress(PlaywrightError):
                shot(page, f"FAILED-{request.node.name}")
    finally:
        context.close()


# --- helpers for the tests --------------------------------------------------------------------


def watch_reruns(context: BrowserContext) -> None:
    """Count script runs in every page of ``context`` from its next navigation on (see RERUN_WATCH)."""
    if not getattr(context, "_care_watched", False):
        context.add_init_script(RERUN_WATCH)
        context._care_watched = True  # type: ignore[attr-defined]


def rerun_mark(page: Page) -> int:
    """The point in the page's sequence of runs now: pass it to ``wait_for_rerun`` after an action
    whose run is asked for a moment later (a map click goes through the component's frame first)."""
    page.evaluate(RERUN_WATCH)
    return int(page.evaluate("window.__careRuns.seq"))


def wait_for_rerun(page: Page, since: int | None = None, timeout_ms: int = APP_TIMEOUT_MS) -> None:
    """Wait until the script runs the page asked for (a click, a page load) have run to the end.

    With ``since`` (from ``rerun_mark``), first wait for the action to ask for its run at all.
    """
    # A page that was never watched (a context made by the test itself) is watched from now on.
    page.evaluate(RERUN_WATCH)
    try:
        page.wait_for_function(RERUN_DONE, arg=since, timeout=timeout_ms, polling="raf")
    except PlaywrightError:
        runs = page.evaluate("JSON.stringify(window.__careRuns)")
        pytest.fail(f"the app did not finish the run asked for ({page.url}, since {since}): {runs}", pytrace=False)


def wait_idle(page: Page, since: int | None = None) -> None:
    """The script run a click or a page load asked for has finished (``wait_for_rerun``)."""
    wait_for_rerun(page, since)


def flush_page_events(page: Page) -> None:
    """Let every frame of the page run the tasks it has queued (reports of blocked scripts, dialogs)."""
    for frame in page.frames:
        with contextlib.suppress(PlaywrightError):
            frame.evaluate("() => new Promise((done) => setTimeout(done, 0))")


def poll_until(check: Callable[[], Any], message: str, timeout_s: float = 10.0) -> Any:
    """The first true value of ``check()`` (state outside the page: cookies, rows), or fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(message, pytrace=False)
        time.sleep(0.05)


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def open_app(page: Page, server: DemoServer, path: str = "") -> None:
    """Load the app (a fresh context lands on the login page) and wait for it to settle."""
    watch_reruns(page.context)
    page.goto(f"{server.url}/{path.lstrip('/')}")
    page.wait_for_selector('[data-testid="stAppViewContainer"]', state="attached", timeout=APP_TIMEOUT_MS)
    wait_idle(page)


def submit_login(page: Page, username: str, password: str) -> None:
    """Fill the login form and press 登录."""
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    wait_idle(page)


def login(page: Page, server: DemoServer, role: str) -> None:
    """Sign in as the demo account of ``role`` and wait for the navigation to appear."""
    if role not in server.accounts:
        pytest.fail(
            f"the demo has no {role!r} account; it has {sorted(server.accounts)}",
            pytrace=False,
        )
    open_app(page, server)
    submit_login(page, *server.accounts[role])
    expect(page.locator(NAV_LINKS).first).to_be_visible()
    # The cookie is set by a hidden frame after the page shows: a reload or goto before it logs out.
    wait_cookie(page.context, page)


def session_cookies(context: BrowserContext) -> list[dict[str, Any]]:
    """The login cookie(s) the browser holds (plain HTTP's name or the __Host- one)."""
    return [c for c in context.cookies() if c["name"] in (web.COOKIE, web.SECURE_COOKIE)]


def wait_cookie(context: BrowserContext, page: Page) -> dict[str, Any]:
    """The login cookie, once the browser has it (10 s at most)."""
    return poll_until(lambda: session_cookies(context), "the login set no session cookie")[0]


def nav_link(page: Page, title: str) -> Locator:
    """The navigation link whose text contains ``title``."""
    return page.locator(NAV_LINKS).filter(has_text=title)


def open_page(page: Page, title: str) -> None:
    """Open a page from the navigation by its title."""
    nav_link(page, title).first.click()
    wait_idle(page)

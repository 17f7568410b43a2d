"""The map in Chromium with no network and tiles off: it draws, a click shows a person, names run no script.

The app sends a strict Content-Security-Policy (no inline script but the map frame's one constant
script, allowed by its hash): the map page and its frame must draw with no violation of it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from care.auth import scope_of
from care.domain import clock
from care.services.enrollments import enroll
from care.services.persons import create_person
from db.models import Area, User
from db.session import get_engine, transaction
from tests.e2e.conftest import (
    EXPECT_TIMEOUT_MS,
    ROOT,
    DemoServer,
    PlaywrightError,
    _accounts_by_role,
    _seed_demo,
    _serve,
    expect,
    flush_page_events,
    login,
    open_page,
    rerun_mark,
    shot,
    wait_for_rerun,
)
from tests.e2e.test_roles import MENUS
from tests.hostile import all_texts, person_values, watching_canaries

MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
PAYLOADS = all_texts()
# The persons clicked one by one (a click opens the side panel, a Markdown view of the name).
CLICKED = (
    "{{ 7*7 }}",
    "{{lipsum.__globals__.os.mkdir(dict(cmcanary=1)|first)}}",
    "{# hidden #}",
    "<img src=x onerror=alert(1)>",
    "`${alert(document.domain)}`",
    "**bold** _it_ [link](javascript:alert(1))",
    ":red[red] :material/home: $x^2$",
    '=HYPERLINK("http://x","y")',
)
# Every frame counts calls to alert/confirm/prompt before any page script runs.
COUNT_DIALOGS = """
window.__dialogs = 0;
for (const name of ["alert", "confirm", "prompt"]) {
    const original = window[name];
    window[name] = function (...args) { window.__dialogs += 1; return original.apply(this, args); };
}
"""


# Every frame reports Content-Security-Policy violations to the test before any page script runs.
REPORT_CSP = """
document.addEventListener("securitypolicyviolation", (e) => {
    const where = location.pathname + " " + e.violatedDirective + " blocked " + (e.blockedURI || "inline");
    window.__cspViolation(where + " at " + (e.sourceFile || "?") + ":" + e.lineNumber + " " + (e.sample || ""));
}, true);
"""
FRAME_PATH = "/component/streamlit_folium.st_folium/index.html"


def _add_payload_persons(db_path: Path) -> dict[str, int]:
    """Persons in the township supervisor's first village whose name, address and notes are payloads."""
    engine = get_engine(str(db_path))
    found: dict[str, int] = {}
    with transaction(engine) as session:
        admin = scope_of(session.scalar(select(User).where(User.role == "admin")))
        township = session.scalar(select(User).where(User.role == "township"))
        village = session.scalar(
            select(Area).where(Area.parent_code == township.area_code, Area.level == "village").order_by(Area.code)
        )
        for i, payload in enumerate(PAYLOADS):
            saved = create_person(session, admin, values=person_values(i, payload, village, spread=0.004))
            enroll(
                session,
                admin,
                person_id=saved.id,
                group="child",
                subtype="left_behind",
                start_date=clock.today() - dt.timedelta(days=60),
                facts={"guardianship": "grandparent", "schooling": "primary"},
            )
            found[payload] = saved.id
    return found


@pytest.fixture(scope="module")
def map_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoServer, dict[str, int]]]:
    """The demo county plus the payload persons, served with tiles off (nothing leaves the machine)."""
    workdir = tmp_path_factory.mktemp("e2e-map")
    db_path, log_path = workdir / "demo.db", workdir / "streamlit.log"
    env = {**os.environ, "CARE_DATABASE_URL": str(db_path), "PYTHONUNBUFFERED": "1", "CARE_MAP_TILES": "none"}
    summary = _seed_demo(db_path, env)
    payload_ids = _add_payload_persons(db_path)
    with watching_canaries(ROOT, workdir), _serve(env, log_path) as url:
        yield DemoServer(url, _accounts_by_role(summary), summary, db_path, log_path), payload_ids


def _offline(page) -> list[str]:
    """Abort (and record) every request that is not to the app itself."""
    outside: list[str] = []

    def route(r):
        if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.context.route("**/*", route)
    page.context.add_init_script(COUNT_DIALOGS)
    return outside


def _watch_csp(page) -> tuple[list[str], dict[str, str]]:
    """Collect CSP violations from every frame (events and console reports), and the policies served.

    Returns the violations and, by document (``top`` and ``frame``), the policy its response carried.
    """
    violations: list[str] = []
    policies: dict[str, str] = {}

    def report(text: str) -> None:
        # A Python function, not a bound builtin: Playwright marks what it exposes.
        violations.append(text)

    page.expose_function("__cspViolation", report)
    page.add_init_script(REPORT_CSP)
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

    def response(r):
        if r.request.resource_type != "document":
            return
        name = "frame" if FRAME_PATH in r.url else "top" if r.frame == page.main_frame else None
        if name:
            policies[name] = r.headers.get("content-security-policy", "")

    page.on("response", response)
    return violations, policies


def _assert_no_csp_violation(page, violations: list[str], policies: dict[str, str]) -> None:
    """The map page and its frame ran under the strict policy, and nothing on them broke it."""
    wait_for_rerun(page)
    flush_page_events(page)
    for name in ("top", "frame"):
        scripts = next((d for d in policies.get(name, "").split(";") if d.strip().startswith("script-src")), "")
        assert scripts and "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, (name, policies)
    assert "'sha256-" in policies["frame"], "the map frame's script is allowed by its hash"
    assert violations == [], violations


def _open_map(page) -> float:
    """Open the map page; seconds until the map's canvas is drawn inside the component iframe."""
    start = time.perf_counter()
    open_page(page, "总览地图")
    frame = page.frame_locator(MAP_FRAME)
    expect(frame.locator(".leaflet-overlay-pane canvas").first).to_be_attached(timeout=60_000)
    expect(frame.locator(".care-legend")).to_be_visible()
    return time.perf_counter() - start


DOT_IDS = "() => Object.values(window.map._layers).filter(l => l.careRow).map(l => l.careRow[3])"


def _map_frame(page):
    handle = page.locator(MAP_FRAME).element_handle()
    return handle.content_frame()


def _dot_position(frame, person_id: int) -> dict[str, float] | None:
    return frame.evaluate(
        """(pid) => {
            for (const id in window.map._layers) {
                const l = window.map._layers[id];
                if (l.careRow && l.careRow[3] === pid) {
                    // Where the canvas drew it (and where its hit test looks): its projected point.
                    const p = window.map.layerPointToContainerPoint(l._point);
                    return {x: p.x, y: p.y};
                }
            }
            return null;
        }""",
        person_id,
    )


def _headings(page, selector: str, shown: str, *, ending: bool = False) -> list[str]:
    """The texts of the headings ``selector`` finds, as a reader sees them, once one of them holds
    ``shown`` (or ends with it): the run a click asked for may be followed by the one it caused.

    The word joiners that keep a name's colons from starting a Streamlit shortcode are invisible.
    """
    read = """(sel) => [...document.querySelectorAll(sel)].map((h) => h.innerText.replaceAll("\\u2060", "").trim())"""
    with contextlib.suppress(PlaywrightError):
        page.wait_for_function(
            f"([sel, shown, ending]) => ({read})(sel).some((t) => ending ? t.endsWith(shown) : t.includes(shown))",
            arg=[selector, shown, ending],
            timeout=EXPECT_TIMEOUT_MS,
        )
    return page.evaluate(read, selector)


# Resolves once the map has drawn the view it was just given (two frames: the redraw is queued for the next).
DRAWN = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


def _click_person(page, person_id: int) -> None:
    frame = _map_frame(page)
    frame.evaluate(
        """(pid) => { for (const id in window.map._layers) { const l = window.map._layers[id];
              if (l.careRow && l.careRow[3] === pid) {
                  window.map.setView(l.getLatLng(), 16, {animate: false}); } } }""",
        person_id,
    )
    frame.evaluate(DRAWN)
    where = _dot_position(frame, person_id)
    assert where is not None, f"person {person_id} is not drawn on the map"
    # Click with the mouse at page coordinates: the iframe's box plus the map's place inside it.
    page.locator(MAP_FRAME).scroll_into_view_if_needed()
    box = page.locator(MAP_FRAME).bounding_box()
    inner = frame.evaluate("() => { const r = window.map.getContainer().getBoundingClientRect(); return [r.x, r.y]; }")
    # The click reaches the app through the component's frame: wait for the run it asks for.
    mark = rerun_mark(page)
    page.mouse.click(box["x"] + inner[0] + where["x"], box["y"] + inner[1] + where["y"])
    wait_for_rerun(page, since=mark)


def test_a_supervisor_sees_the_township_offline_and_a_click_opens_a_summary(page, map_server):
    server, payload_ids = map_server
    outside = _offline(page)
    violations, policies = _watch_csp(page)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, server, "township")
    seconds = _open_map(page)
    print(f"first view, township map (600-person demo): {seconds:.2f} s")
    frame = _map_frame(page)
    drawn = frame.evaluate("() => Object.values(window.map._layers).filter(l => l.careRow).length")
    assert drawn > 20
    expect(page.get_by_text("未标注位置").first).to_be_visible()

    page.set_viewport_size({"width": 1400, "height": 1250})
    wait_for_rerun(page)
    shot(page, "21-map-township")
    person_id = payload_ids["<img src=x onerror=alert(1)>"]
    _click_person(page, person_id)
    panel = page.get_by_test_id("stMainBlockContainer")
    expect(panel.get_by_text("522699********", exact=False).first).to_be_visible()
    expect(panel.get_by_role("button", name="打开档案")).to_be_visible()
    wait_for_rerun(page)
    shot(page, "22-map-township-person")
    assert outside == [], outside
    assert dialogs == []
    _assert_no_csp_violation(page, violations, policies)


def test_names_and_notes_holding_script_payloads_stay_text_and_the_map_still_draws(page, map_server):
    server, payload_ids = map_server
    outside = _offline(page)
    violations, policies = _watch_csp(page)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, server, "township")
    _open_map(page)
    frame = _map_frame(page)
    for payload, person_id in payload_ids.items():
        where = _dot_position(frame, person_id)
        assert where is not None, f"the person named {payload!r} is not drawn"
    # Show every payload's tooltip: it must read as the literal text, with no element made from it.
    texts = frame.evaluate(
        """(ids) => ids.map(pid => { for (const id in window.map._layers) { const l = window.map._layers[id];
              if (l.careRow && l.careRow[3] === pid) { const g = Object.values(l._eventParents)[0];
              // The tooltip exactly as Leaflet builds it on hover (the content function, innerHTML inside).
              const box = g.getTooltip()._content(l);
              if (box.querySelector('img, script, iframe, svg')) return 'ELEMENT MADE';
              return box.querySelector('b').textContent; } }
              return null; })""",
        list(payload_ids.values()),
    )
    for payload, text in zip(payload_ids, texts, strict=True):
        assert text == payload, (payload, text)
    assert frame.locator(".leaflet-tooltip-pane img, .leaflet-tooltip-pane script").count() == 0
    for payload in CLICKED:
        _click_person(page, payload_ids[payload])
        # The side panel's heading is the name as typed (Markdown-escaped, not rendered).
        assert payload in _headings(page, '[data-testid="stMainBlockContainer"] h3', payload), payload
    expect(page.locator(MAP_FRAME)).to_be_visible()
    wait_for_rerun(page)
    flush_page_events(page)
    counts = [f.evaluate("() => window.__dialogs || 0") for f in page.frames]
    assert counts and sum(counts) == 0, counts
    assert dialogs == []
    assert outside == [], outside
    _assert_no_csp_violation(page, violations, policies)


def test_the_county_map_shows_villages_and_a_legend(page, map_server):
    server, _ = map_server
    outside = _offline(page)
    violations, policies = _watch_csp(page)
    login(page, server, "county")
    seconds = _open_map(page)
    print(f"first view, county map (600-person demo): {seconds:.2f} s")
    frame = _map_frame(page)
    villages = frame.evaluate("() => Object.values(window.map._layers).filter(l => l.careRow).length")
    assert villages > 100
    expect(frame.locator(".care-legend")).to_contain_text("逾期")
    page.set_viewport_size({"width": 1400, "height": 1250})
    wait_for_rerun(page)
    shot(page, "20-map-county")
    assert outside == [], outside
    _assert_no_csp_violation(page, violations, policies)


def test_a_new_filter_draws_a_new_map_and_a_click_keeps_the_one_drawn(page, map_server):
    server, _ = map_server
    outside = _offline(page)
    violations, policies = _watch_csp(page)
    login(page, server, "township")
    _open_map(page)
    _map_frame(page).evaluate("() => { window.careSameFrame = true; }")
    # The map's script is the same for every map: only the data differs, and with it the frame.
    _click_person(page, _map_frame(page).evaluate(DOT_IDS)[0])
    assert _map_frame(page).evaluate("() => window.careSameFrame === true"), "a click must not redraw the map"
    # 着色依据 → 风险等级 (the segmented control, not the risk filter of the same name).
    page.get_by_role("radio", name="风险等级", exact=True).click()
    wait_for_rerun(page)
    frame = page.frame_locator(MAP_FRAME)
    expect(frame.locator(".care-legend")).to_contain_text("风险等级")
    assert _map_frame(page).evaluate("() => window.careSameFrame === undefined"), "new data, a new frame"
    assert len(_map_frame(page).evaluate(DOT_IDS)) > 20
    assert outside == [], outside
    _assert_no_csp_violation(page, violations, policies)


def test_with_hostile_names_planted_every_page_opens_without_an_error_a_dialog_or_a_command(page, map_server):
    server, payload_ids = map_server
    outside = _offline(page)
    violations, policies = _watch_csp(page)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, server, "admin")
    for title in MENUS["admin"]:
        open_page(page, title)
        expect(page.get_by_test_id("stHeading").first).to_be_visible()
        errors = page.locator('[data-testid="stException"]')
        assert errors.count() == 0, (title, errors.first.inner_text())
    # The person file of the most hostile names (from the township map): the heading shows the name exactly.
    # The admin's login lives in the browser's cookie: drop it to log in as someone else.
    page.context.clear_cookies()
    login(page, server, "township")
    _open_map(page)
    for payload in CLICKED[:3]:
        _click_person(page, payload_ids[payload])
        # The panel shows this person (not the one before) before its button is pressed.
        assert payload in _headings(page, '[data-testid="stMainBlockContainer"] h3', payload), payload
        page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="打开档案").click()
        wait_for_rerun(page)
        headings = _headings(page, "h1", " · " + payload, ending=True)
        assert any(h.endswith(" · " + payload) for h in headings), (payload, headings)
        assert page.locator('[data-testid="stException"]').count() == 0
        open_page(page, "总览地图")
        _open_map(page)
    counts = [f.evaluate("() => window.__dialogs || 0") for f in page.frames]
    assert sum(counts) == 0 and dialogs == [], (counts, dialogs)
    assert outside == [], outside
    _assert_no_csp_violation(page, violations, policies)


def _whole(locator) -> bool:
    """Whether a select's box shows its chosen value whole (its text is not cut off)."""
    return locator.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1")


def test_at_1400_px_the_selects_show_all_and_a_new_village_filter_clears_the_panel(page, map_server):
    server, _ = map_server
    page.set_viewport_size({"width": 1400, "height": 1000})
    login(page, server, "township")
    _open_map(page)
    for label in ("风险等级", "巡访状态", "责任人"):
        select = page.get_by_role("combobox", name=label, exact=True)
        expect(select).to_have_value("全部")
        assert _whole(select), f"the {label} select cuts its value off"
    person_id = _map_frame(page).evaluate(DOT_IDS)[0]
    _click_person(page, person_id)
    panel = page.get_by_test_id("stMainBlockContainer")
    expect(panel.get_by_role("button", name="打开档案")).to_be_visible()
    shot(page, "23-map-person-picked")
    # Another village: the person shown before may not be on the new map, so the panel starts over.
    page.get_by_role("combobox", name="村（社区）", exact=True).click()
    page.get_by_role("option").nth(1).click()
    wait_for_rerun(page)
    expect(panel.get_by_text("点击地图上的人员或村庄圆圈，在此查看详情。")).to_be_visible()
    expect(panel.get_by_role("button", name="打开档案")).to_have_count(0)
    shot(page, "24-map-village-changed")


def test_on_a_phone_the_filters_fold_away_and_the_map_is_on_the_first_screen(browser, map_server):
    from tests.e2e.test_my_visits import PHONE, PHONE_AGENT

    server, _ = map_server
    context = browser.new_context(
        viewport=PHONE, user_agent=PHONE_AGENT, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    try:
        phone = context.new_page()
        login(phone, server, "township")
        phone.goto(f"{server.url}/map")
        phone.wait_for_selector(MAP_FRAME, timeout=60_000)
        wait_for_rerun(phone)
        more = phone.get_by_test_id("stExpander").filter(has_text="更多筛选")
        expect(more).to_be_visible()
        expect(phone.get_by_role("combobox", name="巡访状态", exact=True)).not_to_be_visible()
        box = phone.locator(MAP_FRAME).bounding_box()
        assert box is not None and box["y"] < PHONE["height"], f"the map starts at {box} on a phone"
        shot(phone, "25-map-phone")
        more.get_by_text("更多筛选").click()
        expect(phone.get_by_role("combobox", name="巡访状态", exact=True)).to_be_visible()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        shot(phone, "26-map-phone-filters")
    finally:
        context.close()


HOMES = """() => Object.values(window.map._layers).filter(l => l.careHome).map(l => ({
    persons: l.careHome.spec[2], click: l.careHome.spec[1], rows: l.careHome.rows.length,
    colour: l.options.fillColor, words: l.careHome.rows.map(r => r[5]), x: l._point.x, y: l._point.y}))"""


def _click_at(page, where: dict[str, float]) -> None:
    page.locator(MAP_FRAME).scroll_into_view_if_needed()
    box = page.locator(MAP_FRAME).bounding_box()
    frame = _map_frame(page)
    inner = frame.evaluate("() => { const r = window.map.getContainer().getBoundingClientRect(); return [r.x, r.y]; }")
    mark = rerun_mark(page)
    page.mouse.click(box["x"] + inner[0] + where["x"], box["y"] + inner[1] + where["y"])
    wait_for_rerun(page, since=mark)


def test_a_household_is_one_marker_listing_its_members_and_a_group_switched_off_redraws_it(page, map_server):
    server, _ = map_server
    outside = _offline(page)
    violations, policies = _watch_csp(page)
    page.set_viewport_size({"width": 1400, "height": 1250})
    login(page, server, "township")
    _open_map(page)
    frame = _map_frame(page)
    homes = [h for h in frame.evaluate(HOMES) if h["persons"] >= 2]
    assert homes, "the demo township has households of two or more on the map"
    # A household with members in two groups (a grandparent and a grandchild): one marker, all listed.
    words_per_group = 4  # care.files.maps: word = group index × 4 + state index
    mixed = [h for h in homes if len({w // words_per_group for w in h["words"]}) >= 2]
    assert mixed, homes[:5]
    home = mixed[0]
    pid = int(home["click"].split("#")[1])
    # No dot of its own is drawn for any member of a household marker.
    assert pid not in frame.evaluate(DOT_IDS)
    frame.evaluate(
        """(click) => { for (const l of Object.values(window.map._layers)) {
              if (l.careHome && l.careHome.spec[1] === click) {
                  window.map.setView(l.getLatLng(), 16, {animate: false}); } } }""",
        home["click"],
    )
    frame.evaluate(DRAWN)
    (where,) = [h for h in frame.evaluate(HOMES) if h["click"] == home["click"]]
    _click_at(page, where)
    panel = page.get_by_test_id("stMainBlockContainer")
    expect(panel.get_by_role("heading", name="家庭户 ·").first).to_be_visible()
    expect(panel.get_by_text(f"本户成员 {home['persons']} 人", exact=False).first).to_be_visible()
    expect(panel.get_by_role("button", name="打开档案")).to_be_visible()
    shot(page, "23-map-household")
    # Switch off the group of the marker's first member: the marker lists only the others now.
    first_group = home["words"][0] // words_per_group
    label = ("儿童", "老年人", "残疾人")[first_group]
    frame_locator = page.frame_locator(MAP_FRAME)
    frame_locator.locator(".leaflet-control-layers-overlays label", has_text=label).locator("input").click()
    frame.wait_for_function(
        f"() => ({HOMES})().some(h => h.click === {home['click']!r} && h.rows < {home['rows']})", polling="raf"
    )
    after = [h for h in frame.evaluate(HOMES) if h["click"] == home["click"]]
    assert len(after) == 1 and 0 < after[0]["rows"] < home["rows"], (home, after)
    assert all(w // words_per_group != first_group for w in after[0]["words"])
    # On again: the marker lists every member once more.
    frame_locator.locator(".leaflet-control-layers-overlays label", has_text=label).locator("input").click()
    frame.wait_for_function(
        f"() => ({HOMES})().some(h => h.click === {home['click']!r} && h.rows === {home['rows']})", polling="raf"
    )
    (again,) = [h for h in frame.evaluate(HOMES) if h["click"] == home["click"]]
    assert again["rows"] == home["rows"] and again["colour"] == home["colour"]
    assert outside == [], outside
    _assert_no_csp_violation(page, violations, policies)

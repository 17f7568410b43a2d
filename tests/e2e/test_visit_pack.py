"""The offline visit pack on a phone (390 px): downloaded on 我的巡访, opened with the network cut off,
three visits recorded and kept over a reload, the signed result uploaded back; wrong PIN, expiry,
an edited result file, a second upload, and hostile text shown as text."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from care.files import visit_pack
from care.i18n import CATALOG
from db.models import AuditEvent, Need, Visit, VisitPack
from db.session import get_engine, reading
from tests.e2e.conftest import (
    APP_TIMEOUT_MS,
    DemoServer,
    expect,
    open_app,
    rerun_mark,
    shot,
    submit_login,
    wait_idle,
)
from tests.e2e.test_my_visits import PHONE, _open_my_visits
from tests.hostile import all_texts

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = pytest.mark.e2e

PIN = "730516"
SECTION = "离线巡访包（无信号时使用）"
# PBKDF2 with 600,000 iterations takes a moment on a slow machine.
OPEN_TIMEOUT_MS = 20_000


def _phone(browser: Browser, **options) -> BrowserContext:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(APP_TIMEOUT_MS)
    return context


def _only_local_requests(page: Page) -> list[str]:
    """Every request the page makes that is not to the file itself or its own data (filled as they happen)."""
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:")) else outside.append(r.url))
    return outside


def _section(page: Page):
    box = page.get_by_test_id("stExpander").filter(has_text=SECTION)
    if not box.get_by_text("设置密码（至少 6 位数字）").is_visible():
        box.get_by_text(SECTION).click()
    return box


def _download_pack(page: Page, server: DemoServer, folder: Path) -> Path:
    open_app(page, server)
    submit_login(page, *server.accounts["coordinator"])
    _open_my_visits(page)
    box = _section(page)
    box.get_by_label("设置密码（至少 6 位数字）").fill("123456")
    box.get_by_label("再次输入密码").fill("123456")
    box.get_by_role("button", name="生成巡访包").click()
    wait_idle(page)
    expect(box.get_by_text("密码太容易被猜到", exact=False)).to_be_visible()
    box.get_by_label("设置密码（至少 6 位数字）").fill(PIN)
    box.get_by_label("再次输入密码").fill(PIN)
    box.get_by_role("button", name="生成巡访包").click()
    wait_idle(page)
    expect(box.get_by_text("巡访包已生成", exact=False)).to_be_visible()
    with page.expect_download() as download:
        box.get_by_role("button", name="下载巡访包").click()
    target = folder / "pack.html"
    download.value.save_as(target)
    shot(page, "visit_pack_download_phone")
    return target


def _edited(payload: str) -> str:
    """The sealed payload with one bit of its ciphertext flipped (an edit made without the key)."""
    raw = bytearray(base64.b64decode(payload))
    raw[-1] ^= 1
    return base64.b64encode(bytes(raw)).decode("ascii")


def _unlock(page: Page, pin: str = PIN) -> None:
    page.fill("#pin", pin)
    page.click("#open")


def _record(page: Page, index: int, status: str, *, need: str | None = None, note: str = "") -> int:
    button = page.locator("button[data-person]").nth(index)
    person = int(button.get_attribute("data-person"))
    button.click()
    form = page.locator(f"#form-{person}")
    form.locator(f'input[type="radio"][value="{status}"]').check()
    if status == "done":
        form.locator('select[name="finding_safety"]').select_option("ok")
    if need:
        form.locator('select[name="need_kind"]').select_option("medical")
        form.locator('input[name="need_description"]').fill(need)
    form.locator('textarea[name="notes"]').fill(note)
    form.locator('button[type="submit"]').click()
    expect(page.locator(f"#card-{person}").get_by_text("已记录（未上传）", exact=False)).to_be_visible()
    return person


def _upload(page: Page, path: Path) -> None:
    """Give the uploader a file and wait for the run that reads it (not the run before)."""
    box = _section(page)
    mark = rerun_mark(page)
    box.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    wait_idle(page, mark)
    expect(box.get_by_test_id("stFileChipName")).to_have_text(path.name)


def _confirm(page: Page) -> None:
    """Press the import button and wait for the run it asks for, with the fresh uploader after it."""
    mark = rerun_mark(page)
    page.get_by_role("button", name="确认导入").click()
    wait_idle(page, mark)
    expect(_section(page).get_by_test_id("stFileChipName")).to_have_count(0)


def test_a_pack_is_used_offline_and_its_results_come_back_once(
    browser: Browser, page: Page, demo_server: DemoServer, tmp_path: Path
) -> None:
    page.set_viewport_size(PHONE)
    pack_file = _download_pack(page, demo_server, tmp_path)

    phone = _phone(browser, accept_downloads=True)
    try:
        offline = phone.new_page()
        outside = _only_local_requests(offline)
        phone.set_offline(True)
        offline.goto(pack_file.as_uri())
        _unlock(offline, "000001")
        expect(offline.locator("#pin-message")).to_have_text("密码不正确，或文件已被改动。", timeout=OPEN_TIMEOUT_MS)
        assert offline.locator("#pack-counts").count() == 0
        _unlock(offline)
        expect(offline.locator("#pack-counts")).to_contain_text("本机已记录 0 人", timeout=OPEN_TIMEOUT_MS)
        expect(offline.locator(".stop-icon").first).to_be_visible()
        shot(offline, "visit_pack_offline_week")
        persons = [
            _record(offline, 0, "not_met", note="家中无人"),
            _record(offline, 1, "done", need="复查视力", note="</script><b>x</b>"),
            _record(offline, 2, "done"),
        ]
        shot(offline, "visit_pack_offline_recorded")
        offline.reload()
        _unlock(offline)
        expect(offline.locator("#pack-counts")).to_contain_text("本机已记录 3 人", timeout=OPEN_TIMEOUT_MS)
        for person in persons:
            expect(offline.locator(f"#card-{person}").get_by_text("已记录（未上传）", exact=False)).to_be_visible()
        width = offline.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        with offline.expect_download() as download:
            offline.click("#export")
        result = tmp_path / "results.json"
        download.value.save_as(result)
        assert outside == [], outside
    finally:
        phone.close()

    outer = json.loads(result.read_text(encoding="utf-8"))
    edited = dict(outer, payload=_edited(outer["payload"]))
    tampered = tmp_path / "edited.json"
    tampered.write_text(json.dumps(edited), encoding="utf-8")
    _upload(page, tampered)
    expect(page.get_by_text("签名不符", exact=False)).to_be_visible()

    _upload(page, result)
    expect(page.get_by_text("新记录 3 条", exact=False)).to_be_visible()
    whole = shot(page, "visit_pack_upload_phone")
    _section(page).screenshot(path=str(whole.with_name("visit_pack_upload_section.png")))
    _confirm(page)
    expect(page.get_by_text("已导入 3 条巡访", exact=False).first).to_be_visible()

    secret = base64.b64decode(
        visit_pack.unseal(visit_pack.sealed_of(pack_file.read_text(encoding="utf-8")), PIN)["hmac_key"]
    )
    payload = visit_pack.open_result(secret, visit_pack.read_result_file(result.read_bytes()))
    tokens = [v["client_token"] for v in json.loads(payload)["visits"]]
    assert "复查视力" not in result.read_text(encoding="utf-8")
    engine = get_engine(str(demo_server.db_path))
    with reading(engine) as session:
        saved = session.scalars(select(Visit).where(Visit.client_token.in_(tokens))).all()
        needs = session.scalars(select(Need).where(Need.visit_id.in_([v.id for v in saved]))).all()
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "visit_pack.upload", AuditEvent.outcome == "success")
        )
    assert sorted(v.person_id for v in saved) == sorted(persons)
    assert sorted(v.status for v in saved) == ["done", "done", "not_met"]
    assert [n.description for n in needs] == ["复查视力"]
    assert "</script><b>x</b>" in [v.notes for v in saved]
    assert event.detail["written"] == 3

    _upload(page, result)
    expect(page.get_by_text("已导入过 3 条", exact=False)).to_be_visible()
    _confirm(page)
    expect(page.get_by_text("都已导入过", exact=False).first).to_be_visible()
    with reading(engine) as session:
        assert len(session.scalars(select(Visit).where(Visit.client_token.in_(tokens))).all()) == 3
        assert session.scalar(select(VisitPack.state).where(VisitPack.id == outer["pack_id"])) == "returned"


def _standalone_pack(folder: Path, stops: list[dict], *, expires: dt.datetime) -> Path:
    """A pack file made without a server (what the browser does with it does not depend on one)."""
    from care.services.visit_packs import _leaflet

    created = expires - dt.timedelta(days=visit_pack.PACK_DAYS)
    payload = {
        "pack_id": "b" * 32,
        "expires": expires.isoformat(timespec="seconds"),
        "hmac_key": "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=",
        "worker": stops[0]["name"] if stops else "",
        "office": None,
        "stops": stops,
        "defs": visit_pack.form_definitions(),
        "labels": visit_pack.pack_labels(),
    }
    sealed = visit_pack.seal(payload, PIN, pack_id="b" * 32, created=created, expires=expires)
    css, js = _leaflet()
    path = folder / "standalone.html"
    path.write_text(visit_pack.render_html(sealed, leaflet_css=css, leaflet_js=js), encoding="utf-8")
    return path


def _stop(n: int, text: str) -> dict:
    return {
        "n": n,
        "person_id": 1000 + n,
        "name": text,
        "sex": "F",
        "age": 9,
        "id_masked": "522699********0011",
        "village": text,
        "address": text,
        "phone_masked": "",
        "lat": 26.4 + n / 1000,
        "lon": 108.2 + n / 1000,
        "state": "due",
        "planned_day": None,
        "next_due": None,
        "risk_reasons": [],
        "concerns": [],
        "open_needs": [],
        "enrollments": [{"id": n, "group": "child", "subtype": "left_behind", "risk": "low", "facts": {}}],
    }


def test_an_expired_pack_refuses_to_open(browser: Browser, tmp_path: Path) -> None:
    path = _standalone_pack(tmp_path, [_stop(1, "张三")], expires=dt.datetime.now() - dt.timedelta(hours=1))
    phone = _phone(browser)
    try:
        page = phone.new_page()
        phone.set_offline(True)
        page.goto(path.as_uri())
        expect(page.locator("#pack-expired")).to_contain_text("已于")
        assert page.locator("#pin").count() == 0
        shot(page, "visit_pack_expired")
        page.click("#lang")
        expect(page.locator("#pack-expired")).to_contain_text("This pack expired on")
        expect(page.locator("#title")).to_have_text("Offline visit pack")
    finally:
        phone.close()


def test_hostile_names_in_a_pack_are_shown_as_text(browser: Browser, tmp_path: Path) -> None:
    texts = all_texts()
    stops = [_stop(n, text) for n, text in enumerate(texts, start=1)]
    path = _standalone_pack(tmp_path, stops, expires=dt.datetime.now() + dt.timedelta(days=3))
    phone = _phone(browser)
    try:
        page = phone.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        phone.set_offline(True)
        page.goto(path.as_uri())
        _unlock(page)
        expect(page.locator("#pack-counts")).to_contain_text(f"本周 {len(texts)} 人", timeout=OPEN_TIMEOUT_MS)
        headings = page.locator(".card h2").all_text_contents()
        for n, text in enumerate(texts, start=1):
            assert headings[n - 1].startswith(f"{n}. {text} · "), (headings[n - 1], text)
        assert page.locator(".card img, .card svg, .card b, .card script, .card a").count() == 0
        page.locator("button[data-person]").first.click()
        form = page.locator("#form-1001")
        form.locator('input[type="radio"][value="cancelled"]').check()
        form.locator('button[type="submit"]').click()
        expect(form.locator("#form-message")).to_have_text(CATALOG["visit.cancel_reason_required"][0])
        expect(page.locator("#pack-counts")).to_contain_text("本机已记录 0 人")
        assert dialogs == [] and errors == []
        shot(page, "visit_pack_hostile")
    finally:
        phone.close()

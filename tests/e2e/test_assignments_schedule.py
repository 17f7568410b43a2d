"""A supervisor moves a caseload and plans the receiving worker's week, then prints the sheet (Chromium)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from care.domain import clock
from db.models import Assignment, AuditEvent, Enrollment, User, Worker
from db.session import get_engine, reading
from tests.e2e.conftest import SCREENSHOTS, DemoServer, expect, login, open_page, shot, wait_idle

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e


def _caseloads(server: DemoServer) -> dict[str, int]:
    """Elderly visitors of the supervisor's township by name → current caseload."""
    today = clock.today()
    with reading(get_engine(str(server.db_path))) as session:
        area = session.scalar(select(User.area_code).where(User.role == "township"))
        rows = session.execute(
            select(Worker.name, func.count(Assignment.id))
            .join(Assignment, Assignment.worker_id == Worker.id)
            .join(Enrollment, Enrollment.id == Assignment.enrollment_id)
            .where(
                Worker.kind == "elderly_visitor",
                Worker.area_code.like(area[:9] + "%"),
                Assignment.end_date.is_(None) | (Assignment.end_date >= today),
                Enrollment.end_date.is_(None),
            )
            .group_by(Worker.id, Worker.name)
            .order_by(Worker.id)
        ).all()
    return {name: int(n) for name, n in rows}


def choose(page: Page, label: str, text: str) -> None:
    """Pick the option containing ``text`` in the select box labelled ``label``."""
    box = page.get_by_test_id("stSelectbox").filter(has_text=label).filter(visible=True).first
    box.click()
    page.keyboard.type(text)
    page.get_by_role("option", name=re.compile(re.escape(text))).first.click()
    wait_idle(page)


def caseload_shown(page: Page) -> int:
    """The caseload the move tab states for the chosen worker."""
    text = page.get_by_text(re.compile(r"该工作人员当前负责 [\d,]+ 条在册记录")).filter(visible=True).first.inner_text()
    return int(re.search(r"负责 ([\d,]+) 条", text).group(1).replace(",", ""))  # type: ignore[union-attr]


def test_a_supervisor_moves_a_caseload_and_prints_the_new_workers_week(page: Page, demo_server: DemoServer) -> None:
    names = [n for n, count in _caseloads(demo_server).items() if count > 0]
    source, target = names[0], names[1]
    login(page, demo_server, "township")
    open_page(page, "服务分配")
    page.get_by_role("tab", name="整体移交").click()
    wait_idle(page)
    choose(page, "移出的工作人员", target)
    kept = caseload_shown(page)
    choose(page, "移出的工作人员", source)
    moving = caseload_shown(page)
    assert moving > 0
    choose(page, "新的责任人", target)
    page.get_by_text(re.compile(r"移交全部 \d+ 条")).click()
    wait_idle(page)
    shot(page, "assign-01-before-move")
    page.get_by_role("button", name=f"移交所选 {moving} 条").click()
    wait_idle(page)
    expect(page.get_by_text(f"已分配 {moving} 条")).to_be_visible()
    # The move tab now states the changed caseloads: nothing left with the source...
    page.get_by_role("tab", name="整体移交").click()
    assert caseload_shown(page) == 0
    shot(page, "assign-02-moved")
    # ... and both caseloads with the target.
    choose(page, "移出的工作人员", target)
    assert caseload_shown(page) == kept + moving
    page.get_by_role("tab", name="工作量").click()
    expect(page.get_by_test_id("stDataFrame").filter(visible=True).first).to_be_visible()
    shot(page, "assign-03-caseloads")

    open_page(page, "巡访排班")
    page.get_by_role("tab", name="工作人员周计划").click()
    wait_idle(page)
    choose(page, "工作人员", target)
    generate = page.get_by_role("button", name="生成该周排班")
    if generate.count():
        generate.click()
        wait_idle(page)
    expect(page.get_by_text(re.compile("户 · .* 公里")).first).to_be_visible()
    expect(page.get_by_role("button", name="打印周表（网页）")).to_be_visible()
    # Each day with stops shows its route sketch.
    sketch = page.get_by_test_id("stImage").locator("img").first
    expect(sketch).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=sketch.element_handle())
    shot(page, "schedule-01-week")
    with page.expect_download() as download:
        page.get_by_role("button", name="打印周表（网页）").click()
    sheet = SCREENSHOTS.parent / "schedule-sheet.html"
    sheet.parent.mkdir(parents=True, exist_ok=True)
    download.value.save_as(sheet)
    with reading(get_engine(str(demo_server.db_path))) as session:
        printed_events = session.scalar(select(func.count()).where(AuditEvent.action == "schedule.print"))
    assert printed_events >= 1  # who printed whose week is on record
    printed = page.context.new_page()
    printed.emulate_media(media="print")
    printed.goto(sheet.as_uri())
    expect(printed.get_by_role("heading", name=re.compile(f"巡访周表 · {re.escape(target)}"))).to_be_visible()
    assert printed.locator("svg.map").count() >= 1
    shot(printed, "schedule-02-printed-sheet")

"""A new person's location set by a click on the map, starting from a village centre, in Chromium."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from db.models import Area, Person
from db.session import get_engine, reading
from tests.e2e.conftest import PlaywrightError, expect, login, open_app, open_page, rerun_mark, shot, wait_idle
from tests.e2e.test_map import MAP_FRAME, _offline, _watch_csp
from tests.fixtures.scope import fixture_id_number

PICK_FRAME = MAP_FRAME


def _village(server, *, with_centre: bool) -> tuple[str, str, float | None, float | None]:
    with reading(get_engine(str(server.db_path))) as session:
        query = select(Area).where(Area.level == "village", Area.valid_to.is_(None)).order_by(Area.code)
        for area in session.scalars(query):
            if (area.lat is not None) == with_centre:
                # Chosen by "township village": village names repeat across townships.
                township = session.get(Area, area.parent_code)
                return area.code, f"{township.name} {area.name}", area.lat, area.lon
    pytest.fail("the demo county has no such village")


def _choose(page, label: str, option: str) -> None:
    box = page.get_by_role("combobox", name=label).first
    # As a user does: bring the box into view, let the page settle, then open it. Opened while the page
    # still scrolls (a phone-width page scrolls a long way), the list closes again before the tap.
    # The list is typed into, as a user narrows a long list: only the options in view are drawn.
    choice = page.get_by_role("option", name=option, exact=True)
    for _ in range(3):
        box.scroll_into_view_if_needed()
        wait_idle(page)
        _wait_still(box)
        box.click()
        box.fill(option)
        try:
            choice.click(timeout=5_000)
        except PlaywrightError:  # the list closed again before the tap: open it once more
            page.keyboard.press("Escape")
            continue
        wait_idle(page)
        expect(box).to_have_value(option)
        return
    pytest.fail(f"the list {label} never offered {option}", pytrace=False)


def _wait_still(locator) -> None:
    """Wait until ``locator`` stays where it is from one drawn frame to the next (the page stopped scrolling)."""
    still = """(el) => new Promise((done) => { const y = el.getBoundingClientRect().y;
        requestAnimationFrame(() => requestAnimationFrame(() => done(el.getBoundingClientRect().y === y))); })"""
    for _ in range(300):
        if locator.evaluate(still):
            return
    pytest.fail("the page never stopped scrolling", pytrace=False)


@pytest.mark.parametrize("width", [1400, 390])
def test_an_admin_places_a_new_person_by_a_click_near_the_village_centre(page, demo_server, width):
    page.set_viewport_size({"width": width, "height": 900})
    outside = _offline(page)
    violations, _ = _watch_csp(page)
    _, label, lat, lon = _village(demo_server, with_centre=True)
    name = label.split(" ")[-1]
    login(page, demo_server, "admin")
    if width >= 1000:
        open_page(page, "新建对象")
    else:  # the sidebar is closed on a phone
        open_app(page, demo_server, "person_new")
    expander = page.get_by_text("在地图上点选位置")
    expect(expander).to_be_visible()
    expect(page.get_by_text("还没有位置：此人在地图上不显示")).to_be_visible()
    _choose(page, "从哪个村的中心开始", label)
    frame = page.frame_locator(PICK_FRAME)
    expect(frame.locator(".care-legend")).to_contain_text("点击地图设置位置")
    expect(frame.get_by_role("tooltip", name="村中心（起点）")).to_be_visible()
    expect(frame.locator(".care-label-village", has_text=name)).to_be_visible()
    # Click a little north-east of the village centre.
    page.locator(PICK_FRAME).scroll_into_view_if_needed()
    box = page.locator(PICK_FRAME).bounding_box()
    # The click reaches the app through the picker's frame: wait for the run it asks for.
    mark = rerun_mark(page)
    page.mouse.click(box["x"] + box["width"] / 2 + 30, box["y"] + box["height"] / 2 - 30)
    wait_idle(page, since=mark)
    expect(page.get_by_text("已选位置：纬度")).to_be_visible(timeout=15_000)
    got_lat = float(page.get_by_role("spinbutton", name="纬度（WGS-84）").input_value())
    got_lon = float(page.get_by_role("spinbutton", name="经度（WGS-84）").input_value())
    assert got_lat > lat and got_lon > lon, (got_lat, got_lon, lat, lon)
    assert abs(got_lat - lat) < 0.02 and abs(got_lon - lon) < 0.02
    expect(page.frame_locator(PICK_FRAME).get_by_role("tooltip", name="所选位置")).to_be_visible()
    shot(page, f"location_picker_{width}")
    # The rest of the form, then save: the person is stored where the click was.
    person_name = f"点选位置{width}"
    page.get_by_role("textbox", name="姓名").fill(person_name)
    page.get_by_role("textbox", name="公民身份号码").fill(fixture_id_number(dt.date(1971, 3, 4), 400 + width % 97, "M"))
    _choose(page, "村（社区）", label)
    page.get_by_role("button", name="创建").click()
    wait_idle(page)
    with reading(get_engine(str(demo_server.db_path))) as session:
        saved = session.scalar(select(Person).where(Person.name == person_name))
    assert saved is not None, demo_server.log_tail()
    assert (round(saved.lat, 5), round(saved.lon, 5)) == (round(got_lat, 5), round(got_lon, 5))
    # Nothing leaves the app but the configured basemap's tiles (aborted here: no network).
    assert [u for u in outside if not u.startswith("https://tile.openstreetmap.org/")] == []
    assert violations == []

"""The map page under AppTest: every role gets it, filters and clicks drive the side panel.

AppTest does not render st_folium (it returns the default value), so the click is fed through the
page's adapter (``ui.map_view.show_map``); the folium.Map itself is tested in tests/unit/test_maps.py.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from care.auth import scope_of
from care.domain import clock
from care.queries import map as mapq
from db.models import User
from db.session import get_engine, reading
from tests.app.conftest import person_ref

MAP = "pages/map.py"


def texts(at) -> str:
    parts = [
        e.value
        for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success", "text")
        for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts)


def _scope(demo_db: dict, role: str):
    with reading(get_engine(str(demo_db["path"]))) as session:
        user = session.scalar(select(User).where(User.username == demo_db["accounts"][role]["username"]))
        return scope_of(user)


@pytest.mark.parametrize("role", ["county", "township", "coordinator", "admin"])
def test_the_map_page_renders_for_every_role(app_as, role):
    at = app_as(role)
    at.run()
    at.switch_page(MAP).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["总览地图"]
    assert "点击地图上的人员或村庄圆圈" in texts(at)


def test_the_county_view_counts_persons_by_village_and_the_township_view_by_person(app_as, demo_db):
    at = app_as("county")
    at.run()
    at.switch_page(MAP).run()
    assert "全县按村汇总显示" in texts(at)
    # AppTest's select_index formats the option twice when a format_func is set: set the state.
    at.session_state["map_township"] = demo_db["summary"]["county_code"][:6] + "101000"
    at.run()
    assert not at.exception
    assert at.selectbox(key="map_township").value == "522699101000"
    assert "每个点是一名对象" in texts(at)


def test_a_click_on_a_person_shows_their_masked_summary_and_opens_the_file(app_as, demo_db, monkeypatch):
    scope = _scope(demo_db, "township")
    with reading(get_engine(str(demo_db["path"]))) as session:
        dot = mapq.person_points(session, scope, mapq.MapFilter(), clock.today())[0]
    from ui import map_view

    monkeypatch.setattr(map_view, "show_map", lambda m: f"{dot.name}\n儿童 · 逾期未访\n#{dot.person_id}")
    at = app_as("township")
    at.run()
    at.switch_page(MAP).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = texts(at)
    assert dot.name in shown and "********" in shown
    opener = next(b for b in at.button if b.key == f"map_open_{dot.person_id}")
    opener.click().run()
    assert not at.exception
    assert at.query_params["ref"] == person_ref(demo_db["path"], dot.person_id)


def test_a_click_on_someone_outside_the_scope_shows_nothing_about_them(app_as, demo_db, monkeypatch):
    county = _scope(demo_db, "county")
    coordinator = _scope(demo_db, "coordinator")
    with reading(get_engine(str(demo_db["path"]))) as session:
        everyone = {p.person_id: p for p in mapq.person_points(session, county, mapq.MapFilter(), clock.today())}
        mine = {p.person_id for p in mapq.person_points(session, coordinator, mapq.MapFilter(), clock.today())}
    stranger = everyone[next(pid for pid in everyone if pid not in mine)]
    from ui import map_view

    monkeypatch.setattr(map_view, "show_map", lambda m: f"x\n#{stranger.person_id}")
    at = app_as("coordinator")
    at.run()
    at.switch_page(MAP).run()
    assert not at.exception
    assert "不在您的辖区内" in texts(at)
    assert stranger.name not in texts(at)


def test_a_click_on_a_village_lists_its_persons(app_as, demo_db, monkeypatch):
    scope = _scope(demo_db, "county")
    with reading(get_engine(str(demo_db["path"]))) as session:
        village = max(mapq.village_aggregates(session, scope, mapq.MapFilter(), clock.today()), key=lambda v: v.persons)
    from ui import map_view

    monkeypatch.setattr(map_view, "show_map", lambda m: f"{village.name}\n…\n{village.code}")
    at = app_as("county")
    at.run()
    at.switch_page(MAP).run()
    assert not at.exception, [e.value for e in at.exception]
    assert f"{village.persons} 人" in texts(at)
    assert len(at.dataframe[-1].value) == village.persons


def _multi_homes(demo_db: dict, role: str):
    from care.files.maps import homes

    scope = _scope(demo_db, role)
    with reading(get_engine(str(demo_db["path"]))) as session:
        dots = mapq.person_points(session, scope, mapq.MapFilter(), clock.today())
    return [h for h in homes(dots) if len({p.person_id for p in h}) > 1]


def test_a_click_on_a_household_marker_lists_its_members_and_opens_one(app_as, demo_db, monkeypatch):
    home = _multi_homes(demo_db, "township")[0]
    pids = sorted({p.person_id for p in home})
    names = {p.person_id: p.name for p in home}
    from ui import map_view

    monkeypatch.setattr(map_view, "show_map", lambda m: f"同户 {len(pids)} 人\n…\n⌂#{pids[0]}")
    at = app_as("township")
    at.run()
    at.switch_page(MAP).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(s.value.startswith("家庭户 · ") for s in at.subheader)
    table = at.dataframe[-1].value
    assert set(table["姓名"]) >= set(names.values())
    assert f"本户成员 {len(table)} 人" in texts(at)
    # The person panel is not what a household click shows.
    assert not [b for b in at.button if b.key and b.key.startswith("map_open_")]


def test_a_household_click_shows_nothing_of_a_household_outside_the_scope(app_as, demo_db, monkeypatch):
    mine = {p.person_id for h in _multi_homes(demo_db, "coordinator") for p in h}
    stranger = next(h for h in _multi_homes(demo_db, "county") if not {p.person_id for p in h} & mine)
    pid = min(p.person_id for p in stranger)
    from ui import map_view

    monkeypatch.setattr(map_view, "show_map", lambda m: f"x\n⌂#{pid}")
    at = app_as("coordinator")
    at.run()
    at.switch_page(MAP).run()
    assert not at.exception
    assert "不在您的辖区内" in texts(at)
    assert not any(s.value.startswith("家庭户 · ") for s in at.subheader)
    for p in stranger:
        assert p.name not in texts(at)

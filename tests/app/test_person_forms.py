"""Form behaviour: bad input gets a Chinese message and writes nothing; a stale save shows the newer record."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

import ui
from care import services
from care.auth import scope_of
from db.models import Area, Person, User
from db.session import get_engine, reading, transaction
from tests.app.conftest import person_ref

ROOT = Path(__file__).resolve().parents[2]


def _texts(at) -> str:
    return "\n".join(str(e.value) for kind in ("error", "warning", "success", "info") for e in getattr(at, kind))


def _count(demo_db) -> int:
    with reading(get_engine(str(demo_db["path"]))) as session:
        return int(session.scalar(select(func.count()).select_from(Person)))


def test_a_bad_id_number_is_refused_in_chinese_and_nothing_is_created(app_as, demo_db):
    before = _count(demo_db)
    at = app_as("township")
    at.run()
    at.switch_page("pages/person_new.py").run()
    at.text_input(key="new_name").input("张三")
    at.text_input(key="new_id").input("522699201001010012")
    at.selectbox(key="new_village").select_index(0)
    at.button[-1].click().run()
    assert "公民身份号码校验位不正确" in _texts(at)
    assert _count(demo_db) == before


def test_a_valid_new_person_is_created_and_their_file_opens(app_as, demo_db):
    before = _count(demo_db)
    at = app_as("township")
    at.run()
    at.switch_page("pages/person_new.py").run()
    at.text_input(key="new_name").input("<b>王五</b>[x](javascript:alert(1))")
    at.text_input(key="new_id").input("11010519491231002x")
    at.selectbox(key="new_village").select_index(0)
    at.button[-1].click().run()
    assert not at.exception
    assert _count(demo_db) == before + 1
    at.switch_page("pages/person.py").run()
    # The name reaches markdown with every markup character escaped: shown as typed, never as markup.
    assert [t.value for t in at.title] == ["一人一档 · " + ui.md("<b>王五</b>[x](javascript:alert(1))")]
    assert "\\<b\\>" in at.title[0].value


def test_a_stale_save_is_refused_and_the_newer_values_are_shown(app_as, demo_db):
    engine = get_engine(str(demo_db["path"]))
    with reading(engine) as session:
        user = session.scalar(select(User).where(User.username == demo_db["accounts"]["township"]["username"]))
        scope = scope_of(user)
        person = session.scalar(
            select(Person)
            .where(Person.village_code.startswith(user.area_code[:9]), Person.deleted.is_(False))
            .order_by(Person.id)
        )
    at = app_as("township")
    at.query_params["ref"] = person_ref(demo_db["path"], person.id)
    at.run()
    at.switch_page("pages/person.py").run()
    seen = person.version
    form_key = f"edit_person_{person.id}_{seen}"
    at.text_input(key=f"{form_key}_address").input("我改的地址")
    with transaction(engine) as session:  # a colleague saves first
        services.update_person(
            session, scope, person_id=person.id, seen_version=seen, values={"address": "同事改的地址"}
        )
    submit = next(b for b in at.button if b.label == "保存")
    submit.click().run()
    assert not at.exception
    assert "已被他人修改" in _texts(at)
    shown = "\n".join(str(v) for df in at.dataframe for v in df.value.to_numpy().ravel())
    assert "同事改的地址" in shown
    with reading(engine) as session:
        assert session.get(Person, person.id).address == "同事改的地址"


def test_a_saved_location_shows_on_the_map_at_once(app_as, demo_db):
    from care.domain import clock
    from care.queries.map import MapFilter
    from ui import map_view

    engine = get_engine(str(demo_db["path"]))
    with reading(engine) as session:
        user = session.scalar(select(User).where(User.username == demo_db["accounts"]["township"]["username"]))
        scope = scope_of(user)
        person = session.scalar(
            select(Person)
            .where(
                Person.village_code.startswith(user.area_code[:9]),
                Person.deleted.is_(False),
                Person.lat.is_not(None),
                Person.status == "active",
            )
            .order_by(Person.id.desc())
        )
    flt = MapFilter(area_code=person.village_code)
    before = {(d.lat, d.lon) for d in map_view.map_data(scope, flt, clock.today()).persons if d.person_id == person.id}
    assert before == {(person.lat, person.lon)}  # now cached

    at = app_as("township")
    at.query_params["ref"] = person_ref(demo_db["path"], person.id)
    at.run()
    at.switch_page("pages/person.py").run()
    form_key = f"edit_person_{person.id}_{person.version}"
    at.number_input(key=f"{form_key}_lat").set_value(round(person.lat + 0.001, 6))
    next(b for b in at.button if b.label == "保存").click().run()
    assert "已保存" in _texts(at)

    after = {(d.lat, d.lon) for d in map_view.map_data(scope, flt, clock.today()).persons if d.person_id == person.id}
    assert after == {(round(person.lat + 0.001, 6), person.lon)}


def _full_id_events(demo_db, person_id: int) -> int:
    from db.models import AuditEvent

    with reading(get_engine(str(demo_db["path"]))) as session:
        return session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "person.view_full_id", AuditEvent.entity_id == str(person_id))
        )


def test_the_edit_form_shows_the_id_masked_and_the_full_number_only_through_the_audited_toggle(app_as, demo_db):
    from care.domain import ids

    engine = get_engine(str(demo_db["path"]))
    with reading(engine) as session:
        user = session.scalar(select(User).where(User.username == demo_db["accounts"]["admin"]["username"]))
        person = session.scalar(select(Person).where(Person.deleted.is_(False)).order_by(Person.id.desc()))
    at = app_as("admin")
    at.query_params["ref"] = person_ref(demo_db["path"], person.id)
    at.run()
    at.switch_page("pages/person.py").run()
    form = f"edit_person_{person.id}_{person.version}"
    field = at.text_input(key=f"{form}_id")
    assert field.value == ids.mask_id_number(person.id_number) != person.id_number
    shown = [str(c.value) for c in at.code] + [str(e.value) for e in at.text_input if (e.key or "").endswith("_id")]
    assert not any(person.id_number in text for text in shown)
    assert _full_id_events(demo_db, person.id) == 0
    # Saving another field leaves the number as it is.
    at.text_input(key=f"{form}_address").input("新地址 1 号")
    next(b for b in at.button if b.form_id == form).click().run()
    assert not at.exception
    with reading(engine) as session:
        after = session.get(Person, person.id)
    assert after.address == "新地址 1 号" and after.id_number == person.id_number
    # The toggle shows it, and the showing is recorded.
    at.toggle(key=f"full_id_{person.id}").set_value(True).run()
    assert person.id_number in "\n".join(str(c.value) for c in at.code)
    assert _full_id_events(demo_db, person.id) == 1
    assert user.role == "admin"


def test_a_place_clicked_on_the_picker_fills_the_forms_boxes_and_clearing_empties_them(app_as):
    at = app_as("township")
    at.run()
    at.switch_page("pages/person_new.py").run()
    assert "还没有位置：此人在地图上不显示" in "\n".join(c.value for c in at.caption)
    # What a click on the map hands over (the component itself does not run under AppTest).
    at.session_state["new_pending_place"] = (26.412345, 108.123456)
    at.run()
    assert at.number_input(key="new_lat").value == 26.412345
    assert at.number_input(key="new_lon").value == 108.123456
    assert "已选位置：纬度 26.412345，经度 108.123456" in "\n".join(c.value for c in at.caption)
    at.button(key="new_loc_clear").click().run()
    at.run()
    assert at.number_input(key="new_lat").value is None
    assert at.number_input(key="new_lon").value is None


def test_a_village_without_a_centre_is_named_and_the_picker_starts_near_it(app_as, demo_db):
    engine = get_engine(str(demo_db["path"]))
    with transaction(engine) as session:
        user = session.scalar(select(User).where(User.username == demo_db["accounts"]["township"]["username"]))
        village = session.scalar(
            select(Area).where(Area.level == "village", Area.code.startswith(user.area_code[:9])).order_by(Area.code)
        )
        code, name, saved = village.code, village.name, (village.lat, village.lon, village.boundary)
        village.lat = village.lon = village.boundary = None
    try:
        at = app_as("township")
        at.run()
        at.switch_page("pages/person_new.py").run()
        at.selectbox(key="new_loc_village").set_value(code).run()
        assert not at.exception
        assert f"{name}还没有中心位置" in _texts(at)
    finally:
        with transaction(engine) as session:
            area = session.get(Area, code)
            area.lat, area.lon, area.boundary = saved

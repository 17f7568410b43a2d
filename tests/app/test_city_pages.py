"""A city official's pages on a database of two counties: home ranks the counties, the register,
the map and the report read both, and nothing can be written."""

from __future__ import annotations

import datetime as dt

import pytest
import streamlit as st
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from care import auth
from care.demo.build import build_demo
from care.domain import clock, ids
from care.scope import Scope
from care.services.enrollments import enroll
from care.services.persons import create_person
from care.services.setup import add_county
from care.services.users import create_user_as_operator
from db.models import Area, User
from db.session import get_engine, reading, transaction
from tests.app.conftest import APP, _database

CITY, COUNTY_B, TOWN_B, VILLAGE_B = "522600000000", "522698000000", "522698101000", "522698101201"


@pytest.fixture(scope="module")
def city_db(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("city") / "city.db"
    engine = get_engine(str(path))
    build_demo(engine, residents=200, seed=7)
    with transaction(engine) as session:
        add_county(
            session,
            county_code=COUNTY_B,
            county_name="白水县",
            username="baishui_admin",
            password="Long-Secret-42b",
            city_name="青山州",
            province_name="演示省",
        )
        session.add(Area(code=TOWN_B, name="白水镇", level="township", parent_code=COUNTY_B, lat=27.0, lon=109.0))
        session.add(Area(code=VILLAGE_B, name="石桥村", level="village", parent_code=TOWN_B, lat=27.01, lon=109.01))
        session.flush()
        admin_id = session.scalar(select(User.id).where(User.username == "baishui_admin"))
        admin = Scope(admin_id, "baishui_admin", "admin", COUNTY_B)
        for serial in range(1, 6):
            body = f"522698{dt.date(1950, 1, serial):%Y%m%d}{serial * 2:03d}"
            person = create_person(
                session,
                admin,
                values={
                    "id_number": body + ids.check_digit(body),
                    "name": f"白水老人{serial}",
                    "village_code": VILLAGE_B,
                    "address": "石桥组",
                    "phone": "",
                    "lat": 27.01,
                    "lon": 109.01,
                },
            )
            enroll(
                session,
                admin,
                person_id=person.id,
                group="elderly",
                subtype="empty_nest",
                start_date=clock.today() - dt.timedelta(days=90),
                facts={"living_arrangement": "alone", "self_care": "full"},
            )
        create_user_as_operator(
            session,
            username="city_official",
            role="city",
            area_code=CITY,
            worker_id=None,
            password="Long-Secret-42c",
            must_change_password=False,
        )
    return path


@pytest.fixture
def city_app(city_db):
    with _database(city_db):
        engine = get_engine(str(city_db))
        with transaction(engine) as session:
            user = session.scalar(select(User).where(User.username == "city_official"))
            token = auth.start_session(session, user=user)
        at = AppTest.from_file(APP, default_timeout=90)
        at.session_state["login_token"] = token
        yield at
        st.cache_data.clear()


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [s.value for s in at.subheader]
    return "\n".join(str(p) for p in parts)


def test_the_city_home_ranks_both_counties(city_app, city_db):
    at = city_app
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "各县本月缺口" in _texts(at)
    ranking = next(d.value for d in at.dataframe if "县" in d.value.columns)
    assert set(ranking["县"]) == {"青山县（演示）", "白水县"}
    with reading(get_engine(str(city_db))) as session:
        assert session.get(Area, "522699000000").parent_code == CITY


def test_the_city_register_picks_a_county_first_and_lists_both(city_app):
    at = city_app
    at.run()
    at.switch_page("pages/registers.py").run()
    assert not at.exception, [e.value for e in at.exception]
    county = next(s for s in at.selectbox if s.key == "reg_county")
    assert set(county.options) >= {"青山县（演示）", "白水县"}
    county.set_value(COUNTY_B).run()
    assert not at.exception, [e.value for e in at.exception]
    names = "\n".join(str(v) for d in at.dataframe for v in d.value.to_numpy().ravel())
    assert "白水老人1" in names
    assert "新增" not in [b.label for b in at.button]


@pytest.mark.parametrize("page", ["pages/map.py", "pages/reports.py", "pages/needs.py", "pages/services.py"])
def test_the_city_pages_open_without_error(city_app, page):
    at = city_app
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]


def test_the_city_report_has_one_row_per_county(city_app):
    at = city_app
    at.run()
    at.switch_page("pages/reports.py").run()
    assert not at.exception, [e.value for e in at.exception]
    values = "\n".join(str(v) for d in at.dataframe for v in d.value.to_numpy().ravel())
    assert "白水县" in values and "青山县（演示）" in values


@pytest.mark.parametrize("page", ["pages/policy.py", "pages/admin.py", "pages/person_new.py", "pages/imports.py"])
def test_the_city_official_cannot_open_a_writing_page(city_app, page):
    at = city_app
    at.run()
    at.switch_page(page).run()
    shown = _texts(at) + "\n".join(e.value for e in at.error) + "\n".join(w.value for w in at.warning)
    assert "无权" in shown or "没有权限" in shown or "not allowed" in shown.lower(), shown[:500]

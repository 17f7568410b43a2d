"""Empty pages say what to do: no visits counted in the month (who records them), nobody on the
registers yet (who imports them), no register row matching the filters (loosen them)."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import text

from db.session import get_engine, transaction


def _sql(db: dict, statement: str) -> None:
    with transaction(get_engine(str(db["path"]))) as session:
        session.execute(text(statement))


def _infos(at) -> list[str]:
    return [i.value for i in at.info]


def test_a_month_without_a_visit_says_who_records_them(own_app_as, own_demo_db):
    at = own_app_as("county")
    at.run()
    at.switch_page("pages/reports.py").run()
    month = at.selectbox(key="rpt_month").value
    assert not any("还没有计入任何巡访" in i for i in _infos(at)), "the demo county has visits this month"
    _sql(own_demo_db, "UPDATE visits SET visited_at = '2001-01-01 10:00:00'")
    st.cache_data.clear()  # the page keeps a month's report for 15 minutes
    at = own_app_as("county")
    at.run()
    at.switch_page("pages/reports.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(i.startswith(f"{month} 还没有计入任何巡访") and "我的巡访" in i for i in _infos(at))


def test_a_register_filter_matching_nobody_says_to_loosen_it(own_app_as):
    at = own_app_as("township")
    at.run()
    at.switch_page("pages/registers.py").run()
    at.text_input(key="reg_text").input("查无此人的名字").run()
    assert not at.exception
    assert "没有符合条件的对象。请放宽或清除上面的筛选条件。" in _infos(at)


def test_empty_registers_say_who_imports_them(own_app_as, own_demo_db):
    _sql(own_demo_db, "UPDATE persons SET deleted = 1")
    for role in ("admin", "township"):  # both may import the rosters of their area
        at = own_app_as(role)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert any(i.startswith("辖区内还没有在册对象。可在“导入”页导入名册") for i in _infos(at)), role
        assert "去导入名册" in [link.label for link in at.get("page_link")]
    county = own_app_as("county")  # reads only: told whom to ask
    county.run()
    assert any("请与他们联系" in i for i in _infos(county))
    assert "去导入名册" not in [link.label for link in county.get("page_link")]
    county.switch_page("pages/registers.py").run()
    assert any(i.startswith("辖区内还没有在册对象") for i in _infos(county))

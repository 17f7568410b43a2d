"""The home page's worklist: each figure is a link to the register filtered to exactly that list."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from care.auth import scope_of
from care.domain import clock
from care.queries.registers import WORKLISTS, RegisterFilter, register_count
from db.models import User
from db.session import get_engine, reading


def _scope(db, role):
    with reading(get_engine(str(db["path"]))) as session:
        user = session.scalar(select(User).where(User.username == db["accounts"][role]["username"]))
        return scope_of(user)


def test_the_supervisors_home_lists_each_worklist_with_its_count(app_as, demo_db):
    at = app_as("township")
    at.run()
    assert not at.exception
    with reading(get_engine(str(demo_db["path"]))) as session:
        scope = _scope(demo_db, "township")
        counts = {n: register_count(session, scope, RegisterFilter(worklist=n), clock.today()) for n in WORKLISTS}
    links = {link.label: link for link in at.get("page_link")}
    for name, label in (("overdue", "巡访已逾期的对象"), ("high_risk_no_plan", "尚无生效服务计划的高风险对象")):
        assert label in links
        assert f"**{counts[name]:,}**" in [m.value for m in at.markdown]
    assert "待办清单" in [s.value for s in at.subheader]


@pytest.mark.parametrize("name", WORKLISTS)
def test_a_worklist_opens_the_register_with_exactly_its_persons(app_as, demo_db, name):
    at = app_as("township")
    at.query_params["list"] = name
    at.run()
    at.switch_page("pages/registers.py").run()
    assert not at.exception, [e.value for e in at.exception]
    with reading(get_engine(str(demo_db["path"]))) as session:
        expected = register_count(session, _scope(demo_db, "township"), RegisterFilter(worklist=name), clock.today())
    caption = next(c.value for c in at.caption if c.value.startswith("共 "))
    assert caption.startswith(f"共 {expected:,} 人")
    assert any("正在查看清单" in i.value for i in at.info)


def test_an_unknown_list_in_the_address_is_ignored(app_as, demo_db):
    at = app_as("township")
    at.query_params["list"] = "{{7*7}}<script>"
    at.run()
    at.switch_page("pages/registers.py").run()
    assert not at.exception
    assert not any("正在查看清单" in i.value for i in at.info)


def test_the_coordinators_home_shows_today_and_this_week_with_a_link_to_my_visits(app_as, demo_db):
    from care.queries.visits import my_week

    at = app_as("coordinator")
    at.run()
    at.switch_page("pages/home.py").run()  # a coordinator lands on 我的巡访 first
    assert not at.exception, [e.value for e in at.exception]
    with reading(get_engine(str(demo_db["path"]))) as session:
        week = my_week(session, _scope(demo_db, "coordinator"), clock.today())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["本周待访"] == f"{week.count('due') + week.count('overdue'):,}"
    assert metrics["其中已逾期"] == f"{week.count('overdue'):,}"
    assert any(link.label == "去我的巡访" for link in at.get("page_link"))
    assert not any(s.value == "待办清单" for s in at.subheader), "a coordinator's home is their week"


def test_the_home_counts_by_group_carry_thousands_separators(app_as):
    at = app_as("county")
    at.run()
    table = next(d for d in at.dataframe if "在册" in d.value.columns)
    import json

    config = json.loads(table.proto.columns)
    assert {config[c]["type_config"]["format"] for c in ("在册", "高风险", "逾期")} == {"localized"}


def _vega_charts(at):
    found = []

    def walk(node):
        if getattr(node, "type", "") == "vega_lite_chart":
            found.append(node)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found


def test_the_county_report_opens_on_a_map_of_the_townships_coloured_by_the_tables_figure(app_as, demo_db):
    import json as _json

    from care.queries.reports import month_report

    at = app_as("county")
    at.run()
    at.switch_page("pages/reports.py").run()
    assert not at.exception, [e.value for e in at.exception]
    month = at.selectbox(key="rpt_month").value
    with reading(get_engine(str(demo_db["path"]))) as session:
        report = month_report(session, _scope(demo_db, "county"), month=month, area_code=None, today=clock.today())
    charts = [_json.loads(c.proto.spec) for c in _vega_charts(at)]
    maps = [c for c in charts if c.get("mark", {}).get("type") == "geoshape"]
    assert maps, "the overview draws the townships"
    values = {f["properties"]["code"]: f["properties"]["value"] for f in maps[0]["data"]["values"]}
    expected = {
        r["area_code"]: round(r["visit_rate"] * 100, 1)
        for r in report.by_area.to_dict("records")
        if r["visit_rate"] == r["visit_rate"]
    }
    assert values and {k: v for k, v in values.items() if v is not None} == expected


def test_the_visits_tab_shows_days_since_the_last_visit_and_the_chart_adds_up_to_the_table(app_as, demo_db):
    import json as _json

    import pyarrow as pa

    from care.queries.reports import days_since_visit

    at = app_as("township")
    at.run()
    at.switch_page("pages/reports.py").run()
    assert not at.exception, [e.value for e in at.exception]
    with reading(get_engine(str(demo_db["path"]))) as session:
        frame = days_since_visit(session, _scope(demo_db, "township"), area_code=None, today=clock.today())
    (chart,) = [c for c in _vega_charts(at) if _json.loads(c.proto.spec).get("title") == "距上次巡访的天数"]
    drawn = pa.ipc.open_stream(chart.proto.data.data).read_pandas()
    assert int(drawn["enrollments"].sum()) == int(frame["enrollments"].sum()) > 0
    (table,) = [d.value for d in at.dataframe if "距上次巡访" in d.value.columns]
    assert int(table[["儿童", "老年人", "残疾人"]].to_numpy().sum()) == int(frame["enrollments"].sum())
    by_bucket = drawn.groupby("bucket", sort=False)["enrollments"].sum()
    assert [int(by_bucket[b]) for b in table["距上次巡访"]] == table[["儿童", "老年人", "残疾人"]].sum(axis=1).tolist()
    assert list(table["距上次巡访"])[-1] == "从未巡访"


def test_the_reports_trend_charts_draw_the_figures_of_the_trends_table(app_as, demo_db):
    import json as _json

    import pyarrow as pa

    from care.queries.reports import trends

    at = app_as("county")
    at.run()
    at.switch_page("pages/reports.py").run()
    at.button(key="rpt_trends_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    month = at.selectbox(key="rpt_month").value
    with reading(get_engine(str(demo_db["path"]))) as session:
        table = trends(session, _scope(demo_db, "county"), month=month, area_code=None, today=clock.today())
    lines = [c for c in _vega_charts(at) if _json.loads(c.proto.spec).get("mark", {}).get("type") == "line"]
    assert len(lines) == 1
    frame = pa.ipc.open_stream(lines[0].proto.data.data).read_pandas()
    drawn = {(r["month"], r["group"]): None if r["rate"] != r["rate"] else r["rate"] for r in frame.to_dict("records")}
    labels = {"child": "儿童", "elderly": "老年人", "disabled": "残疾人", "all": "合计"}
    expected = {
        (r["month"], labels[r["group"]]): None if r["rate"] != r["rate"] else round(r["rate"] * 100, 1)
        for r in table.to_dict("records")
    }
    assert drawn == expected and len({m for m, _ in drawn}) == 12
    assert any(v for v in drawn.values())


def test_the_county_home_ranks_its_townships_and_their_figures_add_up_to_the_county(app_as, demo_db):
    from care.queries.home import SHORTFALLS, home_summary
    from care.queries.registers import area_options

    at = app_as("county")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "各乡镇本月缺口" in [s.value for s in at.subheader]
    table = next(d.value for d in at.dataframe if "乡镇" in d.value.columns)
    scope = _scope(demo_db, "county")
    with reading(get_engine(str(demo_db["path"]))) as session:
        summary = home_summary(session, scope, clock.today())
        townships = area_options(session, scope).query("level == 'township'")
    # Every township that holds persons is there once, worst first.
    assert sorted(table["乡镇"]) == sorted(townships["name"])
    ranks = [tuple(getattr(a, f) for f in SHORTFALLS) for a in summary.areas]
    assert ranks == sorted(ranks, reverse=True) and len(set(ranks)) > 1
    assert table["乡镇"].tolist() == [a.name for a in summary.areas]
    # The county's own figures are the townships' sums.
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["逾期未巡访（条）"] == f"{int(table['当前逾期'].sum()):,}" == f"{summary.overdue:,}"
    assert metrics["未分配责任人（条）"] == f"{int(table['无人负责'].sum()):,}"
    assert metrics["在册对象（人）"] == f"{int(table['在册人数'].sum()):,}"
    assert summary.overdue > 0


def test_a_township_supervisors_home_ranks_the_villages_and_a_coordinators_has_no_ranking(app_as, demo_db):
    at = app_as("township")
    at.run()
    assert "各村本月缺口" in [s.value for s in at.subheader]
    coordinator = app_as("coordinator")
    coordinator.run()
    coordinator.switch_page("pages/home.py").run()
    assert not coordinator.exception
    assert not any("本月缺口" in s.value for s in coordinator.subheader)


def test_an_area_in_the_address_opens_the_register_there_and_only_the_users_own(app_as, demo_db):
    from care.queries.registers import area_options

    county, township = _scope(demo_db, "county"), _scope(demo_db, "township")
    with reading(get_engine(str(demo_db["path"]))) as session:
        mine = area_options(session, township).query("level == 'township'")["code"].item()
        other = area_options(session, county).query("level == 'township' and code != @mine")["code"].iloc[0]
        expected = register_count(session, county, RegisterFilter(worklist="overdue", area_code=mine), clock.today())
    at = app_as("county")
    at.query_params["list"] = "overdue"
    at.query_params["area"] = mine
    at.run()
    at.switch_page("pages/registers.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="reg_township").value == mine
    assert next(c.value for c in at.caption if c.value.startswith("共 ")).startswith(f"共 {expected:,} 人")
    # A township supervisor handed another township's code sees their own register, unfiltered by it.
    at = app_as("township")
    at.query_params["area"] = other
    at.run()
    at.switch_page("pages/registers.py").run()
    assert not at.exception
    assert at.selectbox(key="reg_township").value is None


def test_the_county_home_lists_the_needs_waiting_longest_and_links_to_all(app_as, demo_db):
    from care.queries.needs import needs_list

    at = app_as("county")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    with reading(get_engine(str(demo_db["path"]))) as session:
        everything = needs_list(session, _scope(demo_db, "county"), clock.today())
    assert len(everything) > 5, "the demo county has open needs"
    table = next(d.value for d in at.dataframe if "已等待（天）" in d.value.columns)
    assert table["姓名"].tolist() == everything["name"].head(5).tolist()
    assert table["已等待（天）"].tolist() == everything["days_open"].head(5).tolist()
    assert table["已等待（天）"].is_monotonic_decreasing
    assert any(c.value.startswith(f"共 {len(everything):,} 条未办结") for c in at.caption)
    assert "查看全部需求" in [link.label for link in at.get("page_link")]
    township = app_as("township")  # the demo township has none open
    township.run()
    assert "辖区内没有未办结的需求。" in [s.value for s in township.success]


def test_without_imported_outlines_the_report_map_draws_the_villages_cells(own_app_as, own_demo_db):
    import json as _json

    import streamlit as st
    from sqlalchemy import text

    from db.session import transaction

    with transaction(get_engine(str(own_demo_db["path"]))) as session:
        session.execute(text("UPDATE areas SET boundary = NULL"))
    st.cache_data.clear()
    at = own_app_as("county")
    at.run()
    at.switch_page("pages/reports.py").run()
    assert not at.exception, [e.value for e in at.exception]
    maps = [_json.loads(c.proto.spec) for c in _vega_charts(at)]
    maps = [m for m in maps if m.get("mark", {}).get("type") == "geoshape"]
    assert maps, "the townships are drawn from their villages' cells"
    features = maps[0]["data"]["values"]
    with reading(get_engine(str(own_demo_db["path"]))) as session:
        townships = session.execute(text("SELECT count(*) FROM areas WHERE level = 'township'")).scalar()
    assert len(features) == townships
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in features)
    assert any(c.value.startswith(f"其中 {townships} 个区域尚未导入边界") for c in at.caption)
    assert not any("尚未导入这些区域的边界" in i.value for i in at.info)

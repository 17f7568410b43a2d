"""The 统计报表 page in AppTest: figures per role, drill-down, lists, exports and their audit."""

from __future__ import annotations

from sqlalchemy import select

from db.models import AuditEvent
from db.session import get_engine, reading

PAGE = "pages/reports.py"


def _open(app_as, role):
    at = app_as(role)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _exports(demo_db) -> list[AuditEvent]:
    with reading(get_engine(str(demo_db["path"]))) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action.like("export.%"))))


def test_the_county_sees_its_figures_tables_and_lists(app_as):
    at = _open(app_as, "county")
    assert [t.value for t in at.title] == ["统计报表"]
    metrics = _metrics(at)
    assert set(metrics) >= {"在册人数", "月探访率（合计）", "按时率", "当前逾期", "康复服务覆盖率"}
    assert int(metrics["在册人数"].replace(",", "")) > 0
    assert metrics["月探访率（合计）"].endswith("%")
    by_area = at.dataframe[0].value
    assert "区域" in by_area.columns and len(by_area) >= 2  # one row per township
    assert at.selectbox(key="rpt_list_all").value == "listed"


def test_picking_a_list_shows_it_with_masked_id_numbers(app_as):
    at = _open(app_as, "county")
    at.selectbox(key="rpt_list_all").set_value("overdue").run()
    assert not at.exception
    shown = next(d.value for d in at.dataframe if "公民身份号码" in d.value.columns)
    assert len(shown) > 0
    assert shown["公民身份号码"].str.fullmatch(r"\d{6}\*{8}[\dX]{4}").all()


def test_drilling_down_to_a_township_shows_its_villages(app_as):
    at = _open(app_as, "county")
    county_persons = int(_metrics(at)["在册人数"].replace(",", ""))
    at.selectbox(key="rpt_township").set_value("522699101000").run()
    assert not at.exception
    township = at.selectbox(key="rpt_township").options[1]  # its label
    villages = at.dataframe[0].value
    assert township not in set(villages["区域"])  # rows are now the township's villages
    assert len(villages) == len(at.selectbox(key="rpt_village").options) - 1
    assert 0 < int(_metrics(at)["在册人数"].replace(",", "")) < county_persons


def test_a_township_supervisor_sees_only_their_township(app_as):
    at = _open(app_as, "township")
    assert len(at.selectbox(key="rpt_township").options) == 2  # all, and their own
    assert not at.toggle  # no unmasked export for a township


def test_building_the_workbook_records_the_export(app_as, demo_db):
    before = len(_exports(demo_db))
    at = _open(app_as, "county")
    at.button(key="rpt_build_xlsx").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("审计日志" in s.value for s in at.success)
    events = _exports(demo_db)
    assert len(events) == before + 1
    assert events[-1].action == "export.xlsx" and events[-1].detail["masked"] is True


def test_an_unmasked_export_without_a_reason_is_refused(app_as, demo_db):
    before = len(_exports(demo_db))
    at = _open(app_as, "county")
    at.toggle(key="rpt_unmasked").set_value(True).run()
    at.button(key="rpt_build_xlsx").click().run()
    assert any("理由" in e.value for e in at.error)
    assert len(_exports(demo_db)) == before
    at.text_input(key="rpt_reason").input("省民政厅核查").run()
    at.button(key="rpt_build_xlsx").click().run()
    events = _exports(demo_db)
    assert len(events) == before + 1 and events[-1].detail["masked"] is False
    assert events[-1].detail["reason"] == "省民政厅核查"


def test_trends_are_computed_on_request(app_as):
    at = _open(app_as, "county")
    at.button(key="rpt_trends_button").click().run()
    assert not at.exception
    months = next(d.value for d in at.dataframe if "月份" in d.value.columns)
    assert months["月份"].nunique() == 12


def test_the_page_speaks_english_when_switched(app_as):
    at = app_as("county")
    at.session_state["lang"] = "en"
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Reports"]
    assert "Monthly visit rate (all)" in _metrics(at)

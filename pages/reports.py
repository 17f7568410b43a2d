"""Reports (统计报表): a month's figures for an area, the lists behind them, trends and exports."""

from __future__ import annotations

import streamlit as st

import ui
from care.queries.reports import report_areas
from ui import reports_view as view

scope = ui.require_page("reports")
st.title(ui.t("report.title"))

with ui.read() as session:
    areas = report_areas(session, scope)
row = st.columns([1] + [2] * ui.picker_columns(areas))
month = view.month_picker(row[0])
area = view.area_choice(scope, areas, row[1:])
report = view.load(scope, month, area)
if report is None:
    st.stop()
if report.kpis["enrollments_listed"] == 0:
    st.info(ui.t("report.no_data"), icon=":material/info:")
elif not report.kpis["visit_rate"]:
    # Persons listed and not one visit counted: say who records them rather than show zeros.
    st.info(ui.t("report.no_visits", month=report.month.label), icon=":material/directions_walk:")
view.headline(report)
st.caption(ui.t("report.masked_note"))

tabs = st.tabs(
    [
        ui.t("report.tab_overview"),
        ui.t("report.tab_registers"),
        ui.t("report.tab_visits"),
        ui.t("report.tab_needs"),
        ui.t("report.tab_rehab"),
        ui.t("report.tab_quality"),
        ui.t("report.tab_households"),
        ui.t("report.tab_services"),
        ui.t("report.tab_trends"),
        ui.t("report.tab_exports"),
    ]
)
with tabs[0]:
    st.subheader(ui.t("report.map_title"))
    view.area_map(scope, report)
    st.subheader(ui.t("report.by_area_title"))
    view.table(report.by_area)
    st.subheader(ui.t("report.pdf_rates"))
    view.rate_chart(report)
    view.list_picker(scope, report, view.all_lists(), "all")
with tabs[1]:
    view.table(report.registers)
    view.table(report.movement)
    view.list_picker(scope, report, ("listed", "new", "exited"), "registers")
with tabs[2]:
    view.table(report.visit_rates)
    view.visit_age_section(scope, area)
    view.list_picker(scope, report, ("not_visited", "late", "overdue", "high_risk_unvisited", "unassigned"), "visits")
with tabs[3]:
    view.table(report.needs_open)
    view.table(report.needs_resolved)
    view.list_picker(scope, report, ("needs_open", "needs_resolved"), "needs")
with tabs[4]:
    st.caption(ui.t("report.rehab_definition"))
    view.rehab_table(report)
    view.list_picker(scope, report, ("rehab",), "rehab")
with tabs[5]:
    view.table(report.quality)
    view.list_picker(
        scope, report, ("no_coordinates", "bad_id", "aged_out", "never_visited", "idle_workers"), "quality"
    )
with tabs[6]:
    view.households_section(scope, area)
with tabs[7]:
    view.services_section(scope, report, area)
with tabs[8]:
    view.trends_section(scope, report)
with tabs[9]:
    view.exports(scope, report)
with st.expander(ui.t("report.definitions_title")):
    st.markdown(ui.md(ui.t("report.definitions")))

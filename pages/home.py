"""Home: the user's registers at a glance and what needs attention now."""

from __future__ import annotations

import streamlit as st

import ui
from care.queries.home import home_page
from care.queries.registers import WORKLISTS
from ui.home_view import area_ranking, needs_waiting

scope = ui.require_page("home")
st.title(ui.t("home.title"))

with ui.read() as session:
    page = home_page(session, scope, ui.today())
summary, week, ageing_out = page.summary, page.week, page.ageing_out
orders_overdue, plans_waiting = page.orders_overdue, page.plans_waiting
worklist = summary.worklist if scope.role != "coordinator" else {}

if summary.persons == 0:
    # Nothing on the registers in the user's area yet: say how it gets there.
    st.info(ui.t("home.empty_import" if scope.may_open("imports") else "home.empty"), icon=":material/person_add:")
    if scope.may_open("imports"):
        st.page_link("pages/imports.py", label=ui.t("home.go_imports"), icon=":material/upload_file:")
    if scope.may_open("person_new"):
        st.page_link("pages/person_new.py", label=ui.t("home.go_person_new"), icon=":material/person_add:")

cols = st.columns(6)
figures = [
    ("home.persons", summary.persons),
    ("home.overdue", summary.overdue),
    ("home.due_soon", summary.due_soon),
    ("home.high_risk", summary.high_risk),
    ("home.unassigned", summary.unassigned),
    ("home.never_visited", summary.never_visited),
]
for col, (key, value) in zip(cols, figures, strict=True):
    col.metric(ui.t(key), f"{value:,}")
st.caption(ui.t("home.as_of", day=ui.today().isoformat()))

if not scope.assigned_only:
    if summary.overdue:
        st.warning(
            ui.t("home.alert_overdue", n=f"{summary.overdue:,}", persons=f"{summary.overdue_persons:,}"),
            icon=":material/schedule:",
        )
    if summary.unassigned:
        st.warning(ui.t("home.alert_unassigned", n=f"{summary.unassigned:,}"), icon=":material/person_off:")
        if scope.may_open("assignments"):
            st.page_link("pages/assignments.py", label=ui.t("home.go_assign"), icon=":material/group_work:")
    if summary.overdue:
        st.page_link(
            "pages/registers.py",
            label=ui.t("home.go_overdue"),
            icon=":material/checklist:",
            query_params={"list": "overdue"},
        )
    if summary.overdue and scope.may_open("schedule"):
        st.page_link("pages/schedule.py", label=ui.t("home.go_schedule"), icon=":material/calendar_month:")

if week is not None:
    st.subheader(ui.t("home.my_week", start=week.start.isoformat(), end=week.end.isoformat()))
    today_stops = sum(1 for p in week.persons if p.planned_day == ui.today() and p.state != "done")
    tiles = [
        ("home.today", today_stops),
        ("home.week_due", week.count("due") + week.count("overdue")),
        ("home.week_overdue", week.count("overdue")),
        ("home.week_done", week.count("done")),
    ]
    for col, (key, value) in zip(st.columns(len(tiles)), tiles, strict=True):
        col.metric(ui.t(key), f"{value:,}")
    st.page_link("pages/my_visits.py", label=ui.t("home.go_my_visits"), icon=":material/directions_walk:")

late_orders = orders_overdue and scope.can("order.update")
waiting = plans_waiting and scope.can("plan.approve")
if late_orders:
    st.warning(ui.t("home.alert_orders", n=f"{orders_overdue:,}"), icon=":material/alarm:")
if waiting:
    st.info(ui.t("home.alert_plans", n=f"{plans_waiting:,}"), icon=":material/assignment:")
if (late_orders or waiting) and scope.may_open("services"):
    st.page_link("pages/services.py", label=ui.t("home.go_services"), icon=":material/volunteer_activism:")

if worklist:
    st.subheader(ui.t("home.worklist"))
    st.caption(ui.t("home.worklist_help"))
    for name in WORKLISTS:
        left, right = st.columns([3, 1])
        left.page_link(
            "pages/registers.py",
            label=ui.t(f"home.list.{name}"),
            icon=":material/checklist:",
            query_params={"list": name},
            disabled=not worklist[name],
        )
        right.markdown(f"**{worklist[name]:,}**")

if summary.areas and not scope.assigned_only:
    area_ranking(scope, summary.areas)

if page.needs_waiting is not None:
    needs_waiting(page.needs_waiting, page.needs_open)

st.subheader(ui.t("home.by_group"))
table = summary.by_group.assign(group=summary.by_group["group"].map(lambda g: ui.label("group", g)))
st.dataframe(
    table.rename(
        columns={
            "group": ui.t("home.col_group"),
            "enrolled": ui.t("home.col_enrolled"),
            "high_risk": ui.t("home.col_high_risk"),
            "overdue": ui.t("home.col_overdue"),
        }
    ),
    hide_index=True,
    column_config={ui.t(f"home.col_{c}"): ui.COUNT_COLUMN for c in ("enrolled", "high_risk", "overdue")},
)

if ageing_out is not None:
    st.subheader(ui.t("home.age_out_title"))
    st.caption(ui.t("home.age_out_help"))
    if ageing_out.empty:
        st.info(ui.t("home.age_out_none"))
    else:
        shown = ageing_out.assign(subtype=ageing_out["subtype"].map(lambda s: ui.label("subtype", s)))
        view = shown[["name", "village", "subtype", "age", "limit", "ages_out_on"]].rename(
            columns={
                "name": ui.t("column.name"),
                "village": ui.t("column.village"),
                "subtype": ui.t("form.subtype"),
                "age": ui.t("column.age"),
                "limit": ui.t("home.col_age_limit"),
                "ages_out_on": ui.t("home.col_ages_out_on"),
            }
        )
        picked = st.dataframe(view, hide_index=True, on_select="rerun", selection_mode="single-row", key="age_out")
        rows = picked.selection.rows if picked else []
        if rows and st.button(ui.t("register.open"), key="age_out_open"):
            ui.open_person(int(ageing_out.iloc[rows[0]]["person_id"]))

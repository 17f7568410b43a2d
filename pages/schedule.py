"""Patrol schedules (巡访排班): each worker's week of visits, spread over days and routed."""

from __future__ import annotations

import streamlit as st

import ui
from care.queries.assignments import workers
from ui import assignments_view, forms, schedule_view

scope = ui.require_page("schedule")
st.title(ui.t("schedule.title"))
with st.container():  # messages come and go; the tabs below keep their place
    forms.show_flash()
monday = schedule_view.week_picker("sched_week")

if scope.role == "coordinator":
    if scope.worker_id is None:
        st.info(ui.t("error.no_scope"))
    else:
        schedule_view.worker_week(scope, scope.worker_id, monday)
    st.stop()

overview, one = st.tabs([ui.t("schedule.tab_overview"), ui.t("schedule.tab_worker")])
with overview:
    schedule_view.township_overview(scope, monday)
with one:
    with ui.read() as session:
        staff = workers(session, scope, active_only=True)
    ids = [int(w) for w in staff["worker_id"]]
    if not ids:
        st.info(ui.t("assignment.no_workers"))
        st.stop()
    if st.session_state.get("sched_worker_pick") not in ids:
        st.session_state.pop("sched_worker_pick", None)
    worker_id = st.selectbox(
        ui.t("schedule.worker"), ids, format_func=assignments_view.worker_label(staff), key="sched_worker_pick"
    )
    schedule_view.worker_week(scope, int(worker_id), monday)

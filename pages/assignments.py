"""Assignments (服务分配): caseloads per worker, assigning and moving enrollments, the unassigned list."""

from __future__ import annotations

import streamlit as st

import ui
from care.queries.assignments import unassigned_count
from ui import assignments_view, forms

scope = ui.require_page("assignments")
st.title(ui.t("assignment.title"))
with ui.read() as session:
    nobody = unassigned_count(session, scope, ui.today())
# One container for the messages that come and go, so the tabs below keep their place (and the
# tab the user is on) from one rerun to the next.
with st.container():
    forms.show_flash()
    if nobody:
        st.warning(ui.t("home.alert_unassigned", n=f"{nobody:,}"), icon=":material/person_off:")

caseload, assign, move, unassigned = st.tabs(
    [
        ui.t("assignment.tab_caseload"),
        ui.t("assignment.tab_assign"),
        ui.t("assignment.tab_move"),
        ui.t("assignment.tab_unassigned", n=f"{nobody:,}"),
    ]
)
with caseload:
    assignments_view.caseload_table(scope)
with assign:
    st.caption(ui.t("assignment.assign_help"))
    assignments_view.assign_panel(scope, unassigned_only=False, key="asg")
with move:
    assignments_view.move_panel(scope)
with unassigned:
    assignments_view.assign_panel(scope, unassigned_only=True, key="una")

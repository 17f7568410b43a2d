"""需求转介: needs found on visits or in person files, oldest open first, moved to resolved."""

from __future__ import annotations

import streamlit as st

import ui
from care.domain import enums
from care.queries.needs import OPEN_STATUSES, needs_list
from ui import forms
from ui import needs as view

scope = ui.require_page("needs")
st.title(ui.t("nav.needs"))
forms.show_flash()
which = st.segmented_control(
    ui.t("needs.show"),
    ["open", "all"],
    default="open",
    format_func=lambda v: ui.t(f"needs.show.{v}"),
    key="needs_show",
)
kind = st.selectbox(
    ui.t("form.kind"), [None, *enums.NEED_KINDS], format_func=ui.labeller("need_kind"), key="needs_kind"
)
statuses = OPEN_STATUSES if which != "all" else enums.NEED_STATUSES
with ui.read() as session:
    rows = needs_list(session, scope, ui.today(), statuses=statuses, kind=kind)
st.caption(ui.t("needs.count", n=len(rows)))
if rows.empty:
    st.info(ui.t("needs.none"))
    st.stop()
view.table(rows)
if scope.can("need.update"):
    st.subheader(ui.t("needs.move_title"))
    view.move_form(scope, rows)

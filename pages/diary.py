"""民情日记: a worker's diary of what was heard and done, searched by supervisors, and the worker's timeline."""

from __future__ import annotations

import streamlit as st

import ui
from ui import diary_view, forms

scope = ui.require_page("diary")
st.title(ui.t("diary.title"))
st.caption(ui.t("diary.help"))
forms.show_flash()

staff = diary_view.workers(scope)
tabs = {}
if scope.can("diary.write"):
    tabs["write"] = "diary.tab_write"
tabs["entries"] = "diary.tab_mine" if scope.assigned_only else "diary.tab_search"
tabs["timeline"] = "diary.tab_timeline"
shown = dict(zip(tabs, st.tabs([ui.t(k) for k in tabs.values()]), strict=True))
if "write" in shown:
    with shown["write"]:
        diary_view.write_tab(scope, staff)
with shown["entries"]:
    diary_view.entries_tab(scope, staff)
with shown["timeline"]:
    diary_view.timeline_tab(scope, staff)

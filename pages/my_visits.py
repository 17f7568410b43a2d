"""我的巡访: this week's due and overdue visits of the coordinator, in route order, on a phone."""

from __future__ import annotations

import streamlit as st

import ui
from care.queries.visits import HouseholdItem, my_week
from ui.visit_form import card, household_card, show_flash
from ui.visit_pack import pack_section

# Cards drawn at once; more on request (a week can hold over a hundred persons).
PAGE = 20

scope = ui.require_page("my_visits")
st.title(ui.t("nav.my_visits"))
show_flash()
today = ui.today()
with ui.read() as session:
    week = my_week(session, scope, today)
st.caption(ui.t("my_visits.week", start=week.start.isoformat(), end=week.end.isoformat()))
if scope.worker_id is None:
    st.info(ui.t("my_visits.no_worker"))
    st.stop()
st.markdown(
    ui.t(
        "my_visits.counts",
        overdue=week.count("overdue"),
        due=week.count("due"),
        not_met=week.count("not_met"),
        done=week.count("done"),
    )
)
pack_section(scope)
show = st.segmented_control(
    ui.t("my_visits.show"),
    ["todo", "all"],
    default="todo",
    format_func=lambda v: ui.t(f"my_visits.show.{v}"),
    key="my_visits_show",
)
items = [i for i in week.items if show == "all" or i.state != "done"]
if not items:
    st.success(ui.t("my_visits.nothing_left") if week.items else ui.t("my_visits.nothing_due"))
shown = int(st.session_state.get("my_visits_shown", PAGE))
for item in items[:shown]:
    if isinstance(item, HouseholdItem):
        household_card(scope, item, today)
    else:
        card(scope, item, today)
if len(items) > shown:
    st.button(
        ui.t("my_visits.more", n=len(items) - shown),
        width="stretch",
        on_click=lambda: st.session_state.update(my_visits_shown=shown + PAGE),
    )

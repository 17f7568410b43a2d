"""Parts of the home page: the areas below the user's, ranked by what they are short of this month."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

import ui
from care.domain import areas as area_codes
from care.queries.home import AreaFigures
from care.scope import Scope

COUNT = ui.COUNT_COLUMN
ROW_PX = 35  # a table row's height: the ranking shows every area without its own scroll


def ranking_frame(ranked: Sequence[AreaFigures]) -> pd.DataFrame:
    """The ranking as the page's table: one row per area, worst first, the month's share visited
    (in percent)."""
    return pd.DataFrame(
        {
            "name": [a.name for a in ranked],
            "overdue": [a.overdue for a in ranked],
            "high_risk_unvisited": [a.high_risk_unvisited for a in ranked],
            "unassigned": [a.unassigned for a in ranked],
            "not_visited": [a.not_visited_this_month for a in ranked],
            "visited_share": [100 * a.visited_this_month / a.enrolled if a.enrolled else None for a in ranked],
            "enrolled": [a.enrolled for a in ranked],
            "persons": [a.persons for a in ranked],
        }
    )


def area_ranking(scope: Scope, ranked: Sequence[AreaFigures]) -> None:
    """Townships of a county (villages of a township) ranked by overdue visits, then high risk not
    visited this month, then unassigned; a row picked opens the register at that area's overdue list."""
    level = area_codes.level_of(ranked[0].code)
    st.subheader(ui.t(f"home.ranking.{level}"))
    st.caption(ui.t("home.ranking_help"))
    frame = ranking_frame(ranked)
    labels = {c: ui.t(f"home.ranking.col.{c}") for c in frame.columns}
    labels["name"] = ui.t(f"home.ranking.col.{level}")
    config = {labels[c]: (ui.PERCENT_COLUMN if c == "visited_share" else COUNT) for c in frame.columns if c != "name"}
    picked = st.dataframe(
        frame.rename(columns=labels),
        hide_index=True,
        column_config=config,
        on_select="rerun",
        selection_mode="single-row",
        key="home_ranking",
        height=ROW_PX * (len(frame) + 1) + 3 if len(frame) <= 40 else "auto",
    )
    rows = picked.selection.rows if picked else []
    if rows and scope.may_open("registers"):
        area = ranked[rows[0]]
        if st.button(ui.t("home.ranking_open", area=area.name), key="home_ranking_open", icon=":material/checklist:"):
            st.switch_page("pages/registers.py", query_params={"list": "overdue", "area": area.code})


def needs_waiting(rows: pd.DataFrame, open_count: int) -> None:
    """The open needs that have waited longest (oldest first), with a link to all of them."""
    st.subheader(ui.t("home.needs_title"))
    if rows.empty:
        st.success(ui.t("home.needs_none"), icon=":material/check_circle:")
        return
    st.caption(ui.t("home.needs_help", n=f"{open_count:,}"))
    view = pd.DataFrame(
        {
            ui.t("column.name"): rows["name"],
            ui.t("column.village"): rows["village"],
            ui.t("form.kind"): rows["kind"].map(lambda k: ui.label("need_kind", k)),
            ui.t("home.needs_col.status"): rows["status"].map(lambda s: ui.label("need_status", s)),
            ui.t("home.needs_col.days"): rows["days_open"],
        }
    )
    st.dataframe(view, hide_index=True, column_config={ui.t("home.needs_col.days"): COUNT})
    st.page_link("pages/needs.py", label=ui.t("home.go_needs"), icon=":material/support:")

"""Widgets of 巡访排班: one worker's week (days, routes, printable sheet) and a township's weeks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

import ui
from care import audit
from care.domain import schedule
from care.domain.errors import CareError
from care.files.schedule_sheet import members_line, sheet_html, sheet_pdf, stops_svg, weekday, what_to_check
from care.queries.schedule import WeekPlan, township_weeks, week_plan
from care.scope import Scope
from care.services.schedule import fix_day, generate_week
from ui import forms


def week_picker(key: str) -> dt.date:
    """A date picker that answers with the Monday of the chosen week (from Thursday: next week by default)."""
    today = ui.today()
    default = schedule.planning_week(today)
    day = st.date_input(
        ui.t("schedule.week"),
        value=default,
        key=key,
        format="YYYY-MM-DD",
        help=ui.t("schedule.week_help", this=schedule.week_start_of(today).isoformat()),
    )
    monday = schedule.week_start_of(day if isinstance(day, dt.date) else default)
    st.caption(ui.t("schedule.week_range", start=monday.isoformat(), end=(monday + dt.timedelta(days=4)).isoformat()))
    return monday


def _generate(scope: Scope, worker_id: int, monday: dt.date, seen: dict[dt.date, int] | None) -> None:
    def action() -> Any:
        with ui.write() as session:
            return generate_week(session, scope, worker_id=worker_id, week_start=monday, seen_versions=seen)

    forms.save(f"week_{worker_id}_{monday}", action, ui.t("schedule.generated"))


def _audited(scope: Scope, plan: WeekPlan, kind: str, build: Any) -> Any:
    """Build a sheet on click and record who printed whose week (the sheet names persons)."""

    def _build() -> Any:
        data = build(plan, ui.lang(), ui.today())
        with ui.write(changes_data=False) as session:
            audit.record(
                session,
                scope=scope,
                action="schedule.print",
                entity="worker",
                entity_id=plan.worker_id,
                detail={"week": plan.week_start.isoformat(), "format": kind, "stops": plan.stops},
            )
        return data

    return _build


def _stops_table(plan: WeekPlan, day_index: int) -> pd.DataFrame:
    stops = plan.days[day_index].stops
    return pd.DataFrame(
        {
            ui.t("schedule.col_seq"): [s.seq for s in stops],
            ui.t("column.name"): [members_line(s, ui.lang()) for s in stops],
            ui.t("schedule.col_address"): [f"{s.village} {s.address}" for s in stops],
            ui.t("column.groups"): [[ui.label("group", g) for g in s.groups] for s in stops],
            ui.t("column.risk"): [ui.label("risk", s.risk) for s in stops],
            ui.t("column.next_due"): [s.due_on for s in stops],
            ui.t("schedule.col_check"): [what_to_check(s, ui.lang(), ui.today()) for s in stops],
            ui.t("schedule.col_status"): [ui.label("visit_status", s.status) if s.status else "" for s in stops],
        }
    )


def _day(scope: Scope, plan: WeekPlan, index: int) -> None:
    day = plan.days[index]
    head = st.columns([4, 1])
    head[0].markdown(
        "**"
        + ui.md(f"{weekday(day.day, ui.lang())} {day.day:%m-%d}")
        + "** · "
        + ui.t("schedule.day_summary", n=len(day.stops), km=f"{day.distance_km:.1f}")
    )
    fixed = head[1].toggle(
        ui.t("schedule.fix_day"), value=day.fixed, key=f"fix_{plan.worker_id}_{day.day}_{day.version}"
    )
    if fixed != day.fixed:
        forms.save(
            f"day_{plan.worker_id}_{day.day}",
            lambda: _write(
                lambda s: fix_day(
                    s, scope, worker_id=plan.worker_id, day=day.day, fixed=fixed, seen_version=day.version
                )
            ),
            ui.t("schedule.fixed_saved" if fixed else "schedule.released_saved"),
        )
    if not day.stops:
        st.caption(ui.t("schedule.no_stops"))
        return
    cols = st.columns([1, 2])
    cols[0].image(stops_svg(plan.office, day.stops, ui.lang()), width="stretch")
    cols[1].dataframe(_stops_table(plan, index), hide_index=True)


def _write(action: Any) -> Any:
    with ui.write() as session:
        return action(session)


def worker_week(scope: Scope, worker_id: int, monday: dt.date) -> None:
    """One worker's week: generate or regenerate, each day's route and map, the printable sheet."""
    try:
        with ui.read() as session:
            plan = week_plan(session, scope, worker_id=worker_id, week_start=monday, today=ui.today())
    except CareError as error:
        ui.show_error(error)
        return
    st.subheader(
        ui.t("schedule.worker_week", name=ui.md(plan.worker_name), kind=ui.label("worker_kind", plan.worker_kind))
    )
    if plan.office is None:
        st.warning(ui.t("schedule.no_office"), icon=":material/wrong_location:")
    can_edit = scope.can("schedule.edit")
    if not plan.generated:
        st.info(ui.t("schedule.not_generated"))
        if can_edit and st.button(ui.t("schedule.generate"), type="primary", key="gen_week"):
            _generate(scope, worker_id, monday, None)
        return
    cols = st.columns(4)
    cols[0].metric(ui.t("schedule.households"), plan.stops)
    cols[1].metric(ui.t("schedule.distance"), f"{plan.distance_km:.1f} km")
    cols[2].metric(ui.t("schedule.daily_limit"), plan.daily_limit)
    cols[3].metric(ui.t("schedule.unplaced"), len(plan.unplaced))
    if plan.unplaced:
        st.warning(ui.t("schedule.unplaced_help", n=len(plan.unplaced)))
    unlocated = sum(1 for d in plan.days for s in d.stops if not s.located)
    if unlocated:
        st.warning(ui.t("schedule.unlocated", n=unlocated), icon=":material/location_off:")
    actions = st.columns(3)
    if can_edit and actions[0].button(
        ui.t("schedule.regenerate"), key="regen_week", help=ui.t("schedule.regenerate_help")
    ):
        _generate(scope, worker_id, monday, {d.day: d.version for d in plan.days})
    name = f"{plan.worker_name}-{monday.isoformat()}"
    actions[1].download_button(
        ui.t("schedule.print_html"),
        data=_audited(scope, plan, "html", sheet_html),
        file_name=f"{name}.html",
        mime="text/html",
        on_click="ignore",
        icon=":material/print:",
    )
    actions[2].download_button(
        ui.t("schedule.print_pdf"),
        data=_audited(scope, plan, "pdf", sheet_pdf),
        file_name=f"{name}.pdf",
        mime="application/pdf",
        on_click="ignore",
        icon=":material/picture_as_pdf:",
    )
    for index in range(len(plan.days)):
        with st.container(border=True):
            _day(scope, plan, index)


def township_overview(scope: Scope, monday: dt.date) -> None:
    """All workers of the area side by side: due this week, planned, and each day's stops."""
    with ui.read() as session:
        table = township_weeks(session, scope, week_start=monday, today=ui.today())
    if table.empty:
        st.info(ui.t("assignment.no_workers"))
        return
    days = schedule.working_days(monday)
    view = pd.DataFrame(
        {
            ui.t("assignment.col_worker"): table["name"],
            ui.t("assignment.col_kind"): table["kind"].map(lambda k: ui.label("worker_kind", k)),
            ui.t("column.village"): table["area"],
            ui.t("schedule.col_due"): table["due"],
            ui.t("schedule.col_planned"): table["planned"],
            ui.t("schedule.col_km"): table["km"],
            **{f"{weekday(d, ui.lang())} {d:%m-%d}": table[d.isoformat()] for d in days},
        }
    )
    missing = int(table["planned"].isna().sum())
    st.caption(ui.t("schedule.overview_help", missing=missing))
    picked = st.dataframe(view, hide_index=True, on_select="rerun", selection_mode="single-row", key="overview_pick")
    rows = picked.selection.rows if picked else []
    if rows:
        # Opens this worker in the next tab (its select box reads this key).
        st.session_state["sched_worker_pick"] = int(table.iloc[rows[0]]["worker_id"])
        st.caption(ui.t("schedule.overview_picked", name=ui.md(table.iloc[rows[0]]["name"])))
    if (
        missing
        and scope.can("schedule.edit")
        and st.button(ui.t("schedule.generate_missing", n=missing), key="gen_all")
    ):
        todo = [int(w) for w in table.loc[table["planned"].isna(), "worker_id"]]

        def action() -> Any:
            with ui.write() as session:
                for worker_id in todo:
                    generate_week(session, scope, worker_id=worker_id, week_start=monday)
            return None

        forms.save("week_all", action, ui.t("schedule.generated_all", n=len(todo)))

"""Widgets of 服务分配: caseloads, picking enrollments, and assigning or moving them in one action."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

import ui
from care.domain import enums
from care.domain.errors import CareError, StaleRecord
from care.queries.assignments import EnrollmentFilter, caseloads, enrollments, fitting_workers, misfit, workers
from care.queries.registers import area_options
from care.scope import Scope
from care.services.assignments import assign_worker, move_caseload, set_worker_active
from ui import forms

NOBODY = -1


def worker_label(staff: pd.DataFrame) -> Any:
    """A format function for worker ids: name · kind · area (and "away" for inactive ones)."""
    rows = {int(w.worker_id): w for w in staff.itertuples(index=False)}

    def _fmt(worker_id: object) -> str:
        if worker_id is None:
            return ui.t("assignment.any_worker")
        if worker_id == NOBODY:
            return ui.t("assignment.nobody")
        w = rows.get(int(worker_id))  # type: ignore[call-overload]
        if w is None:
            return str(worker_id)
        away = "" if w.active else " · " + ui.t("assignment.away")
        return f"{w.name} · {ui.label('worker_kind', w.kind)} · {w.area}{away}"

    return _fmt


def caseload_table(scope: Scope) -> None:
    """Per worker: persons, high-risk persons, overdue visits, visits due this week; away/back."""
    with ui.read() as session:
        table = caseloads(session, scope, ui.today())
    if table.empty:
        st.info(ui.t("assignment.no_workers"))
        return
    view = pd.DataFrame(
        {
            ui.t("assignment.col_worker"): table["name"],
            ui.t("assignment.col_kind"): table["kind"].map(lambda k: ui.label("worker_kind", k)),
            ui.t("column.village"): table["area"],
            ui.t("assignment.col_active"): table["active"].map(
                lambda a: ui.t("assignment.on_duty" if a else "assignment.away")
            ),
            ui.t("assignment.col_persons"): table["persons"],
            ui.t("assignment.col_high_risk"): table["high_risk_persons"],
            ui.t("assignment.col_overdue"): table["overdue"],
            ui.t("assignment.col_due_week"): table["due_this_week"],
        }
    )
    picked = st.dataframe(view, hide_index=True, on_select="rerun", selection_mode="single-row", key="caseload_pick")
    rows = picked.selection.rows if picked else []
    if not rows:
        st.caption(ui.t("assignment.caseload_help"))
        return
    chosen = table.iloc[rows[0]]
    active = bool(chosen["active"])
    label = "assignment.mark_away" if active else "assignment.mark_back"
    if st.button(ui.t(label, name=ui.md(chosen["name"])), key="worker_active"):
        forms.save(
            f"worker_{int(chosen['worker_id'])}",
            lambda: _write(
                lambda s: set_worker_active(s, scope, worker_id=int(chosen["worker_id"]), active=not active)
            ),
            ui.t("assignment.saved_active"),
        )


def _write(action: Any) -> Any:
    with ui.write() as session:
        return action(session)


def enrollment_table(rows: pd.DataFrame, key: str) -> list[int]:
    """The enrollments as a selectable table; returns the positions of the selected rows."""
    view = pd.DataFrame(
        {
            ui.t("column.name"): rows["name"],
            ui.t("column.village"): rows["village"],
            ui.t("column.groups"): rows["group"].map(lambda g: ui.label("group", g)),
            ui.t("column.risk"): rows["risk"].map(lambda r: ui.label("risk", r)),
            ui.t("column.next_due"): rows["next_due_on"],
            ui.t("assignment.col_worker"): rows["worker"].fillna(ui.t("assignment.nobody")),
        }
    )
    picked = st.dataframe(view, hide_index=True, on_select="rerun", selection_mode="multi-row", key=key)
    return list(picked.selection.rows) if picked else []


def _seen(rows: pd.DataFrame) -> dict[int, int | None]:
    return {
        int(r.enrollment_id): (None if pd.isna(r.worker_id) else int(r.worker_id)) for r in rows.itertuples(index=False)
    }


def _report(result: dict[str, Any]) -> None:
    text = ui.t("assignment.done", moved=result["moved"], unchanged=result["unchanged"])
    warnings = result.get("warnings", [])
    for key, params in warnings:
        groups = "、".join(ui.label("group", g) for g in params["groups"])
        text += " " + ui.t(key, name=ui.md(params["name"]), groups=groups)
    forms.flash("warning" if warnings else "success", text)


def _run(action: Any) -> None:
    """Run an assignment change; a concurrent change or a refusal shows its message, nothing saved."""
    try:
        result = _write(action)
    except StaleRecord:
        forms.flash("error", ui.t("assignment.stale"))
        st.rerun()
    except CareError as error:
        ui.show_error(error)
        return
    _report(result)
    st.rerun()


def assign_panel(scope: Scope, *, unassigned_only: bool, key: str) -> None:
    """Filter enrollments (area, group, current worker), select some or all, give them a worker."""
    with ui.read() as session:
        areas = area_options(session, scope)
        staff = workers(session, scope)
    fmt = worker_label(staff)
    cols = st.columns([2, 2, 1, 2])
    township, village = ui.area_picker(areas, key, cols[:2])
    group = cols[2].selectbox(
        ui.t("register.group"), [None, *enums.GROUPS], key=f"{key}_group", format_func=ui.labeller("group")
    )
    current = None
    if not unassigned_only:
        current = cols[3].selectbox(
            ui.t("assignment.current_worker"),
            [None, NOBODY, *staff["worker_id"]],
            key=f"{key}_current",
            format_func=fmt,
        )
    flt = EnrollmentFilter(
        area_code=village or township,
        group=group,
        worker_id=None if current in (None, NOBODY) else int(current),
        unassigned_only=unassigned_only or current == NOBODY,
    )
    with ui.read() as session:
        rows = enrollments(session, scope, flt, ui.today())
    st.caption(ui.t("assignment.listed", n=f"{len(rows):,}"))
    if len(rows) >= flt.limit:
        st.warning(ui.t("assignment.limited", n=f"{flt.limit:,}"))
    if rows.empty:
        st.info(ui.t("assignment.none_listed"))
        return
    picked = enrollment_table(rows, f"{key}_table")
    everyone = st.checkbox(ui.t("assignment.all_listed", n=f"{len(rows):,}"), key=f"{key}_all")
    chosen = rows if everyone else rows.iloc[picked]
    active = staff[staff["active"]]
    pairs = [(str(r.group), str(r.village_code)) for r in chosen.itertuples(index=False)]
    only_fitting = st.toggle(ui.t("assignment.only_fitting"), value=True, key=f"{key}_fitting")
    offered = fitting_workers(active, pairs) if only_fitting and pairs else active
    if only_fitting and pairs and offered.empty:
        st.info(ui.t("assignment.none_fitting"))
    target = st.selectbox(
        ui.t("assignment.to_worker"),
        [*offered["worker_id"], NOBODY],
        key=f"{key}_target",
        format_func=fmt,
        index=None,
        placeholder=forms.placeholder(),
    )
    confirmed = _fit_warning(staff, target, pairs, key)
    reason = st.text_input(ui.t("assignment.reason"), key=f"{key}_reason", max_chars=200)
    if st.button(
        ui.t("assignment.apply", n=len(chosen)),
        key=f"{key}_apply",
        type="primary",
        disabled=chosen.empty or target is None or not confirmed,
    ):
        worker_id = None if target == NOBODY else int(target)  # type: ignore[arg-type]
        _run(lambda s: assign_worker(s, scope, worker_id=worker_id, seen=_seen(chosen), reason=reason))


def _fit_warning(staff: pd.DataFrame, target: object, pairs: list[tuple[str, str]], key: str) -> bool:
    """Warn, before saving, when the chosen worker's post or area does not fit the selection; the
    assignment then needs an explicit confirmation. Returns whether saving may go ahead."""
    if target is None or target == NOBODY or not pairs:
        return True
    row = staff[staff["worker_id"] == target]
    if row.empty:
        return True
    worker = row.iloc[0]
    found = misfit(str(worker["kind"]), str(worker["area_code"]), pairs)
    if not found:
        return True
    parts = []
    if found.groups:
        groups = "、".join(ui.label("group", g) for g in found.groups)
        parts.append(
            ui.t(
                "assignment.misfit_groups",
                name=ui.md(worker["name"]),
                kind=ui.label("worker_kind", worker["kind"]),
                groups=groups,
            )
        )
    if found.outside_area:
        parts.append(ui.t("assignment.misfit_area", n=f"{found.outside_area:,}", area=ui.md(worker["area"])))
    st.warning(" ".join(parts))
    return st.checkbox(ui.t("assignment.misfit_confirm"), key=f"{key}_misfit_ok_{target}")


def move_panel(scope: Scope) -> None:
    """Move all or part of one worker's caseload to another worker in one action."""
    with ui.read() as session:
        staff = workers(session, scope)
    if staff.empty:
        st.info(ui.t("assignment.no_workers"))
        return
    fmt = worker_label(staff)
    cols = st.columns(2)
    source = cols[0].selectbox(
        ui.t("assignment.from_worker"),
        list(staff["worker_id"]),
        key="move_from",
        format_func=fmt,
        index=None,
        placeholder=forms.placeholder(),
    )
    if source is None:
        st.caption(ui.t("assignment.move_help"))
        return
    others = staff[(staff["worker_id"] != source) & staff["active"]]
    target = cols[1].selectbox(
        ui.t("assignment.to_worker"),
        list(others["worker_id"]),
        key="move_to",
        format_func=fmt,
        index=None,
        placeholder=forms.placeholder(),
    )
    with ui.read() as session:
        rows = enrollments(session, scope, EnrollmentFilter(worker_id=int(source)), ui.today())
    from_worker = int(source)
    st.caption(ui.t("assignment.caseload_of", n=f"{len(rows):,}"))
    if rows.empty:
        st.info(ui.t("assignment.none_listed"))
        return
    picked = enrollment_table(rows, "move_table")
    everyone = st.checkbox(ui.t("assignment.move_all", n=f"{len(rows):,}"), key="move_all")
    chosen = rows if everyone else rows.iloc[picked]
    reason = st.text_input(ui.t("assignment.reason"), key="move_reason", max_chars=200)
    if (
        st.button(
            ui.t("assignment.move", n=len(chosen)),
            key="move_apply",
            type="primary",
            disabled=chosen.empty or target is None,
        )
        and target is not None
    ):
        to_worker = int(target)
        seen = _seen(chosen)
        _run(
            lambda s: move_caseload(
                s, scope, from_worker_id=from_worker, to_worker_id=to_worker, seen=seen, reason=reason
            )
        )

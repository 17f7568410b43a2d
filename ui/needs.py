"""Needs and referrals widgets: raise a need for a person, move one forward, list them."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

import ui
from care.domain import enums
from care.domain.errors import CareError, StaleRecord
from care.domain.visits import NEED_MOVES
from care.scope import Scope
from care.services.needs import move_need, raise_need
from ui import forms


def raise_form(scope: Scope, person_id: int, enrollments: list[tuple[int, str]]) -> None:
    """Open a need for this person (kind, department, what is needed); ``enrollments`` = (id, group)."""
    key = f"raise_need_{person_id}"
    with st.form(key, clear_on_submit=False):
        kind = st.selectbox(
            ui.t("form.kind"), enums.NEED_KINDS, format_func=ui.labeller("need_kind"), key=f"{key}_kind"
        )
        groups = dict(enrollments)
        enrollment_id = None
        if len(groups) > 1:
            enrollment_id = st.selectbox(
                ui.t("form.enrollment_id"),
                list(groups),
                format_func=lambda i: ui.label("group", groups[i]),
                key=f"{key}_enrollment",
            )
        elif groups:
            enrollment_id = next(iter(groups))
        department = st.text_input(ui.t("form.department"), max_chars=64, key=f"{key}_dept")
        description = st.text_area(ui.t("form.description"), max_chars=1000, key=f"{key}_text", height=80)
        submitted = st.form_submit_button(ui.t("needs.raise"), type="primary", width="stretch")
    if submitted:

        def run() -> Any:
            with ui.write() as session:
                return raise_need(
                    session,
                    scope,
                    person_id=person_id,
                    kind=kind,
                    department=department,
                    description=description,
                    enrollment_id=enrollment_id,
                )

        forms.save(key, run, ui.t("needs.raised"))


def table(rows: pd.DataFrame) -> None:
    """Needs as a read-only table, oldest first, with days open."""
    st.dataframe(
        pd.DataFrame(
            {
                ui.t("needs.col_opened"): rows["opened_on"],
                ui.t("needs.col_days"): rows["days_open"],
                ui.t("needs.col_name"): rows["name"],
                ui.t("needs.col_village"): rows["village"],
                ui.t("person_file.col_kind"): rows["kind"].map(lambda k: ui.label("need_kind", k)),
                ui.t("person_file.col_status"): rows["status"].map(lambda s: ui.label("need_status", s)),
                ui.t("person_file.col_department"): rows["department"],
                ui.t("person_file.col_description"): rows["description"],
            }
        ),
        hide_index=True,
        width="stretch",
    )


def _choice_text(rows: pd.DataFrame, need_id: int) -> str:
    row = rows[rows["id"] == need_id].iloc[0]
    kind, status = ui.label("need_kind", row["kind"]), ui.label("need_status", row["status"])
    return f"{row['opened_on']} · {row['name']} · {kind} · {status}"


def move_form(scope: Scope, rows: pd.DataFrame) -> None:
    """Pick an open need and move it forward; the form carries the version it was loaded from."""
    movable = rows[rows["status"].isin(list(NEED_MOVES))]
    if movable.empty:
        return
    need_id = st.selectbox(
        ui.t("needs.pick"), list(movable["id"]), format_func=lambda i: _choice_text(movable, i), key="needs_pick"
    )
    row = movable[movable["id"] == need_id].iloc[0]
    key = f"need_{need_id}"
    seen = forms.seen_version(key, int(row["version"]))
    with st.form(f"move_{key}_{seen}"):
        target = st.radio(
            ui.t("form.need_status"),
            NEED_MOVES[row["status"]],
            format_func=ui.labeller("need_status"),
            horizontal=True,
            key=f"move_{key}_{seen}_status",
        )
        department = st.text_input(
            ui.t("form.department"), value=row["department"], max_chars=64, key=f"move_{key}_{seen}_dept"
        )
        submitted = st.form_submit_button(ui.t("needs.move"), type="primary", width="stretch")
    if submitted:

        def run() -> Any:
            with ui.write() as session:
                return move_need(
                    session, scope, need_id=int(need_id), seen_version=seen, status=target, department=department
                )

        _save_move(key, run)


def _save_move(key: str, run: Any) -> None:
    try:
        run()
    except StaleRecord as stale:
        st.session_state[f"seen_{key}"] = stale.params.get("now", 0)
        current = stale.current
        details = {
            ui.t("form.need_status"): ui.label("need_status", current.get("need_status")),
            ui.t("form.department"): current.get("department") or "—",
            ui.t("form.in_progress_on"): current.get("in_progress_on") or "—",
            ui.t("form.resolved_on"): current.get("resolved_on") or "—",
        }
        forms.flash("error", stale.message(ui.lang()), details)
        st.rerun()
    except CareError as error:
        ui.show_error(error)
        return
    st.session_state.pop(f"seen_{key}", None)
    forms.flash("success", ui.t("needs.moved"))
    st.rerun()

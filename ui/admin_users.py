"""The users tab of 系统管理: list logins, create one, and manage the chosen one.

Each change goes through care/services/users.py with the version the admin saw, and is audited
there as a permission change.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

import ui
from care.domain import enums
from care.queries.users import access_choices, users_table
from care.scope import Scope
from care.services import users as services
from ui import forms


def render(scope: Scope) -> None:
    """The whole users tab for an admin."""
    if not scope.can("user.manage"):
        st.error(ui.t("shell.page_denied"))
        return
    forms.show_flash()
    with ui.read() as session:
        table = users_table(session, scope)
        areas, workers = access_choices(session, scope)
    chosen = _list(table)
    with st.expander(ui.t("user.create_title"), icon=":material/person_add:"):
        _create(scope, areas, workers)
    if chosen is not None:
        _manage(scope, chosen, areas, workers)


def _status(row: Any) -> str:
    parts = [ui.t("user.status_active") if row["active"] else ui.t("user.status_inactive")]
    if row["locked"]:
        parts.append(ui.t("user.status_locked"))
    if row["must_change_password"]:
        parts.append(ui.t("user.status_must_change"))
    return " · ".join(parts)


def _list(table: pd.DataFrame) -> dict[str, Any] | None:
    st.subheader(ui.t("user.list_title"))
    st.caption(ui.t("user.count", n=len(table)))
    view = pd.DataFrame(
        {
            ui.t("user.col_username"): table["username"],
            ui.t("user.col_name"): table["display_name"],
            ui.t("user.col_role"): table["role"].map(lambda r: ui.label("role", r)),
            ui.t("user.col_area"): table["area"],
            ui.t("user.col_worker"): table["worker"],
            ui.t("user.col_status"): [_status(row) for _, row in table.iterrows()],
            ui.t("user.col_last_login"): table["last_login_at"],
        }
    )
    picked = st.dataframe(
        view,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="admin_users_table",
        width="stretch",
        column_config={ui.t("user.col_last_login"): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )
    rows = picked.selection.rows if picked else []
    if not rows or rows[0] >= len(table):
        st.caption(ui.t("user.pick"))
        return None
    return dict(table.iloc[rows[0]])


def _area_picker(areas: pd.DataFrame, key: str, current: str | None) -> str | None:
    names = {c: f"{c} {n}" for c, n in zip(areas["code"], areas["name"], strict=True)}
    options: list[str | None] = [None, *areas["code"]]
    return st.selectbox(
        ui.t("user.area"),
        options,
        index=options.index(current) if current in options else 0,
        format_func=lambda c: ui.t("user.no_area") if c is None else names.get(c, c),
        key=key,
    )


def _worker_picker(workers: pd.DataFrame, key: str, current: int | None) -> int | None:
    names = {
        int(i): f"{n} · {ui.label('worker_kind', k)} · {a}"
        for i, n, k, a in zip(workers["id"], workers["name"], workers["kind"], workers["area_code"], strict=True)
    }
    options: list[int | None] = [None, *names]
    return st.selectbox(
        ui.t("user.worker"),
        options,
        index=options.index(current) if current in options else 0,
        format_func=lambda i: ui.t("user.no_worker") if i is None else names.get(i, str(i)),
        key=key,
    )


def _create(scope: Scope, areas: pd.DataFrame, workers: pd.DataFrame) -> None:
    with st.form("admin_user_create", clear_on_submit=False):
        c1, c2 = st.columns(2)
        username = c1.text_input(ui.t("form.username"), max_chars=64, key="new_user_username")
        display_name = c2.text_input(ui.t("user.display_name"), max_chars=64, key="new_user_name")
        role = c1.selectbox(ui.t("form.role"), enums.COUNTY_ROLES, format_func=ui.labeller("role"), key="new_user_role")
        with c2:
            area = _area_picker(areas, "new_user_area", None)
        worker = _worker_picker(workers, "new_user_worker", None)
        password = st.text_input(
            ui.t("user.temp_password"),
            type="password",
            max_chars=256,
            help=ui.t("user.temp_password_help"),
            autocomplete="new-password",
            key="new_user_password",
        )
        submitted = st.form_submit_button(ui.t("user.create_submit"), type="primary", key="new_user_submit")
    if submitted:

        def run() -> object:
            with ui.write(changes_data=False) as session:
                return services.create_user(
                    session,
                    scope,
                    username=username,
                    display_name=display_name,
                    role=role,
                    area_code=area,
                    worker_id=worker,
                    password=password,
                )

        forms.save("new_user", run, ui.t("user.created", username=ui.md(username.strip())))


def _manage(scope: Scope, user: dict[str, Any], areas: pd.DataFrame, workers: pd.DataFrame) -> None:
    user_id = int(user["id"])
    key = f"user_{user_id}"
    seen = forms.seen_version(key, int(user["version"]))
    st.subheader(f"{ui.t('user.manage_title')} · {ui.md(user['username'])}")
    access, reset, active = st.tabs([ui.t("user.access_title"), ui.t("user.reset_title"), ui.t("user.active_title")])
    with access, st.form(f"access_{key}_{seen}"):
        role = st.selectbox(
            ui.t("form.role"),
            enums.ROLES if user["role"] in enums.ABOVE_COUNTY_ROLES else enums.COUNTY_ROLES,
            index=enums.ROLES.index(user["role"]),
            format_func=ui.labeller("role"),
            key=f"access_role_{key}_{seen}",
        )
        area = _area_picker(areas, f"access_area_{key}_{seen}", user["area_code"])
        current_worker = None if pd.isna(user["worker_id"]) else int(user["worker_id"])
        worker = _worker_picker(workers, f"access_worker_{key}_{seen}", current_worker)
        if st.form_submit_button(ui.t("user.access_submit"), type="primary"):
            _save(
                key,
                ui.t("user.access_done"),
                services.change_access,
                scope,
                user_id=user_id,
                seen_version=seen,
                role=role,
                area_code=area,
                worker_id=worker,
            )
    with reset, st.form(f"reset_{key}_{seen}"):
        password = st.text_input(
            ui.t("user.temp_password"),
            type="password",
            max_chars=256,
            help=ui.t("user.temp_password_help"),
            autocomplete="new-password",
            key=f"reset_pw_{key}_{seen}",
        )
        if st.form_submit_button(ui.t("user.reset_submit"), type="primary"):
            _save(
                key,
                ui.t("user.reset_done"),
                services.reset_password,
                scope,
                user_id=user_id,
                seen_version=seen,
                password=password,
            )
    with active:
        turn_on = not bool(user["active"])
        label = ui.t("user.reactivate") if turn_on else ui.t("user.deactivate")
        if st.button(label, key=f"active_{key}_{seen}", type="primary" if turn_on else "secondary"):
            done = ui.t("user.reactivated") if turn_on else ui.t("user.deactivated")
            _save(key, done, services.set_active, scope, user_id=user_id, seen_version=seen, active=turn_on)


def _save(key: str, done: str, service: Any, scope: Scope, **kwargs: Any) -> None:
    def run() -> object:
        with ui.write(changes_data=False) as session:
            return service(session, scope, **kwargs)

    forms.save(key, run, done)

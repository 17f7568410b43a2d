"""Audit log (审计日志, admin): filter by user, action, person and date; page, export, verify the chain."""

from __future__ import annotations

import datetime as dt

import streamlit as st

import ui
from care.domain.audit_text import action_label, readable_rows
from care.queries.audit_log import (
    COLUMNS,
    AuditFilter,
    anchor_problems,
    audit_choices,
    audit_page,
    broken_links,
)
from care.services.audit_log import export_audit_csv

scope = ui.require_page("audit")
st.title(ui.t("audit.title"))
st.caption(ui.t("audit.retention"))

with ui.read() as session:
    usernames, actions = audit_choices(session, scope)


def _reset_page() -> None:
    st.session_state["audit_page"] = 1


row = st.columns([2, 2, 1])
username = row[0].selectbox(
    ui.t("audit.filter_user"),
    [None, *usernames],
    key="audit_user",
    format_func=lambda u: u or ui.t("audit.all"),
    on_change=_reset_page,
)
action = row[1].selectbox(
    ui.t("audit.filter_action"),
    [None, *actions],
    key="audit_action",
    format_func=lambda a: action_label(a, ui.lang()) if a else ui.t("audit.all"),
    on_change=_reset_page,
)
person = row[2].number_input(
    ui.t("audit.filter_person"), min_value=1, value=None, step=1, key="audit_person", on_change=_reset_page
)
dates = st.columns([1, 1, 2], vertical_alignment="bottom")
start = dates[0].date_input(
    ui.t("audit.from"), value=None, key="audit_from", format="YYYY-MM-DD", on_change=_reset_page
)
end = dates[1].date_input(ui.t("audit.to"), value=None, key="audit_to", format="YYYY-MM-DD", on_change=_reset_page)
raw = dates[2].toggle(ui.t("audit.show_raw"), key="audit_raw", help=ui.t("audit.show_raw_help"))
flt = AuditFilter(
    username=username,
    action=action,
    person_id=int(person) if person is not None else None,
    start=start if isinstance(start, dt.date) else None,
    end=end if isinstance(end, dt.date) else None,
    page=int(st.session_state.get("audit_page", 1)),
)
with ui.read() as session:
    result = audit_page(session, scope, flt)

HEADERS = [
    ui.t(k)
    for k in (
        "audit.col_id",
        "audit.col_at",
        "audit.col_user",
        "audit.col_action",
        "audit.col_entity",
        "audit.col_entity_id",
        "audit.col_outcome",
        "audit.col_detail",
    )
]
st.caption(ui.t("audit.total", total=f"{result.total:,}", page=result.page, pages=result.pages))
if result.rows.empty:
    st.info(ui.t("audit.empty"))
else:
    shown = readable_rows(result.rows, ui.lang())
    shown["outcome"] = shown["outcome"].map(lambda o: ui.label("outcome", o))
    columns = dict(zip(COLUMNS, HEADERS, strict=True))
    if raw:
        columns |= {"action_code": ui.t("audit.col_action_code"), "detail_json": ui.t("audit.col_detail_raw")}
    # st.dataframe shows every cell as plain text: user text inside a detail stays inert.
    st.dataframe(
        shown[list(columns)].rename(columns=columns),
        hide_index=True,
        width="stretch",
        column_config={HEADERS[1]: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")},
    )
nav = st.columns([1, 2, 2])
page = nav[0].number_input(ui.t("audit.page"), min_value=1, max_value=result.pages, value=result.page, step=1)
if page != result.page:
    st.session_state["audit_page"] = int(page)
    st.rerun()


def _export() -> bytes:
    with ui.write(changes_data=False) as session:
        return export_audit_csv(session, scope, flt=flt, headers=HEADERS)


nav[1].download_button(
    ui.t("audit.export"),
    data=_export,
    file_name=f"audit-{ui.today():%Y%m%d}.csv",
    mime="text/csv",
    on_click="ignore",
    icon=":material/download:",
    help=ui.t("audit.export_note"),
)
if nav[2].button(ui.t("audit.verify"), icon=":material/verified:", key="audit_verify"):
    with ui.read() as session:
        bad = broken_links(session, scope) or []
        anchored = anchor_problems(session, scope) or []
    if bad:
        st.error(ui.t("audit.chain_broken", ids=", ".join(str(i) for i in bad[:50])))
    for key, params in anchored:
        st.error(ui.message(key, params))
    if not bad and not anchored:
        st.success(ui.t("audit.chain_ok"))

"""Registers (对象台账): search and filter the persons in scope, one page at a time."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from care.domain import enums
from care.queries.registers import WORKLISTS, RegisterFilter, area_options, register_page, register_status_counts

scope = ui.require_page("registers")
st.title(ui.t("register.title"))
# A list opened from the home page's worklist (?list=…); anything else in the address is ignored.
worklist = st.query_params.get("list")
if worklist not in WORKLISTS:
    worklist = None
if worklist is not None:
    banner, clear = st.columns([4, 1])
    banner.info(ui.t("register.worklist_shown", name=ui.t(f"home.list.{worklist}")), icon=":material/checklist:")
    if clear.button(ui.t("register.worklist_clear"), key="reg_worklist_clear"):
        del st.query_params["list"]
        st.rerun()

with ui.read() as session:
    areas = area_options(session, scope)
# An area opened from the home page's ranking (?area=…): chosen once in the pickers when it is one
# of the user's areas; anything else is ignored.
wanted = st.query_params.get("area")
if wanted is not None:
    del st.query_params["area"]
    known = areas.set_index("code")
    if wanted in known.index and known.at[wanted, "level"] == "county":
        st.session_state["reg_county"] = wanted
        st.session_state["reg_township"] = st.session_state["reg_village"] = None
        st.session_state["reg_page"] = 1
    elif wanted in known.index and known.at[wanted, "level"] in ("township", "village"):
        village = known.at[wanted, "level"] == "village"
        st.session_state["reg_township"] = known.at[wanted, "parent_code"] if village else wanted
        st.session_state["reg_village"] = wanted if village else None
        st.session_state["reg_page"] = 1


def _reset_page() -> None:
    st.session_state["reg_page"] = 1


pickers = ui.picker_columns(areas)
row1 = st.columns([2] * pickers + [1, 1, 1])
township, village = ui.area_picker(areas, "reg", row1[:pickers], on_change=_reset_page)
row1 = row1[pickers - 2 :]
group = row1[2].selectbox(
    ui.t("register.group"),
    [None, *enums.GROUPS],
    key="reg_group",
    format_func=ui.labeller("group"),
    on_change=_reset_page,
)
risk = row1[3].selectbox(
    ui.t("register.risk"), [None, *enums.RISKS], key="reg_risk", format_func=ui.labeller("risk"), on_change=_reset_page
)
status = row1[4].selectbox(
    ui.t("register.status"),
    [None, *enums.PERSON_STATUSES],
    key="reg_status",
    format_func=ui.labeller("status"),
    on_change=_reset_page,
)
row2 = st.columns([3, 1, 1, 1])
text = row2[0].text_input(
    ui.t("register.search"), key="reg_text", help=ui.t("register.search_help"), max_chars=40, on_change=_reset_page
)
overdue = row2[1].toggle(ui.t("register.overdue_only"), key="reg_overdue", on_change=_reset_page)
deleted = (
    row2[2].toggle(ui.t("register.deleted_only"), key="reg_deleted", on_change=_reset_page)
    if scope.can("person.restore")
    else False
)
if scope.may_open("person_new") and row2[3].button(ui.t("register.new"), icon=":material/person_add:"):
    st.switch_page("pages/person_new.py")

flt = RegisterFilter(
    area_code=village or township,
    group=group,
    risk=risk,
    status=status,
    overdue=overdue,
    worklist=worklist,
    text=text,
    deleted=deleted,
    page=int(st.session_state.get("reg_page", 1)),
)
with ui.read() as session:
    result = register_page(session, scope, flt, ui.today())
    by_status = register_status_counts(session, scope, flt, ui.today())

# The total says what it counts, so it can be read beside the home page's and the map's.
parts = "，".join(
    f"{ui.label('status', status)} {n:,}" for status, n in sorted(by_status.items(), key=lambda kv: -kv[1])
)
st.caption(
    ui.t(
        "register.total",
        total=f"{result.total:,}",
        parts=parts or "—",
        day=ui.today().isoformat(),
        page=result.page,
        pages=result.pages,
    )
)
if result.rows.empty:
    filtered = any((flt.area_code, group, risk, status, overdue, worklist, text.strip(), deleted))
    st.info(ui.t("register.empty_filtered" if filtered else "register.empty"))
    st.stop()


def _view(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            ui.t("column.name"): rows["name"],
            ui.t("column.sex"): rows["sex"].map(lambda s: ui.label("sex", s)),
            ui.t("column.age"): rows["age"],
            ui.t("column.id_number"): rows["id_masked"],
            ui.t("column.township"): rows["township"],
            ui.t("column.village"): rows["village"],
            ui.t("column.groups"): rows["groups"].map(lambda gs: [ui.label("group", g) for g in gs]),
            ui.t("column.risk"): rows["risk"].map(lambda r: ui.label("risk", r)),
            ui.t("column.next_due"): rows["next_due_on"],
            ui.t("column.overdue"): rows["overdue"].map(
                lambda late: "⚠ " + ui.t("register.overdue_mark") if late else ""
            ),
            ui.t("column.status"): rows["status"].map(lambda s: ui.label("status", s)),
        }
    )


picked = st.dataframe(
    _view(result.rows),
    hide_index=True,
    on_select="rerun",
    selection_mode="single-row",
    key=f"reg_table_{result.page}",
    width="stretch",
    column_config={
        ui.t("column.groups"): st.column_config.ListColumn(width="medium"),
        ui.t("column.next_due"): st.column_config.DateColumn(format="YYYY-MM-DD"),
    },
)
chosen = picked.selection.rows if picked else []
nav = st.columns([1, 1, 4])
page = nav[0].number_input(ui.t("register.page"), min_value=1, max_value=result.pages, value=result.page, step=1)
if page != result.page:
    st.session_state["reg_page"] = int(page)
    st.rerun()
if nav[1].button(ui.t("register.open"), type="primary", disabled=not chosen, icon=":material/badge:"):
    ui.open_person(int(result.rows.iloc[chosen[0]]["person_id"]))
if not chosen:
    nav[2].caption(ui.t("register.select_hint"))

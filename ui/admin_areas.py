"""The areas and re-division tabs of 系统管理: the county's areas, file imports, and merges."""

from __future__ import annotations

import csv
import io
from typing import Any

import pandas as pd
import streamlit as st

import ui
from care.domain.errors import CareError
from care.files.area_files import DATUMS
from care.i18n import CATALOG
from care.imports.common import inert
from care.queries.areas import area_changes, county_areas
from care.scope import Scope
from care.services import areas as services
from ui import forms

PLAN_KEY = "merge_plan"


def _urban_rural(value: object) -> str:
    """城乡分类代码 with its meaning: 220 村庄 (rural), 111 主城区 (urban) ..."""
    if value is None or pd.isna(value):
        return ""
    code = str(value)
    key = f"enum.urban_rural.{code}"
    return f"{code} {ui.t(key)}" if key in CATALOG else code


TEMPLATE_HEADER = ("统计用区划代码", "名称", "纬度", "经度")
# Cells starting with these open as formulas in Excel: such a name gets a leading quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


def _errors_view(result: services.AreaImport, row_label: str) -> None:
    rows = services.describe_errors(result.errors, ui.lang())
    st.error(ui.t("admin.import.rejected", count=len(rows)))
    table = pd.DataFrame(
        {
            ui.t(row_label): [r["row"] for r in rows],
            ui.t("admin.col.column"): [r["column"] for r in rows],
            ui.t("admin.col.problem"): [r["message"] for r in rows],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")
    st.download_button(
        ui.t("admin.import.errors_csv"),
        data=table.map(inert).to_csv(index=False).encode("utf-8-sig"),
        file_name="errors.csv",
        mime="text/csv",
        on_click="ignore",
    )


def _template(table: pd.DataFrame) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TEMPLATE_HEADER)
    for row in table.head(3).itertuples():
        name = "'" + row.name if str(row.name)[:1] in FORMULA_STARTS else row.name
        writer.writerow([row.code, name, "" if pd.isna(row.lat) else row.lat, "" if pd.isna(row.lon) else row.lon])
    return out.getvalue().encode("utf-8-sig")


def _import(kind: str, scope: Scope, files: list[Any], options: dict[str, str]) -> services.AreaImport | None:
    try:
        with ui.write() as session:
            if kind == "codes":
                return services.import_area_codes(session, scope, data=[(f.name, f.getvalue()) for f in files])
            return services.import_boundaries(
                session,
                scope,
                data=files[0].getvalue(),
                datum=options["datum"],
                code_property=options["code_property"],
            )
    except CareError as error:
        ui.show_error(error)
        return None


def _options(kind: str, cols: list[Any], table: pd.DataFrame) -> dict[str, str] | None:
    """The boundary import's code property and datum (None until a datum is chosen); the template for codes."""
    if kind == "codes":
        cols[0].download_button(
            ui.t("admin.codes.template"),
            data=_template(table),
            file_name="division_codes.csv",
            mime="text/csv",
            on_click="ignore",
        )
        return {}
    datum = st.radio(
        ui.t("admin.bounds.datum"),
        list(DATUMS),
        index=None,
        format_func=lambda d: ui.t(f"area.datum.{d}"),
        key="admin_datum",
    )
    prop = cols[0].text_input(ui.t("admin.bounds.property"), value="", max_chars=40, key="admin_prop")
    return None if datum is None else {"datum": datum, "code_property": prop}


def _import_box(kind: str, scope: Scope, table: pd.DataFrame) -> None:
    st.caption(ui.t(f"admin.{kind}.help"))
    types = ["csv", "txt", "tsv"] if kind == "codes" else ["geojson", "json"]
    upload = st.file_uploader(
        ui.t(f"admin.{kind}.file"), type=types, accept_multiple_files=kind == "codes", key=f"admin_{kind}_file"
    )
    files = [f for f in (upload if isinstance(upload, list) else [upload]) if f is not None]
    cols = st.columns([2, 1, 1])
    options = _options(kind, cols, table)
    if not cols[1].button(ui.t(f"admin.{kind}.import"), type="primary", key=f"admin_{kind}_go"):
        return
    if not files:
        st.warning(ui.t("admin.import.no_file"))
        return
    if options is None:
        st.warning(ui.t("area.datum_required"))
        return
    result = _import(kind, scope, files, options)
    if result is None:
        return
    skipped = services.describe_skipped(result, ui.lang(), features=kind == "bounds")
    if result.errors:
        _errors_view(result, "admin.col.row" if kind == "codes" else "admin.col.feature")
        if skipped:
            st.caption(skipped)
        return
    counts = {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
    done = ui.t(f"admin.{kind}.done", **counts)
    forms.flash("success", f"{done} {skipped}" if skipped else done)
    st.rerun()


def _areas_view(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            ui.t("admin.col.code"): table["code"],
            ui.t("admin.col.name"): table["name"],
            ui.t("admin.col.level"): table["level"].map(lambda v: ui.label("area_level", v)),
            ui.t("admin.col.parent"): table["parent_code"].map(lambda v: "" if pd.isna(v) else str(v)),
            ui.t("admin.col.persons"): table["persons"],
            ui.t("admin.col.urban_rural"): table["urban_rural"].map(_urban_rural),
            ui.t("admin.col.boundary"): table["has_boundary"],
            ui.t("admin.col.valid_to"): table["valid_to"].map(lambda v: "" if pd.isna(v) else str(v)),
            ui.t("admin.col.replaced_by"): table["replaced_by"].map(lambda v: "" if pd.isna(v) else str(v)),
        }
    )


def render_areas(scope: Scope) -> None:
    """The county's areas with their counts, and the two imports."""
    show_retired = st.toggle(ui.t("admin.areas.show_retired"), key="admin_show_retired")
    with ui.read() as session:
        table = county_areas(session, scope, include_retired=show_retired)
    current = table[table["valid_to"].isna()]
    cols = st.columns(4)
    cols[0].metric(ui.t("admin.areas.townships"), int((current["level"] == "township").sum()))
    cols[1].metric(ui.t("admin.areas.villages"), int((current["level"] == "village").sum()))
    cols[2].metric(ui.t("admin.areas.with_boundary"), int(current["has_boundary"].sum()))
    cols[3].metric(ui.t("admin.areas.retired"), int(table["valid_to"].notna().sum()))
    if table.empty:
        st.info(ui.t("admin.areas.empty"))
    else:
        st.dataframe(_areas_view(table), hide_index=True, width="stretch", height=320)
    with st.expander(ui.t("admin.codes.title"), icon=":material/list_alt:"):
        _import_box("codes", scope, current)
    with st.expander(ui.t("admin.bounds.title"), icon=":material/polyline:"):
        _import_box("bounds", scope, current)


def _merge_form(options: pd.DataFrame) -> dict[str, Any]:
    names = dict(zip(options["code"], options["name"], strict=True))
    level = (
        st.segmented_control(
            ui.t("admin.merge.level"),
            ["village", "township"],
            default="village",
            format_func=lambda v: ui.label("area_level", v),
            key="merge_level",
        )
        or "village"
    )
    codes = list(options.loc[options["level"] == level, "code"])
    show = lambda c: f"{names.get(c, c)}（{c}）"  # noqa: E731 - a one-line label
    sources = st.multiselect(
        ui.t("admin.merge.sources"),
        codes,
        format_func=show,
        key="merge_sources",
        placeholder=forms.placeholder(required=False),
    )
    mode = st.radio(
        ui.t("admin.merge.mode"),
        ["existing", "new"],
        format_func=lambda m: ui.t(f"admin.merge.mode_{m}"),
        horizontal=True,
        key="merge_mode",
    )
    if mode == "existing":
        target = st.selectbox(
            ui.t("admin.merge.target"),
            codes,
            format_func=show,
            index=None,
            key="merge_target",
            placeholder=forms.placeholder(),
        )
        return {"sources": sources, "target": target or "", "target_name": None}
    c1, c2 = st.columns(2)
    target = c1.text_input(ui.t("admin.merge.new_code"), max_chars=12, key="merge_new_code")
    name = c2.text_input(ui.t("admin.merge.new_name"), max_chars=64, key="merge_new_name")
    return {"sources": sources, "target": target.strip(), "target_name": name}


def _show_plan(plan: services.MergePlan) -> None:
    st.info(
        ui.t(
            "admin.merge.plan",
            sources=len(plan.sources),
            target=plan.target,
            name=ui.md(plan.target_name),
            persons=plan.persons,
            workers=plan.workers,
            users=plan.users,
        )
    )
    mapping = pd.DataFrame(
        {ui.t("admin.col.old_code"): list(plan.code_map), ui.t("admin.col.new_code"): list(plan.code_map.values())}
    )
    st.dataframe(mapping, hide_index=True)


def _apply(scope: Scope, request: dict[str, Any], plan: services.MergePlan) -> None:
    try:
        with ui.write() as session:
            done = services.merge_areas(session, scope, expected=plan.code_map, **request)
    except CareError as error:
        st.session_state.pop(PLAN_KEY, None)
        ui.show_error(error)
        return
    st.session_state.pop(PLAN_KEY, None)
    counts = {"persons": done.plan.persons, "workers": done.plan.workers, "users": done.plan.users}
    forms.flash("success", ui.t("admin.merge.done", target=done.plan.target, **counts))
    st.rerun()


def render_redivision(scope: Scope) -> None:
    """Merge villages or townships: choose, preview the code mapping, confirm; then the history."""
    st.caption(ui.t("admin.merge.intro"))
    with ui.read() as session:
        options = county_areas(session, scope)
        history = area_changes(session, scope)
    request = _merge_form(options[options["level"] != "county"])
    if st.button(ui.t("admin.merge.preview"), icon=":material/preview:", key="merge_preview"):
        try:
            with ui.read() as session:
                st.session_state[PLAN_KEY] = (request, services.plan_merge(session, scope, **request))
        except CareError as error:
            st.session_state.pop(PLAN_KEY, None)
            ui.show_error(error)
    kept = st.session_state.get(PLAN_KEY)
    if kept and kept[0] == request:
        _show_plan(kept[1])
        sure = st.checkbox(ui.t("admin.merge.confirm"), key="merge_sure")
        if st.button(ui.t("admin.merge.apply"), type="primary", disabled=not sure, key="merge_apply"):
            _apply(scope, request, kept[1])
    st.subheader(ui.t("admin.merge.history"))
    if history.empty:
        st.caption(ui.t("admin.merge.no_history"))
        return
    st.dataframe(
        pd.DataFrame(
            {
                ui.t("admin.col.effective_on"): history["effective_on"],
                ui.t("admin.col.level"): history["level"].map(lambda v: ui.label("area_level", v)),
                ui.t("admin.col.new_code"): history["target_code"],
                ui.t("admin.col.name"): history["target_name"],
                ui.t("admin.col.old_codes"): history["old_codes"],
                ui.t("admin.col.persons"): history["persons"],
                ui.t("admin.col.workers"): history["workers"],
                ui.t("admin.col.users"): history["users"],
            }
        ),
        hide_index=True,
        width="stretch",
    )

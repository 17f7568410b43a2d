"""Widgets of the 统计报表 page: pickers, cached reads, KPI tiles, tables, lists and exports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

import ui
from care import i18n
from care.domain import clock, enums
from care.domain.errors import CareError
from care.domain.reports import MonthReport, month_of, months_back
from care.files import charts
from care.files.exports import (
    LIST_ORDER,
    ExportMeta,
    check_export,
    csv_bytes,
    file_name,
    readable,
    record_export,
    workbook_bytes,
)
from care.files.report_pdf import report_html, report_pdf
from care.queries.households import HouseholdFigures
from care.queries.plans import SERVICE_LISTS, ServiceReport, service_kpis, service_report, service_sheets
from care.queries.reports import (
    days_since_visit,
    household_report,
    household_table,
    map_outlines,
    month_report,
    report_meta,
    trends,
)
from care.scope import Scope

LIST_SHOWN = 500
MONTH_CHOICES = 24
PERCENT = ui.PERCENT_COLUMN
COUNT = ui.COUNT_COLUMN
AREA_NAME = st.column_config.TextColumn(width=104)
PERCENT_COLUMNS = (
    "rate",
    "on_time_rate",
    "visit_rate",
    *(f"visit_rate_{g}" for g in enums.GROUPS),
    "guardian_in_care_rate",
)


def month_picker(column: Any) -> str:
    """The month to report (default: the last complete month)."""
    current = month_of(ui.today())
    choices = [m.label for m in reversed(months_back(current, MONTH_CHOICES))]
    return str(column.selectbox(ui.t("report.month"), choices, index=1, key="rpt_month"))


def area_choice(scope: Scope, areas: pd.DataFrame, columns: list[Any]) -> str | None:
    """County → township → village: the smallest area chosen, else the user's own."""
    township, village = ui.area_picker(areas, "rpt", columns)
    return village or township or scope.area_code


@st.cache_data(ttl=900, max_entries=16, show_spinner=False)
def _report(scope: Scope, month: str, area: str | None, today: dt.date) -> MonthReport:
    with ui.read() as session:
        return month_report(session, scope, month=month, area_code=area, today=today)


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False)
def _trends(scope: Scope, month: str, area: str | None, today: dt.date) -> pd.DataFrame:
    with ui.read() as session:
        return trends(session, scope, month=month, area_code=area, today=today)


@st.cache_data(ttl=900, max_entries=16, show_spinner=False)
def _meta(scope: Scope, area: str) -> dict[str, Any]:
    with ui.read() as session:
        return report_meta(session, scope, area)


@st.cache_data(ttl=900, max_entries=16, show_spinner=False)
def _households(scope: Scope, area: str | None, today: dt.date) -> HouseholdFigures:
    with ui.read() as session:
        return household_report(session, scope, area_code=area, today=today)


@st.cache_data(ttl=900, max_entries=16, show_spinner=False)
def _household_table(scope: Scope, area: str | None, today: dt.date) -> pd.DataFrame:
    with ui.read() as session:
        return household_table(session, scope, area_code=area, today=today)


def households_section(scope: Scope, area: str | None) -> None:
    """Households today: covered, with two or more groups, children with a guardian in care, flagged."""
    try:
        f = _households(scope, area, ui.today())
    except CareError as error:
        ui.show_error(error)
        return
    tiles = [
        ("households_covered", f"{f.households_covered:,}"),
        ("multi_group", f"{f.multi_group:,}"),
        ("guardian_in_care", f"{_pct(f.guardian_in_care_share)}（{f.children_guardian_in_care:,}/{f.children:,}）"),
        ("frail_guardians", f"{f.frail_guardians:,}"),
        ("all_in_care", f"{f.all_in_care:,}"),
    ]
    for column, (key, value) in zip(st.columns(len(tiles)), tiles, strict=True):
        column.metric(ui.t(f"report.household.{key}"), value)
    st.caption(ui.t("report.household.basis", day=ui.today().isoformat()))
    st.subheader(ui.t("report.sheet.households"))
    table(_household_table(scope, area, ui.today()))


def load(scope: Scope, month: str, area: str | None) -> MonthReport | None:
    """The month's report (cached per scope, month and area); None after showing the error."""
    try:
        with st.spinner(ui.t("report.building", step=ui.t("report.headline"))):
            return _report(scope, month, area, ui.today())
    except CareError as error:
        ui.show_error(error)
        return None


def cached_trends(scope: Scope, month: str, area: str | None) -> pd.DataFrame | None:
    """Trends already computed this session for this month and area, else None."""
    return st.session_state.get(_trends_key(month, area))


def _trends_key(month: str, area: str | None) -> str:
    return f"rpt_trends_{month}_{area}_{ui.today().isoformat()}"


def _pct(value: Any) -> str:
    return i18n.percent(value)


def headline(report: MonthReport) -> None:
    """The key figures as tiles."""
    k = report.kpis
    tiles = [
        ("persons_listed", f"{k['persons_listed']:,}"),
        ("visit_rate", _pct(k["visit_rate"])),
        ("on_time_rate", _pct(k["on_time_rate"])),
        ("overdue_now", f"{k['overdue_now']:,}"),
        ("high_risk_unvisited", f"{k['high_risk_unvisited']:,}"),
        ("unassigned", f"{k['unassigned']:,}"),
        ("needs_open", f"{k['needs_open']:,}"),
        ("rehab_coverage", _pct(k["rehab_coverage"])),
    ]
    for row in (tiles[:4], tiles[4:]):
        for column, (key, value) in zip(st.columns(4), row, strict=True):
            column.metric(ui.t(f"report.kpi.{key}"), value)
    # What each tile counts and as of when, so it can be read beside the home page and the map.
    st.caption(ui.t("report.kpi_basis", month=report.month.label, day=report.today.isoformat()))


def table(frame: pd.DataFrame) -> None:
    """A summary table with labels and percent columns."""
    scaled = frame.assign(**{c: frame[c] * 100 for c in PERCENT_COLUMNS if c in frame.columns})
    shown = readable(scaled, ui.lang())
    # Counts with thousands separators, like the tiles; area names wide enough for 新街社区.
    counts = [c for c in frame.columns if c not in PERCENT_COLUMNS and pd.api.types.is_integer_dtype(frame[c])]
    config: dict[str, Any] = {ui.t(f"report.col.{c}"): COUNT for c in counts}
    config |= {ui.t(f"report.col.{c}"): PERCENT for c in PERCENT_COLUMNS}
    config[ui.t("report.col.area")] = AREA_NAME
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config)


@st.cache_data(ttl=900, max_entries=16, show_spinner=False)
def _outlines(scope: Scope, codes: tuple[str, ...]) -> tuple[dict[str, str], set[str]]:
    with ui.read() as session:
        return map_outlines(session, scope, list(codes))


def area_map(scope: Scope, report: MonthReport) -> None:
    """The report's areas (townships of a county, villages of a township) coloured by a chosen figure."""
    rows = report.by_area.to_dict("records")
    if not rows:
        return
    outlines, from_cells = _outlines(scope, tuple(str(r["area_code"]) for r in rows))
    if not outlines:
        st.info(ui.t("report.map_no_outlines"))
        return
    figure = st.selectbox(
        ui.t("report.map_figure"),
        charts.MAP_FIGURES,
        format_func=lambda f: ui.t(f"report.col.{f}"),
        key="rpt_map_figure",
    )
    areas = charts.map_areas(rows, outlines, figure)
    chart = charts.choropleth(
        areas, figure=figure, title=ui.t(f"report.col.{figure}"), no_data=ui.t("report.map_no_data")
    )
    st.altair_chart(chart, width="stretch")
    if from_cells:
        st.caption(ui.t("report.map_cells", n=len(from_cells)))
    missing = [a.name for a in areas if not a.outline]
    if missing:
        st.caption(ui.t("report.map_missing", names="、".join(ui.md(name) for name in missing[:10]), n=len(missing)))


@st.cache_data(ttl=900, max_entries=16, show_spinner=False)
def _visit_ages(scope: Scope, area: str | None, today: dt.date) -> pd.DataFrame:
    with ui.read() as session:
        return days_since_visit(session, scope, area_code=area, today=today)


def visit_age_section(scope: Scope, area: str | None) -> None:
    """How long ago each active enrollment was last visited, today: a bar chart and its table."""
    try:
        frame = _visit_ages(scope, area, ui.today())
    except CareError as error:
        ui.show_error(error)
        return
    st.subheader(ui.t("report.visit_age_title"))
    labels = {b: ui.t(f"report.visit_age.{b}") for b in frame["bucket"].unique()}
    groups = {g: ui.t(f"report.group.{g}") for g in enums.GROUPS}
    st.altair_chart(
        charts.visit_age_bars(frame, labels=labels, groups=groups, title=ui.t("report.visit_age_title")),
        width="stretch",
    )
    wide = frame.pivot_table(index="bucket", columns="group", values="enrollments", sort=False).reindex(list(labels))
    st.dataframe(
        pd.DataFrame(
            {
                ui.t("report.visit_age_col"): [labels[b] for b in wide.index],
                **{groups[g]: wide[g].astype(int).tolist() for g in enums.GROUPS if g in wide.columns},
            }
        ),
        hide_index=True,
        column_config={groups[g]: COUNT for g in enums.GROUPS},
    )
    st.caption(ui.t("report.visit_age_basis", day=ui.today().isoformat()))


def group_labels() -> dict[str, str]:
    """Each group's (and the total's) label in the user's language, as the charts show them."""
    return {g: ui.t(f"report.group.{g}") for g in (*enums.GROUPS, "all")}


def rate_chart(report: MonthReport) -> None:
    """Monthly visit rate by group as bars, the percentage beside each."""
    chart = charts.rate_bars(report.visit_rates, labels=group_labels(), title=ui.t("report.trends_rate"))
    st.altair_chart(chart, width="stretch")


def trend_charts(frame: pd.DataFrame) -> None:
    """Visit rate and listed counts per group over the months, and the figures as a table."""
    labels = group_labels()
    st.altair_chart(charts.trend_lines(frame, labels=labels, title=ui.t("report.trends_rate")), width="stretch")
    st.altair_chart(charts.listed_bars(frame, labels=labels, title=ui.t("report.trends_listed")), width="stretch")
    shares = frame.assign(group=frame["group"].map(labels), rate=frame["rate"] * 100)
    wide = shares.pivot(index="month", columns="group", values="rate")
    with st.expander(ui.t("report.trends_table")):
        st.dataframe(
            wide[[labels[g] for g in charts.TREND_GROUPS if labels[g] in wide.columns]],
            column_config={labels[g]: PERCENT for g in charts.TREND_GROUPS},
        )


def _export_meta(scope: Scope, report: MonthReport, *, unmasked: bool) -> ExportMeta:
    facts = _meta(scope, report.area_code)
    return ExportMeta(
        area_code=report.area_code,
        area_name=facts["area_name"],
        month=report.month.label,
        username=scope.username,
        generated_at=clock.now(),
        unmasked=unmasked,
    )


def _csv_builder(scope: Scope, report: MonthReport, name: str) -> Callable[[], bytes]:
    def build() -> bytes:
        meta = _export_meta(scope, report, unmasked=False)
        frame = report.lists[name]
        data = csv_bytes(frame, ui.lang())
        with ui.write(changes_data=False) as session:
            record_export(session, scope=scope, fmt="csv", data=data, rows=len(frame), meta=meta, what=name)
        return data

    return build


def list_picker(scope: Scope, report: MonthReport, names: tuple[str, ...], key: str) -> None:
    """Pick a figure's list, see it (first rows) and download it as CSV (masked, audited)."""
    name = st.selectbox(
        ui.t("report.list_pick"),
        names,
        format_func=lambda n: f"{ui.t(f'report.list.{n}')}（{report.lists.count(n):,}）",
        key=f"rpt_list_{key}",
    )
    frame = report.lists[name]
    if len(frame) > LIST_SHOWN:
        st.caption(ui.t("report.list_shown", n=f"{len(frame):,}", shown=LIST_SHOWN))
    else:
        st.caption(ui.t("report.list_rows", n=f"{len(frame):,}"))
    st.dataframe(readable(frame.head(LIST_SHOWN), ui.lang()), hide_index=True, width="stretch")
    if scope.can("export.masked"):
        meta = _export_meta(scope, report, unmasked=False)
        st.download_button(
            ui.t("report.list_csv"),
            data=_csv_builder(scope, report, name),
            file_name=file_name(meta, name, "csv"),
            mime="text/csv",
            on_click="ignore",
            icon=":material/download:",
            key=f"rpt_csv_{key}",
        )


def rehab_table(report: MonthReport) -> None:
    """The rehab coverage figures as a one-row table."""
    table(pd.DataFrame([report.rehab]))


def all_lists() -> tuple[str, ...]:
    """Every list behind a figure, in report order."""
    return LIST_ORDER


def _pictures(scope: Scope, report: MonthReport, trend: pd.DataFrame | None) -> list[tuple[str, bytes]]:
    """The page's charts for a file: the rate by group, the areas by visit rate (with outlines), the
    trends (once computed) and the days since the last visit."""
    rows = report.by_area.to_dict("records")
    outlines = _outlines(scope, tuple(str(r["area_code"]) for r in rows))[0] if rows else {}
    areas = charts.map_areas(rows, outlines, "visit_rate") if outlines else []
    ages = _visit_ages(scope, report.area_code, ui.today())
    return charts.report_pictures(report.visit_rates, trend, ui.lang(), areas=areas, visit_ages=ages)


def _build(
    scope: Scope, report: MonthReport, *, fmt: str, unmasked: bool, reason: str
) -> tuple[bytes, int, ExportMeta] | None:
    try:
        cleaned = check_export(scope, unmasked=unmasked, reason=reason)
    except CareError as error:
        ui.show_error(error)
        return None
    meta = _export_meta(scope, report, unmasked=unmasked)
    bar = st.progress(0.0, text=ui.t("report.building", step=""))

    def progress(fraction: float, step: str) -> None:
        bar.progress(min(1.0, max(0.0, fraction)), text=ui.t("report.building", step=step))

    try:
        trend = cached_trends(scope, report.month.label, report.area_code)
        if trend is None:
            progress(0.0, ui.t("report.sheet.trends"))
            trend = _trends(scope, report.month.label, report.area_code, ui.today())
            st.session_state[_trends_key(report.month.label, report.area_code)] = trend
        households = _household_table(scope, report.area_code, ui.today())
        pictures = _pictures(scope, report, trend)
        if fmt == "xlsx":
            sheets = service_sheets(_services(scope, report.month.label, report.area_code, ui.today()))
            data, rows = workbook_bytes(
                report, trend, meta, ui.lang(), progress, households=households, services=sheets, pictures=pictures
            )
        else:
            data = report_pdf(report, trend, meta, ui.lang(), progress, households=households, pictures=pictures)
            rows = len(report.by_area)
        with ui.write(changes_data=False) as session:
            record_export(session, scope=scope, fmt=fmt, data=data, rows=rows, meta=meta, what="report", reason=cleaned)
    except CareError as error:
        ui.show_error(error)
        return None
    return data, rows, meta


def exports(scope: Scope, report: MonthReport) -> None:
    """Workbook and PDF built on request with progress, the HTML print version, all audited."""
    st.caption(ui.t("report.exports_note"))
    unmasked, reason = False, ""
    if scope.can("export.unmasked"):
        unmasked = st.toggle(ui.t("report.unmasked"), key="rpt_unmasked", help=ui.t("report.unmasked_help"))
        if unmasked:
            reason = st.text_input(ui.t("report.reason"), key="rpt_reason", max_chars=200)
    left, right = st.columns(2)
    for column, fmt, mime in (
        (left, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (right, "pdf", "application/pdf"),
    ):
        with column:
            if st.button(ui.t(f"report.build_{fmt}"), key=f"rpt_build_{fmt}", icon=":material/build:"):
                built = _build(scope, report, fmt=fmt, unmasked=unmasked and fmt == "xlsx", reason=reason)
                if built is not None:
                    st.session_state[f"rpt_file_{fmt}"] = built
            kept = st.session_state.get(f"rpt_file_{fmt}")
            if kept is not None:
                data, rows, meta = kept
                st.success(ui.t("report.built", rows=f"{rows:,}"))
                st.download_button(
                    ui.t(f"report.download_{fmt}"),
                    data=data,
                    file_name=file_name(meta, "report", fmt),
                    mime=mime,
                    on_click="ignore",
                    icon=":material/download:",
                    key=f"rpt_download_{fmt}",
                )
    html_meta = _export_meta(scope, report, unmasked=False)
    st.download_button(
        ui.t("report.download_html"),
        data=_html_builder(scope, report, html_meta),
        file_name=file_name(html_meta, "report", "html"),
        mime="text/html",
        on_click="ignore",
        icon=":material/print:",
        key="rpt_download_html",
    )


def _html_builder(scope: Scope, report: MonthReport, meta: ExportMeta) -> Callable[[], bytes]:
    def build() -> bytes:
        trend = cached_trends(scope, report.month.label, report.area_code)
        households = _household_table(scope, report.area_code, ui.today())
        pictures = _pictures(scope, report, trend)
        data = report_html(report, trend, meta, ui.lang(), households=households, pictures=pictures).encode("utf-8")
        with ui.write(changes_data=False) as session:
            record_export(
                session, scope=scope, fmt="html", data=data, rows=len(report.by_area), meta=meta, what="report"
            )
        return data

    return build


def trends_section(scope: Scope, report: MonthReport) -> None:
    """The last 12 months, computed on request (cached) and drawn as charts."""
    key = _trends_key(report.month.label, report.area_code)
    if key not in st.session_state and st.button(
        ui.t("report.trends_load"),
        help=ui.t("report.trends_help"),
        key="rpt_trends_button",
        icon=":material/show_chart:",
    ):
        with st.spinner(ui.t("report.building", step=ui.t("report.sheet.trends"))):
            st.session_state[key] = _trends(scope, report.month.label, report.area_code, ui.today())
    frame = st.session_state.get(key)
    if frame is not None:
        trend_charts(frame)
        table(frame)


@st.cache_data(ttl=900, max_entries=16, show_spinner=False)
def _services(
    scope: Scope, month: str, area: str | None, today: dt.date, lists: tuple[str, ...] = SERVICE_LISTS
) -> ServiceReport:
    with ui.read() as session:
        return service_report(session, scope, month=month, area_code=area, today=today, lists=lists)


def _kpi_text(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return _pct(value)
    return f"{value:,}"


def services_section(scope: Scope, report: MonthReport, area: str | None) -> None:
    """Plans in place and reviewed on time, the month's deliveries by service and provider, orders
    open and overdue, satisfaction and pairing coverage, with the lists behind them."""
    try:
        found = _services(scope, report.month.label, area, ui.today(), ())
    except CareError as error:
        ui.show_error(error)
        return
    kpis = service_kpis(found.figures)
    for row in (kpis[:5], kpis[5:]):
        for column, (key, value) in zip(st.columns(len(row)), row, strict=True):
            column.metric(ui.t(key), _kpi_text(key, value))
    st.caption(ui.t("report.service.basis", day=ui.today().isoformat()))
    left, right = st.columns(2)
    with left:
        st.subheader(ui.t("report.service.by_service"))
        table(found.figures.by_service.drop(columns=["service_code"]))
    with right:
        st.subheader(ui.t("report.service.by_provider"))
        table(found.figures.by_provider)
    name = st.selectbox(
        ui.t("report.list_pick"), SERVICE_LISTS, format_func=lambda n: ui.t(f"report.list.{n}"), key="rpt_list_services"
    )
    frame = _services(scope, report.month.label, area, ui.today(), (name,)).lists[name]
    st.caption(ui.t("report.list_rows", n=f"{len(frame):,}"))
    st.dataframe(readable(frame.head(LIST_SHOWN), ui.lang()), hide_index=True, width="stretch")
    if scope.can("export.masked"):
        meta = _export_meta(scope, report, unmasked=False)

        def build() -> bytes:
            data = csv_bytes(frame, ui.lang())
            with ui.write(changes_data=False) as session:
                record_export(session, scope=scope, fmt="csv", data=data, rows=len(frame), meta=meta, what=name)
            return data

        st.download_button(
            ui.t("report.list_csv"),
            data=build,
            file_name=file_name(meta, name, "csv"),
            mime="text/csv",
            on_click="ignore",
            icon=":material/download:",
            key="rpt_csv_services",
        )

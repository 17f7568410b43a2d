"""Charts as Vega-Lite specifications (Altair): the report's areas coloured by a figure, the visit
rate by group, the 12-month trends and the days since the last visit. No UI here: the page draws the
chart, the PDF, the print page and the workbook take the same chart as a picture (vl-convert renders
Vega-Lite without a browser or the network), and the tests read its data."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt
import vl_convert

from care import i18n
from care.domain import enums

# The figures a map may be coloured by: rates (shares) and counts of the report's by-area table.
MAP_RATES = ("visit_rate", "visit_rate_child", "visit_rate_elderly", "visit_rate_disabled", "on_time_rate")
MAP_COUNTS = ("persons_listed", "enrollments_listed", "overdue_now", "high_risk_unvisited", "unassigned", "needs_open")
MAP_FIGURES = MAP_RATES + MAP_COUNTS
# One colour per group (and the total) on every chart and every printed page.
GROUP_COLOURS = {"child": "#1f77b4", "elderly": "#ff7f0e", "disabled": "#2ca02c", "all": "#5a5a5a"}
TREND_GROUPS = (*enums.GROUPS, "all")
# Debian's Noto CJK (fonts-noto-cjk): the pictures need it for Chinese labels.
FONT_DIR = Path("/usr/share/fonts/opentype/noto")
PICTURE_FONT = "Noto Sans CJK SC"
# Lower is worse for a rate (red to green); higher is worse for a count of problems.
GOOD_WHEN_HIGH = set(MAP_RATES) | {"persons_listed", "enrollments_listed"}


@dataclass(frozen=True)
class MapArea:
    """An area as the map draws it: code, name, GeoJSON outline (None: not drawn) and its figure."""

    code: str
    name: str
    outline: str | None
    value: float | None


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def map_areas(rows: Sequence[Mapping[str, Any]], outlines: Mapping[str, str], figure: str) -> list[MapArea]:
    """The report's by-area rows (area_code, area and the figures) with their outlines."""
    return [
        MapArea(str(r["area_code"]), str(r["area"]), outlines.get(str(r["area_code"])), _number(r.get(figure)))
        for r in rows
    ]


def choropleth(areas: Sequence[MapArea], *, figure: str, title: str, no_data: str, width: int = 560) -> alt.Chart:
    """The areas with an outline, coloured by ``figure`` (a percentage for a rate), its value on hover."""
    rate = figure in MAP_RATES
    features = []
    for area in areas:
        if not area.outline:
            continue
        value = None if area.value is None else round(area.value * 100, 1) if rate else area.value
        shown = no_data if value is None else (f"{value:.1f}%" if rate else f"{int(value):,}")
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(area.outline),
                "properties": {"code": area.code, "name": area.name, "value": value, "shown": shown},
            }
        )
    chart: alt.Chart = (
        alt.Chart(_inline(features), title=title, width=width, height=int(width * 0.8))
        .mark_geoshape(stroke="#555555", strokeWidth=0.6)
        .encode(
            color=alt.Color(
                "properties.value:Q",
                title=title,
                scale=alt.Scale(scheme="redyellowgreen" if figure in GOOD_WHEN_HIGH else "orangered"),
                legend=alt.Legend(format=".1f" if rate else ",d", orient="right"),
            ),
            tooltip=[alt.Tooltip("properties.name:N", title=" "), alt.Tooltip("properties.shown:N", title=title)],
        )
        .project(type="mercator")
    )
    return chart


def chart_values(chart: alt.Chart) -> dict[str, float | None]:
    """Area code → the value the chart colours it by (what a test compares with the table)."""
    data = chart.data
    values = data.values if isinstance(data, alt.Data) else []
    return {f["properties"]["code"]: f["properties"]["value"] for f in values}


def visit_age_bars(
    frame: Any, *, labels: Mapping[str, str], groups: Mapping[str, str], title: str, width: int = 560
) -> alt.Chart:
    """Enrollments by days since their last visit, stacked by group (``frame``: bucket, group, enrollments)."""
    rows = [
        {"bucket": labels[r["bucket"]], "group": groups[r["group"]], "enrollments": int(r["enrollments"])}
        for r in frame.to_dict("records")
    ]
    order = list(dict.fromkeys(labels[r] for r in frame["bucket"]))
    present = [g for g in enums.GROUPS if g in set(frame["group"])]
    chart: alt.Chart = (
        alt.Chart(_inline(rows), title=title, width=width, height=240)
        .mark_bar()
        .encode(
            x=alt.X("bucket:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("sum(enrollments):Q", title=None, axis=alt.Axis(format=",d")),
            color=_group_colour(groups, present),
            tooltip=[alt.Tooltip("group:N"), alt.Tooltip("bucket:N"), alt.Tooltip("enrollments:Q", format=",d")],
        )
    )
    return chart


def _group_colour(labels: Mapping[str, str], groups: Sequence[str], title: str | None = None) -> alt.Color:
    """Colour by the group's label, each group in its own colour, in the groups' order."""
    return alt.Color(
        "group:N",
        title=title,
        sort=[labels[g] for g in groups],
        scale=alt.Scale(domain=[labels[g] for g in groups], range=[GROUP_COLOURS[g] for g in groups]),
        legend=alt.Legend(orient="bottom"),
    )


def _percent(rate: Any) -> float | None:
    number = _number(rate)
    return None if number is None else round(number * 100, 1)


def rate_bars(rates: Any, *, labels: Mapping[str, str], title: str, width: int = 460) -> alt.LayerChart:
    """The month's visit rate per group (``rates``: group, rate as a share), in percent, value beside the bar."""
    rows = [
        {"group": labels[r["group"]], "rate": _percent(r["rate"]), "key": r["group"]} for r in rates.to_dict("records")
    ]
    groups = [r["key"] for r in rows]
    # A step per bar, not a fixed height: the page's charts (Streamlit) collapse a nominal axis to a fixed height.
    base = alt.Chart(_inline(rows), title=title, width=width, height=alt.Step(26))
    y = alt.Y("group:N", sort=[labels[g] for g in groups], title=None)
    bars = base.mark_bar().encode(
        x=alt.X("rate:Q", title="%", scale=alt.Scale(domain=[0, 100]), axis=alt.Axis(format=".0f")),
        y=y,
        color=alt.Color(
            "group:N",
            scale=alt.Scale(domain=[labels[g] for g in groups], range=[GROUP_COLOURS[g] for g in groups]),
            legend=None,
        ),
        tooltip=[alt.Tooltip("group:N", title=" "), alt.Tooltip("rate:Q", title=title, format=".1f")],
    )
    text = base.mark_text(align="left", dx=4).encode(x=alt.X("rate:Q"), y=y, text=alt.Text("rate:Q", format=".1f"))
    chart: alt.LayerChart = bars + text
    return chart


def trend_lines(trends: Any, *, labels: Mapping[str, str], title: str, width: int = 560) -> alt.Chart:
    """The monthly visit rate per group and all groups (``trends``: month, group, listed, visited, rate), in percent."""
    rows = [
        {
            "month": r["month"],
            "group": labels[r["group"]],
            "rate": _percent(r["rate"]),
            "visited": int(r["visited"]),
            "listed": int(r["listed"]),
        }
        for r in trends.to_dict("records")
    ]
    groups = [g for g in TREND_GROUPS if g in set(trends["group"])]
    base = alt.Chart(_inline(rows), title=title, width=width, height=220)
    chart: alt.Chart = base.mark_line(point=True).encode(
        x=alt.X("month:O", title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("rate:Q", title="%", scale=alt.Scale(domain=[0, 100]), axis=alt.Axis(format=".0f")),
        color=_group_colour(labels, groups),
        tooltip=[
            alt.Tooltip("group:N", title=" "),
            alt.Tooltip("month:O", title=" "),
            alt.Tooltip("rate:Q", title=title, format=".1f"),
            alt.Tooltip("visited:Q", format=",d"),
            alt.Tooltip("listed:Q", format=",d"),
        ],
    )
    return chart


def listed_bars(trends: Any, *, labels: Mapping[str, str], title: str, width: int = 560) -> alt.Chart:
    """Enrollments listed per month, stacked by group (the total row left out)."""
    rows = [
        {"month": r["month"], "group": labels[r["group"]], "listed": int(r["listed"])}
        for r in trends.to_dict("records")
        if r["group"] != "all"
    ]
    groups = [g for g in enums.GROUPS if g in set(trends["group"])]
    chart: alt.Chart = (
        alt.Chart(_inline(rows), title=title, width=width, height=200)
        .mark_bar()
        .encode(
            x=alt.X("month:O", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("sum(listed):Q", title=None, axis=alt.Axis(format=",d")),
            color=_group_colour(labels, groups),
            tooltip=[alt.Tooltip("group:N"), alt.Tooltip("month:O"), alt.Tooltip("listed:Q", format=",d")],
        )
    )
    return chart


def chart_rows(chart: alt.TopLevelMixin) -> list[dict[str, Any]]:
    """The rows a chart draws (the first data of a layered chart): what a test compares with the table."""
    data = chart.data
    if not isinstance(data, alt.Data) and isinstance(chart, alt.LayerChart):
        data = chart.layer[0].data
    return list(data.values) if isinstance(data, alt.Data) else []


@functools.cache
def _fonts() -> None:
    if FONT_DIR.is_dir():
        vl_convert.register_font_directory(str(FONT_DIR))


def _printable(chart: alt.TopLevelMixin) -> dict[str, Any]:
    _fonts()
    spec: dict[str, Any] = chart.to_dict()
    spec.setdefault("config", {})["font"] = PICTURE_FONT
    spec["background"] = "white"
    return spec


def chart_png(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    """The chart as a PNG picture (for the PDF, the print page and the workbook)."""
    return bytes(vl_convert.vegalite_to_png(_printable(chart), scale=scale))


def report_pictures(
    visit_rates: Any,
    trends: Any | None,
    lang: str,
    *,
    areas: Sequence[MapArea] = (),
    visit_ages: Any | None = None,
) -> list[tuple[str, bytes]]:
    """The month report's charts as pictures with their headings, as the report page draws them:
    the month's rate by group; with ``trends`` the 12 months' rates and listed counts; with
    ``areas`` that have outlines, the areas coloured by the month's visit rate; with
    ``visit_ages`` (bucket, group, enrollments) the days since the last visit."""
    labels = {g: i18n.t(f"report.group.{g}", lang) for g in TREND_GROUPS}
    rate_title = i18n.t("report.trends_rate", lang)
    pictures = [(i18n.t("report.pdf_rates", lang), chart_png(rate_bars(visit_rates, labels=labels, title=rate_title)))]
    if any(a.outline for a in areas):
        title = i18n.t("report.col.visit_rate", lang)
        shape = choropleth(areas, figure="visit_rate", title=title, no_data=i18n.t("report.map_no_data", lang))
        pictures.append((i18n.t("report.map_title", lang), chart_png(shape)))
    if trends is not None and not trends.empty:
        listed_title = i18n.t("report.trends_listed", lang)
        lines = trend_lines(trends, labels=labels, title=rate_title)
        pictures.append((i18n.t("report.sheet.trends", lang), chart_png(lines)))
        pictures.append((listed_title, chart_png(listed_bars(trends, labels=labels, title=listed_title))))
    if visit_ages is not None and not visit_ages.empty:
        title = i18n.t("report.visit_age_title", lang)
        buckets = {b: i18n.t(f"report.visit_age.{b}", lang) for b in visit_ages["bucket"].unique()}
        bars = visit_age_bars(visit_ages, labels=buckets, groups=labels, title=title)
        pictures.append((title, chart_png(bars)))
    return pictures


def _inline(values: list[dict[str, Any]]) -> alt.Data:
    """Rows carried inside the chart's own specification."""
    # altair's Data takes no annotations (altair 5).
    return alt.Data(values=values)  # type: ignore[no-untyped-call, unused-ignore]

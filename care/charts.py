"""Charts as Vega-Lite specifications (Altair): the report's areas coloured by a figure. No UI here:
the page draws the chart, the tests read its data."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt

# The figures a map may be coloured by: rates (shares) and counts of the report's by-area table.
MAP_RATES = ("visit_rate", "visit_rate_child", "visit_rate_elderly", "visit_rate_disabled", "on_time_rate")
MAP_COUNTS = ("persons_listed", "enrollments_listed", "overdue_now", "high_risk_unvisited", "unassigned", "needs_open")
MAP_FIGURES = MAP_RATES + MAP_COUNTS
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
    return (
        alt.Chart(alt.Data(values=features), title=title, width=width, height=int(width * 0.8))
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


def chart_values(chart: alt.Chart) -> dict[str, float | None]:
    """Area code → the value the chart colours it by (what a test compares with the table)."""
    data = chart.data
    values = data.values if isinstance(data, alt.Data) else []
    return {f["properties"]["code"]: f["properties"]["value"] for f in values}


def visit_age_bars(frame: Any, *, labels: Mapping[str, str], groups: Mapping[str, str], title: str) -> alt.Chart:
    """Enrollments by days since their last visit, stacked by group (``frame``: bucket, group, enrollments)."""
    rows = [
        {"bucket": labels[r["bucket"]], "group": groups[r["group"]], "enrollments": int(r["enrollments"])}
        for r in frame.to_dict("records")
    ]
    order = list(dict.fromkeys(labels[r] for r in frame["bucket"]))
    return (
        alt.Chart(alt.Data(values=rows), title=title, height=240)
        .mark_bar()
        .encode(
            x=alt.X("bucket:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("sum(enrollments):Q", title=None, axis=alt.Axis(format=",d")),
            color=alt.Color("group:N", title=None),
            tooltip=[alt.Tooltip("group:N"), alt.Tooltip("bucket:N"), alt.Tooltip("enrollments:Q", format=",d")],
        )
    )

"""The report's choropleth: each area coloured by the very figure of the table, rates as percentages."""

from __future__ import annotations

import json

from care.files import charts

SQUARE = json.dumps(
    {"type": "Polygon", "coordinates": [[[108, 26], [108.1, 26], [108.1, 26.1], [108, 26.1], [108, 26]]]}
)
HOSTILE = "{{7*7}}<img src=x onerror=alert(1)>"


def _rows():
    return [
        {"area_code": "522699101000", "area": "丹江镇", "visit_rate": 0.8139, "overdue_now": 8},
        {"area_code": "522699102000", "area": HOSTILE, "visit_rate": float("nan"), "overdue_now": 1234},
        {"area_code": "522699103000", "area": "无边界镇", "visit_rate": 0.5, "overdue_now": 0},
    ]


def test_each_outlined_area_carries_the_tables_figure_and_areas_without_outline_are_left_out():
    outlines = {"522699101000": SQUARE, "522699102000": SQUARE}
    rate = charts.choropleth(
        charts.map_areas(_rows(), outlines, "visit_rate"), figure="visit_rate", title="探访率", no_data="无数据"
    )
    assert charts.chart_values(rate) == {"522699101000": 81.4, "522699102000": None}
    count = charts.choropleth(
        charts.map_areas(_rows(), outlines, "overdue_now"), figure="overdue_now", title="逾期", no_data="无数据"
    )
    assert charts.chart_values(count) == {"522699101000": 8.0, "522699102000": 1234.0}
    shown = [f["properties"]["shown"] for f in count.data.values]
    assert shown == ["8", "1,234"]


def test_a_hostile_area_name_is_data_of_the_chart_not_part_of_its_specification():
    chart = charts.choropleth(
        charts.map_areas(_rows(), {"522699102000": SQUARE}, "visit_rate"),
        figure="visit_rate",
        title="探访率",
        no_data="无数据",
    )
    spec = chart.to_dict()
    (feature,) = spec["data"]["values"]
    assert feature["properties"]["name"] == HOSTILE and feature["properties"]["shown"] == "无数据"
    assert HOSTILE not in json.dumps({k: v for k, v in spec.items() if k != "data"}, ensure_ascii=False)
    assert spec["mark"]["type"] == "geoshape" and spec["encoding"]["color"]["field"] == "properties.value"

"""The report's charts (care.files.charts): each figure a chart draws equals the report's table, and the
same charts go into the PDF, the print page and the workbook as pictures."""

from __future__ import annotations

import base64
import io
import json
import re
import struct

import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader

from care.domain.reports import compute, counted_visits, months_back, trend_rates
from care.files import charts
from care.files.exports import workbook_bytes
from care.files.report_pdf import report_html, report_pdf
from care.i18n import t
from tests.unit.test_exports import META
from tests.unit.test_report_kpis import MARCH, enrollments, inputs, visits

LABELS = {g: t(f"report.group.{g}") for g in charts.TREND_GROUPS}


@pytest.fixture
def report():
    return compute(inputs())


@pytest.fixture
def trends():
    return trend_rates(enrollments(), counted_visits(visits(), phone_counts=False), months_back(MARCH, 3))


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def test_the_rate_bars_draw_each_groups_rate_of_the_table_in_percent(report):
    chart = charts.rate_bars(report.visit_rates, labels=LABELS, title="x")
    drawn = {r["group"]: r["rate"] for r in charts.chart_rows(chart)}
    table = {LABELS[g]: None if r != r else round(r * 100, 1) for g, r in report.visit_rates[["group", "rate"]].values}
    assert drawn == table
    assert any(v for v in drawn.values())  # the fixture has visits: a chart of zeros would prove nothing


def test_the_trend_lines_draw_each_months_rate_and_counts_of_the_table(trends):
    chart = charts.trend_lines(trends, labels=LABELS, title="x")
    drawn = {(r["month"], r["group"]): (r["rate"], r["visited"], r["listed"]) for r in charts.chart_rows(chart)}
    table = {
        (m, LABELS[g]): (None if r != r else round(r * 100, 1), v, n)
        for m, g, n, v, r in trends[["month", "group", "listed", "visited", "rate"]].values
    }
    assert drawn == table
    assert len({m for m, _ in drawn}) == 3


def test_the_listed_bars_stack_the_groups_and_leave_out_the_total(trends):
    chart = charts.listed_bars(trends, labels=LABELS, title="x")
    rows = charts.chart_rows(chart)
    assert LABELS["all"] not in {r["group"] for r in rows}
    for month in set(trends["month"]):
        total = trends[(trends["month"] == month) & (trends["group"] == "all")]["listed"].item()
        assert sum(r["listed"] for r in rows if r["month"] == month) == total


def test_each_group_keeps_its_colour_on_every_chart(trends):
    spec = charts.trend_lines(trends, labels=LABELS, title="x").to_dict()
    scale = spec["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"], strict=True)) == {
        LABELS[g]: charts.GROUP_COLOURS[g] for g in charts.TREND_GROUPS
    }


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_pictures_are_pngs_one_without_trends_three_with(report, trends, lang):
    alone = charts.report_pictures(report.visit_rates, None, lang)
    both = charts.report_pictures(report.visit_rates, trends, lang)
    assert [h for h, _ in alone] == [t("report.pdf_rates", lang)]
    assert [h for h, _ in both] == [
        t("report.pdf_rates", lang),
        t("report.sheet.trends", lang),
        t("report.trends_listed", lang),
    ]
    for _, png in both:
        width, height = _png_size(png)
        assert width > 400 and height > 100


def test_the_pdf_prints_the_charts_as_pictures(report, trends):
    without = PdfReader(io.BytesIO(report_pdf(report, None, META, "zh")))
    with_trends = PdfReader(io.BytesIO(report_pdf(report, trends, META, "zh")))
    assert sum(len(p.images) for p in without.pages) == 1
    assert sum(len(p.images) for p in with_trends.pages) == 3
    text = "".join(p.extract_text() for p in with_trends.pages).replace("\x00", "")
    assert t("report.sheet.trends") in text and t("report.pdf_rates") in text


def test_the_print_page_holds_the_charts_inline(report, trends):
    page = report_html(report, trends, META, "zh")
    images = re.findall(r"<img alt='([^']*)' class='chart' src='data:image/png;base64,([^']+)'>", page)
    assert [alt for alt, _ in images] == [t("report.pdf_rates"), t("report.sheet.trends"), t("report.trends_listed")]
    for _, data in images:
        _png_size(base64.b64decode(data))
    assert "http" not in page.split("<body>")[1]  # nothing fetched: the page opens offline


def test_the_workbook_has_a_sheet_of_the_charts(report, trends):
    data, _ = workbook_bytes(report, trends, META, "zh")
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book[t("report.sheet.charts")]
    assert book.sheetnames.index(sheet.title) == book.sheetnames.index(t("report.sheet.trends")) + 1
    assert len(sheet._images) == 3
    headings = [sheet.cell(r, 1).value for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value]
    assert headings == [t("report.pdf_rates"), t("report.sheet.trends"), t("report.trends_listed")]
    anchors = [image.anchor._from.row for image in sheet._images]
    assert anchors == sorted(anchors) and len(set(anchors)) == 3  # one under the other, none on another


def _square(lon: float, lat: float) -> str:
    ring = [[lon, lat], [lon + 0.1, lat], [lon + 0.1, lat + 0.1], [lon, lat + 0.1], [lon, lat]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def test_with_outlines_and_visit_ages_the_files_carry_the_map_and_the_days_since_the_last_visit(report, trends):
    rows = report.by_area.to_dict("records")
    outlines = {str(r["area_code"]): _square(108.0 + 0.1 * i, 26.0) for i, r in enumerate(rows)}
    areas = charts.map_areas(rows, outlines, "visit_rate")
    ages = pd.DataFrame(
        {"bucket": ["0-30", "0-30", "never"], "group": ["child", "elderly", "child"], "enrollments": [5, 3, 2]}
    )
    pictures = charts.report_pictures(report.visit_rates, trends, "zh", areas=areas, visit_ages=ages)
    assert [h for h, _ in pictures] == [
        t("report.pdf_rates"),
        t("report.map_title"),
        t("report.sheet.trends"),
        t("report.trends_listed"),
        t("report.visit_age_title"),
    ]
    pdf = PdfReader(io.BytesIO(report_pdf(report, trends, META, "zh", pictures=pictures)))
    assert sum(len(p.images) for p in pdf.pages) == 5
    text = "".join(p.extract_text() for p in pdf.pages).replace("\x00", "")
    assert t("report.map_title") in text and t("report.visit_age_title") in text
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(report, trends, META, "zh", pictures=pictures)[0]))
    assert len(book[t("report.sheet.charts")]._images) == 5
    page = report_html(report, trends, META, "zh", pictures=pictures)
    assert page.count("class='chart'") == 5
    # Without outlines there is no map picture (the page says how to import them instead).
    bare = charts.report_pictures(report.visit_rates, None, "zh", areas=charts.map_areas(rows, {}, "visit_rate"))
    assert [h for h, _ in bare] == [t("report.pdf_rates")]

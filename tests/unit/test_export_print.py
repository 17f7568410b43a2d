"""Printed exports: the by-area total row (sums and recomputed rates), the workbook's print setup,
and the report map's outlines and village labels (hostile names stay text)."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser

import openpyxl
import pandas as pd
import pytest
from fpdf import FPDF
from pypdf import PdfReader

from care.domain.reports import AREA_COUNT_COLUMNS, AREA_RATE_PARTS, by_area_total, compute
from care.files import report_pdf
from care.files.exports import PORTRAIT_MAX_COLUMNS, WORKBOOK_LISTS, header, workbook_bytes
from care.i18n import t
from tests.unit.test_exports import META
from tests.unit.test_report_kpis import inputs

HOSTILE = ("<script>alert(1)</script>", "{{7*7}}", "'><b>x</b>", "a & b", '" onmouseover="alert(1)')
PAGE_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "table", "tr", "th", "td"}
PAGE_TAGS |= {"svg", "text", "rect", "polyline", "circle", "img"}


def _label(name: str) -> str:
    """A village's label: its name, cut short with an ellipsis when long."""
    return name if len(name) <= report_pdf.LABEL_CHARS else name[: report_pdf.LABEL_CHARS - 1] + "…"


@pytest.fixture
def report():
    return compute(inputs())


def _book(report, lang="zh"):
    data, _ = workbook_bytes(report, None, META, lang)
    return openpyxl.load_workbook(io.BytesIO(data))


def _by_area_block(sheet, lang="zh"):
    """The by-area table of the overview: its header texts and its rows (cells), title excluded."""
    title = t("report.by_area_title", lang)
    start = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == title) + 1
    head = [c.value for c in sheet[start] if c.value is not None]
    rows = [list(sheet[r])[: len(head)] for r in range(start + 1, sheet.max_row + 1)]
    return head, rows


# --- the total row -----------------------------------------------------------------------------


def test_the_by_area_table_ends_with_a_bold_total_row_under_a_rule(report):
    _head, rows = _by_area_block(_book(report)["概览"])
    *areas, total = rows
    assert [r[0].value for r in areas] == report.by_area["area"].tolist()
    assert total[0].value == t("report.by_area_total")
    assert all(c.font.b for c in total)
    assert all(c.border.top.style is not None for c in total)
    assert not any(c.font.b for row in areas for c in row)


def test_the_total_row_sums_every_count_column_of_the_areas(report):
    head, rows = _by_area_block(_book(report)["概览"])
    total = {name: cell.value for name, cell in zip(head, rows[-1], strict=True)}
    for column in AREA_COUNT_COLUMNS:
        assert total[header(column, "zh")] == report.by_area[column].sum(), column
    assert total[header("enrollments_listed", "zh")] == report.kpis["enrollments_listed"]


def test_the_total_rates_divide_the_summed_parts_and_are_never_an_average_of_the_rows(report):
    head, rows = _by_area_block(_book(report)["概览"])
    total = dict(zip(head, rows[-1], strict=True))
    parts = report.by_area_parts
    for column, (part, whole) in AREA_RATE_PARTS.items():
        expected = parts[part].sum() / parts[whole].sum()
        assert total[header(column, "zh")].value == pytest.approx(expected), column
        assert total[header(column, "zh")].number_format == "0.0%"
    # The rows' own rates come back from the same parts (the parts are those of the figures shown).
    for row, area_parts in zip(report.by_area.to_dict("records"), parts.to_dict("records"), strict=True):
        for column, (part, whole) in AREA_RATE_PARTS.items():
            if area_parts[whole]:
                assert row[column] == pytest.approx(area_parts[part] / area_parts[whole]), column
    # Here the areas differ in size, so an average of their rates would be another figure: the
    # total agrees with the whole area's own rate instead.
    for column in ("visit_rate", "on_time_rate"):
        averaged = report.by_area[column].astype(float).mean()
        assert total[header(column, "zh")].value != pytest.approx(averaged), column
        assert total[header(column, "zh")].value == pytest.approx(report.kpis[column]), column


def test_a_rate_with_nothing_to_divide_stays_empty_in_the_total():
    report = compute(inputs())
    report.by_area_parts = report.by_area_parts.assign(listed_elderly=0, visited_elderly=0)
    assert by_area_total(report)["visit_rate_elderly"] is None
    assert by_area_total(report)["visit_rate_child"] is not None


def test_a_report_without_areas_has_no_total_row(report):
    report.by_area = pd.DataFrame()
    report.by_area_parts = pd.DataFrame()
    assert by_area_total(report) is None
    assert report_pdf.area_rows(report, "zh")[1:] == []
    sheet = _book(report)["概览"]
    assert t("report.by_area_total") not in [sheet.cell(r, 1).value for r in range(1, sheet.max_row + 1)]


def test_the_pdf_and_print_page_end_the_area_table_with_the_total(report):
    total = by_area_total(report)
    rows = report_pdf.area_rows(report, "zh")
    assert len(rows) == 1 + len(report.by_area) + 1
    assert rows[-1][0] == t("report.by_area_total")
    assert rows[-1][1] == f"{total['persons_listed']:,}"
    assert rows[-1][2] == f"{total['visit_rate'] * 100:.1f}%"
    page = report_pdf.report_html(report, None, META)
    cells = re.findall(r"<td class='total'>([^<]*)</td>", page)
    assert cells == rows[-1]
    text = re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(_pdf(report))).pages))
    assert "".join(rows[-1]).replace(",", "") in text.replace(",", "")


def test_the_english_total_row_says_total(report):
    head, rows = _by_area_block(_book(report, "en")["Overview"], "en")
    assert rows[-1][0].value == "Total" and head[0] == header("area", "en")


# --- print setup -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_sheet_prints_on_a4_one_page_wide_with_page_numbers(report, lang):
    book = _book(report, lang)
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert setup.paperSize == 9, sheet.title  # A4
        wide = sheet.max_column > PORTRAIT_MAX_COLUMNS
        assert setup.orientation == ("landscape" if wide else "portrait"), sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        # One page wide (1 is the format's default, written as nothing), any number of pages tall.
        assert setup.fitToWidth in (None, 1) and setup.fitToHeight == 0, sheet.title
        assert sheet.oddFooter.center.text == t("report.print_footer", lang), sheet.title
        assert "&P" in sheet.oddFooter.center.text and "&N" in sheet.oddFooter.center.text
    assert {s.page_setup.orientation for s in book.worksheets} == {"landscape", "portrait"}


def test_each_table_sheet_repeats_and_freezes_its_header_row(report):
    book = _book(report)
    tables = [s for s in book.worksheets[1:] if s.title != t("report.sheet.charts")]
    assert len(tables) == len(book.worksheets) - 2
    for sheet in tables:
        assert sheet.print_title_rows == "$1:$1", sheet.title
        assert sheet.freeze_panes == "A2", sheet.title
    overview = book["概览"]
    # The overview's title block (area, month, masked or not) heads every page and stays on screen.
    assert overview.print_title_rows == "$1:$3"
    assert overview.freeze_panes == "A4"


def test_the_list_sheets_print_their_gridlines_and_the_summaries_do_not(report):
    book = _book(report)
    lists = {t("report.sheet.list", name=t(f"report.list.{n}"))[:31] for n in WORKBOOK_LISTS}
    for sheet in book.worksheets:
        assert bool(sheet.print_options.gridLines) == (sheet.title in lists), sheet.title
    assert lists <= set(book.sheetnames)


# --- the map ----------------------------------------------------------------------------------------


def _square(lon: float, lat: float, size: float) -> list[list[float]]:
    return [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]


def _mapped(report, names):
    """The report with villages named ``names`` spread over two townships with stored outlines."""
    report.map_points = pd.DataFrame(
        {
            "code": [f"52269910{i + 1}{201 + i:03d}" for i in range(len(names))],
            "persons": [40 - 5 * i for i in range(len(names))],
            "overdue_share": [0.1 * i for i in range(len(names))],
            "name": list(names),
            "lat": [26.30 + 0.05 * i for i in range(len(names))],
            "lon": [108.05 + 0.08 * (i % 2) + 0.02 * i for i in range(len(names))],
        }
    )
    county = {"type": "Polygon", "coordinates": [_square(108.0, 26.25, 0.4)]}
    town_a = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [_square(108.0, 26.25, 0.2)]}}
    town_b = {"type": "MultiPolygon", "coordinates": [[_square(108.2, 26.25, 0.2)], [_square(108.2, 26.5, 0.1)]]}
    report.map_boundaries = pd.DataFrame(
        {
            "code": ["522699000000", "522699101000", "522699102000"],
            "level": ["county", "township", "township"],
            "boundary": [json.dumps(county), json.dumps(town_a), json.dumps(town_b)],
        }
    )
    return report


class _Svg(HTMLParser):
    """The page's elements and attributes: each polyline's attributes, the text of each <text> and <title>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.polylines: list[dict[str, str | None]] = []
        self.labels: list[str] = []
        self.titles: list[str] = []
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self._open: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes |= {key for key, _ in attrs}
        if tag == "polyline":
            self.polylines.append(dict(attrs))
        if tag in ("text", "title"):
            self._open = self.labels if tag == "text" else self.titles
            self._open.append("")

    def handle_endtag(self, tag):
        if tag in ("text", "title"):
            self._open = None

    def handle_data(self, data):
        if self._open is not None:
            self._open[-1] += data


def _svg(svg: str) -> _Svg:
    parsed = _Svg()
    parsed.feed(svg)
    parsed.close()
    return parsed


def test_the_html_map_draws_the_outlines_under_labelled_dots(report):
    names = ("羊排村", "南猛村", "报溪村")
    mapped = _mapped(report, names)
    svg = report_pdf._svg_map(mapped.map_points, mapped.map_boundaries, "522699000000")
    parsed = _svg(svg)
    rings = sum(len(report_pdf.boundary_rings(b)) for b in mapped.map_boundaries["boundary"])
    assert len(parsed.polylines) == rings == 4
    assert all(p["fill"] == "none" for p in parsed.polylines)
    # Under the dots: every outline comes before the first dot.
    assert svg.rindex("<polyline") < svg.index("<circle")
    assert set(names) <= set(parsed.labels)
    # The report's own area is drawn a little heavier than the areas inside it.
    widths = [float(p["stroke-width"]) for p in parsed.polylines]
    assert widths[0] > max(widths[1:])


def test_the_print_page_carries_the_reports_own_outlines_and_labels(report):
    mapped = _mapped(report, ("羊排村", "南猛村"))
    page = report_pdf.report_html(mapped, None, META)
    parsed = _svg(page)
    assert len(parsed.polylines) >= 4
    assert {"羊排村", "南猛村"} <= set(parsed.labels)


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_village_name_stays_text_in_the_svg_and_html(report, name):
    mapped = _mapped(report, (name, "南猛村"))
    page = report_pdf.report_html(mapped, None, META)
    parsed = _svg(page)
    assert _label(name) in parsed.labels  # shown as typed (a long name cut short) ...
    assert name in parsed.titles  # ... whole in the dot's tooltip ...
    assert parsed.tags <= PAGE_TAGS  # ... and never as markup
    assert not any(key.startswith("on") for key in parsed.attributes), parsed.attributes
    if "<" in name:
        assert name not in page and _label(name) not in page
    assert "49" not in parsed.labels


def test_the_pdf_map_draws_the_outlines_and_labels_the_villages_as_plain_text(report, monkeypatch):
    names = ("羊排村", "<script>alert(1)</script>", "{{7*7}}", "'><b>x</b>")
    mapped = _mapped(report, names)
    drawn = []
    original = FPDF.polygon

    def spy(self, point_list, *args, **kwargs):
        drawn.append(list(point_list))
        return original(self, point_list, *args, **kwargs)

    monkeypatch.setattr(FPDF, "polygon", spy)
    text = re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(_pdf(mapped))).pages))
    assert len(drawn) == 4  # one outline per ring: the county, township A, township B's two parts
    for name in names:
        assert re.sub(r"\s+", "", _label(name)) in text, name


def test_a_malformed_outline_is_left_out_and_the_map_still_draws(report):
    mapped = _mapped(report, ("羊排村",))
    mapped.map_boundaries.loc[1, "boundary"] = "{not json"
    mapped.map_boundaries.loc[2, "boundary"] = json.dumps({"type": "Point", "coordinates": [108.1, 26.3]})
    parsed = _svg(report_pdf._svg_map(mapped.map_points, mapped.map_boundaries, "522699000000"))
    assert len(parsed.polylines) == 1 and parsed.labels == ["羊排村"]
    assert _pdf(mapped).startswith(b"%PDF")


@pytest.mark.parametrize(
    ("boundary", "rings"),
    [
        ({"type": "Polygon", "coordinates": [_square(108, 26, 1), _square(108.2, 26.2, 0.1)]}, 2),
        ({"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": [[_square(108, 26, 1)]] * 3}}, 3),
        ({"type": "Polygon", "coordinates": [[[108, 26], ["x", 26], [float("nan"), 1], [400, 26]]]}, 0),
        ({"type": "LineString", "coordinates": [[108, 26], [109, 27]]}, 0),
        ([1, 2, 3], 0),
    ],
)
def test_boundary_rings_reads_polygons_and_ignores_anything_else(boundary, rings):
    assert len(report_pdf.boundary_rings(json.dumps(boundary))) == rings


def test_labels_go_to_the_largest_dots_first_and_never_overlap():
    # Five dots on top of each other and one far away: one label fits in the crowd, the far one too.
    crowd = [(float(10 - k), f"村{k}", 50.0, 50.0 + 0.5 * k, 2.0) for k in range(5)]
    dots = [*crowd, (1.0, "远村", 150.0, 150.0, 2.0)]
    placed = report_pdf.place_labels(dots, lambda s: 10.0 * len(s), 8.0, (0, 0, 200, 200), gap=1.0)
    texts = [p[0] for p in placed]
    assert texts[0] == "村0" and "远村" in texts
    assert len(texts) < len(dots)
    boxes = [(left, top, left + 10.0 * len(s), top + 8.0) for s, left, top in placed]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
        assert a[0] >= 0 and a[1] >= 0 and a[2] <= 200 and a[3] <= 200


def test_labels_stop_at_the_limit():
    dots = [(float(k), f"村{k}", 10.0 + 20 * (k % 9), 10.0 + 20 * (k // 9), 1.0) for k in range(80)]
    placed = report_pdf.place_labels(dots, lambda s: 8.0, 5.0, (0, 0, 400, 400), gap=0.5, limit=10)
    assert len(placed) == 10
    assert {p[0] for p in placed} == {f"村{k}" for k in range(70, 80)}


def _pdf(report) -> bytes:
    return report_pdf.report_pdf(report, None, META)

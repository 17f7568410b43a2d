"""The printable month report: a PDF (fpdf2 + Debian's Noto CJK) and the same content as HTML.

Only aggregates and area names go on paper: no person is named, so nothing needs masking. The
charts are the report page's own (care.files.charts, as pictures); the small map is drawn with fpdf2's
own lines and shapes (PDF) and inline SVG (HTML).
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import struct
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from fpdf import FPDF, FontFace

from care import i18n
from care.domain.errors import CareError
from care.domain.reports import HOUSEHOLD_COUNT_COLUMNS, MonthReport, by_area_total, household_total
from care.files import charts
from care.files.exports import KPI_ORDER, ExportMeta, Progress, household_basis, kpi_rows, title_lines
from care.files.pdf import INK, print_table

FONT_DIR = Path("/usr/share/fonts/opentype/noto")
FONT_REGULAR = FONT_DIR / "NotoSansCJK-Regular.ttc"
FONT_BOLD = FONT_DIR / "NotoSansCJK-Bold.ttc"
FONT_SC = 2  # the Simplified Chinese face inside the collection
CHART_MM = 150.0  # a chart's printed width
PERCENT_KEYS = ("visit_rate", "on_time_rate", "rehab_coverage")
AREA_TABLE_COUNTS = ("overdue_now", "high_risk_unvisited", "unassigned", "needs_open")
# The map: outlines in thin grey (the report's own area a little darker), village labels on the
# largest dots first, each skipped when it would overlap a label already placed.
OUTLINE_GREY = (150, 150, 150)
OUTLINE_GREY_OWN = (110, 110, 110)
MAX_LABELS = 40
LABEL_CHARS = 12
PDF_MAP_MM = (120.0, 92.0)
PDF_LABEL_PT = 7.0
SVG_MAP_PX = (560, 430)
SVG_LABEL_PX = 11
Ring = list[tuple[float, float]]
Box = tuple[float, float, float, float]


def _percent(value: Any) -> str:
    return i18n.percent(value)


def _value(key: str, value: Any) -> str:
    if any(key.startswith(p) for p in PERCENT_KEYS):
        return _percent(value)
    return "—" if value is None else f"{int(value):,}"


def _area_row(row: dict[str, Any]) -> list[str]:
    return [
        str(row["area"]),
        f"{row['persons_listed']:,}",
        _percent(row["visit_rate"]),
        _percent(row["on_time_rate"]),
        *(f"{row[c]:,}" for c in AREA_TABLE_COUNTS),
    ]


def area_rows(report: MonthReport, lang: str) -> list[list[str]]:
    """The per-area table of the printed report: header row, one row per area, then the total
    row (see ``reports.by_area_total``) when there is any area."""
    head = [i18n.t(f"report.col.{c}", lang) for c in ("area", "persons_listed", "visit_rate", "on_time_rate")]
    head += [i18n.t(f"report.col.{c}", lang) for c in AREA_TABLE_COUNTS]
    rows = [head, *(_area_row(row) for row in report.by_area.to_dict("records"))]
    total = by_area_total(report)
    if total is not None:
        rows.append(_area_row({**total, "area": i18n.t("report.by_area_total", lang)}))
    return rows


def _household_row(row: dict[str, Any]) -> list[str]:
    return [
        str(row["area"]),
        *(f"{int(row[c]):,}" for c in HOUSEHOLD_COUNT_COLUMNS),
        _percent(row["guardian_in_care_rate"]),
    ]


def household_rows(households: pd.DataFrame, lang: str) -> list[list[str]]:
    """The household figures by area on paper: header row, one row per area, the total row."""
    columns = ("area", *HOUSEHOLD_COUNT_COLUMNS, "guardian_in_care_rate")
    rows = [[i18n.t(f"report.col.{c}", lang) for c in columns]]
    rows += [_household_row(row) for row in households.to_dict("records")]
    total = household_total(households)
    if total is not None:
        rows.append(_household_row({**total, "area": i18n.t("report.by_area_total", lang)}))
    return rows


def _fonts(pdf: FPDF) -> None:
    for path in (FONT_REGULAR, FONT_BOLD):
        if not path.is_file():
            raise CareError("report.font_missing", path=str(path))
    pdf.add_font("noto", "", str(FONT_REGULAR), collection_font_number=FONT_SC)
    pdf.add_font("noto", "B", str(FONT_BOLD), collection_font_number=FONT_SC)


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("noto", "B", 12)
    pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("noto", "", 9)


def _table(pdf: FPDF, rows: list[list[str]], widths: tuple[float, ...] | None = None, *, total: bool = False) -> None:
    """A printed table; with ``total`` its last row is the bold total row."""
    bold = FontFace(emphasis="BOLD", color=INK)
    with print_table(pdf, col_widths=widths, line_height=6) as table:
        for i, values in enumerate(rows):
            line = table.row()
            style = bold if total and i == len(rows) - 1 and i > 0 else None
            for value in values:
                line.cell(value, style=style)


def _chart(pdf: FPDF, heading: str, png: bytes, width_mm: float = CHART_MM) -> None:
    """A chart picture ``width_mm`` wide (never wider than the page) under its heading, both on a
    new page when the picture would not fit below."""
    pixels_w, pixels_h = struct.unpack(">II", png[16:24])  # the PNG header's IHDR
    width = min(width_mm, pdf.epw)
    height = width * pixels_h / pixels_w
    if pdf.will_page_break(height + 14):
        pdf.add_page()
    _heading(pdf, heading)
    pdf.image(io.BytesIO(png), x=pdf.l_margin, y=pdf.get_y(), w=width, h=height)
    pdf.set_y(pdf.get_y() + height + 2)


def _map(pdf: FPDF, points: pd.DataFrame, boundaries: pd.DataFrame, area_code: str, lang: str) -> None:
    """The village dots over the stored outlines, the largest villages labelled, the legend beside."""
    if points.empty:
        pdf.cell(0, 6, i18n.t("report.map_empty", lang), new_x="LMARGIN", new_y="NEXT")
        return
    (w, h), pad = PDF_MAP_MM, 4.0
    x0, y0 = pdf.l_margin, pdf.get_y() + 2
    pdf.set_draw_color(180, 180, 180)
    pdf.rect(x0, y0, w, h)
    shapes = map_outlines(boundaries, area_code)
    project = _projector(points, shapes, w - 2 * pad, h - 2 * pad)

    def at(lat: float, lon: float) -> tuple[float, float]:
        x, y = project(lat, lon)
        return x0 + pad + x, y0 + pad + y

    for own, rings in shapes:
        pdf.set_draw_color(*(OUTLINE_GREY_OWN if own else OUTLINE_GREY))
        pdf.set_line_width(0.35 if own else 0.2)
        for ring in rings:
            corners = _thinned([at(lat, lon) for lon, lat in ring], 0.3)
            if len(corners) >= 2:
                pdf.polygon(corners, style="D")
    pdf.set_line_width(0.2)
    biggest = max(1.0, float(points["persons"].max()))
    dots = []
    for row in points.to_dict("records"):
        x, y = at(row["lat"], row["lon"])
        radius = 0.6 + 2.4 * math.sqrt(float(row["persons"]) / biggest)
        pdf.set_fill_color(*_heat(float(row["overdue_share"])))
        pdf.circle(x, y, radius, style="F")
        dots.append((float(row["persons"]), str(row["name"]), x, y, radius))
    _pdf_labels(pdf, dots, (x0, y0, x0 + w, y0 + h))
    pdf.set_xy(x0 + w + 4, y0)
    pdf.multi_cell(pdf.epw - w - 4, 5, i18n.t("report.map_legend", lang), align="L")
    pdf.set_y(y0 + h + 3)


def _pdf_labels(pdf: FPDF, dots: list[tuple[float, str, float, float, float]], frame: Box) -> None:
    """Village names beside their dots, as plain text (never markup)."""
    pdf.set_font("noto", "", PDF_LABEL_PT)
    height = PDF_LABEL_PT * 25.4 / 72
    placed = place_labels(dots, pdf.get_string_width, height, frame, gap=0.4)
    pdf.set_text_color(*INK)
    for text, left, top in placed:
        with pdf.local_context(fill_opacity=0.7):
            pdf.set_fill_color(255, 255, 255)
            pdf.rect(left - 0.2, top, pdf.get_string_width(text) + 0.4, height, style="F")
        pdf.text(left, top + height * 0.8, text)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("noto", "", 9)


def boundary_rings(boundary: Any) -> list[Ring]:
    """Every ring (outer and holes) of a stored GeoJSON Polygon or MultiPolygon (a geometry or a
    Feature), each as (lon, lat) corners; [] when the text is not such a shape."""
    if not isinstance(boundary, str) or not boundary:
        return []
    try:
        data = json.loads(boundary)
    except ValueError:
        return []
    geometry = data.get("geometry", data) if isinstance(data, dict) else None
    if not isinstance(geometry, dict) or not isinstance(geometry.get("coordinates"), list):
        return []
    kind = geometry.get("type")
    polygons = (
        [geometry["coordinates"]] if kind == "Polygon" else geometry["coordinates"] if kind == "MultiPolygon" else []
    )
    rings = []
    for polygon in polygons:
        for ring in polygon if isinstance(polygon, list) else []:
            corners = [c for c in map(_corner, ring if isinstance(ring, list) else []) if c is not None]
            if len(corners) >= 2:
                rings.append(corners)
    return rings


def _corner(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, list) or len(value) < 2:
        return None
    lon, lat = value[0], value[1]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (lon, lat)):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return float(lon), float(lat)


def map_outlines(boundaries: pd.DataFrame, area_code: str) -> list[tuple[bool, list[Ring]]]:
    """The outlines the map draws, in the report's order: (whether it is the report's own area, rings)."""
    if boundaries.empty:
        return []
    found = []
    for code, boundary in zip(boundaries["code"], boundaries["boundary"], strict=True):
        rings = boundary_rings(boundary)
        if rings:
            found.append((str(code) == area_code, rings))
    return found


def _thinned(corners: list[tuple[float, float]], step: float) -> list[tuple[float, float]]:
    """Corners closer than ``step`` to the last one kept are dropped (they print as one point)."""
    kept = corners[:1]
    for x, y in corners[1:]:
        if abs(x - kept[-1][0]) >= step or abs(y - kept[-1][1]) >= step:
            kept.append((x, y))
    return kept


def place_labels(
    dots: Iterable[tuple[float, str, float, float, float]],
    measure: Callable[[str], float],
    height: float,
    frame: Box,
    *,
    gap: float,
    limit: int = MAX_LABELS,
) -> list[tuple[str, float, float]]:
    """Labels for the largest dots (weight, name, x, y, radius): right of the dot, else left, else
    above; a label that would overlap one already placed or leave ``frame`` is skipped. Returns
    (text, left, top) of each label placed."""
    placed: list[tuple[str, float, float]] = []
    boxes: list[Box] = []
    for _weight, name, x, y, radius in sorted(dots, key=lambda d: (-d[0], d[1]))[: limit * 3]:
        text = name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1] + "…"
        width = measure(text)
        tries = (
            (x + radius + gap, y - height / 2),
            (x - radius - gap - width, y - height / 2),
            (x - width / 2, y - radius - gap - height),
        )
        for left, top in tries:
            box = (left, top, left + width, top + height)
            inside = box[0] >= frame[0] and box[1] >= frame[1] and box[2] <= frame[2] and box[3] <= frame[3]
            if inside and not any(_overlap(box, other) for other in boxes):
                boxes.append(box)
                placed.append((text, left, top))
                break
        if len(placed) >= limit:
            break
    return placed


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _projector(points: pd.DataFrame, shapes: list[tuple[bool, list[Ring]]], w: float, h: float) -> Any:
    """(lat, lon) to (x, y) in a w × h box around the points and the outlines, centred, north up."""
    lats = [float(v) for v in points["lat"]] + [lat for _, rings in shapes for ring in rings for _, lat in ring]
    lons = [float(v) for v in points["lon"]] + [lon for _, rings in shapes for ring in rings for lon, _ in ring]
    lat_min, lat_max = min(lats), max(lats)
    lon_min, lon_max = min(lons), max(lons)
    squeeze = math.cos(math.radians((lat_min + lat_max) / 2))
    span_x = max(1e-6, (lon_max - lon_min) * squeeze)
    span_y = max(1e-6, lat_max - lat_min)
    scale = min(w / span_x, h / span_y)
    left, top = (w - span_x * scale) / 2, (h - span_y * scale) / 2

    def project(lat: float, lon: float) -> tuple[float, float]:
        return left + (lon - lon_min) * squeeze * scale, top + (lat_max - lat) * scale

    return project


def _heat(share: float) -> tuple[int, int, int]:
    """Green (no overdue) to red (a third or more overdue)."""
    t = max(0.0, min(1.0, share * 3))
    return int(60 + 180 * t), int(170 - 120 * t), 60


def report_pdf(
    report: MonthReport,
    trends: pd.DataFrame | None,
    meta: ExportMeta,
    lang: str = "zh",
    progress: Progress | None = None,
    households: pd.DataFrame | None = None,
    pictures: list[tuple[str, bytes]] | None = None,
) -> bytes:
    """The printable report as PDF bytes (fails with a catalog message when the CJK font is missing);
    with ``households``, a section of the household figures by area; ``pictures`` are the charts
    with their headings, the month's rate by group first (by default that and the trends')."""
    step = progress or (lambda _f, _t: None)
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    step(0.05, i18n.t("report.pdf_fonts", lang))
    _fonts(pdf)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    lines = title_lines(meta, lang)
    pdf.set_font("noto", "B", 15)
    pdf.multi_cell(0, 8, lines[0], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("noto", "", 9)
    for text in lines[1:]:
        pdf.cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
    step(0.3, i18n.t("report.sheet.overview", lang))
    _heading(pdf, i18n.t("report.pdf_kpis", lang))
    kpis = kpi_rows(report, lang)
    rows = [[i18n.t("report.col.item", lang), i18n.t("report.col.value", lang)]]
    rows += [[label, _value(k, v)] for k, (label, v) in zip(KPI_ORDER, kpis.itertuples(index=False), strict=True)]
    _table(pdf, rows, (3, 1))
    pictures = pictures or charts.report_pictures(report.visit_rates, trends, lang)
    _chart(pdf, *pictures[0], CHART_MM * 0.8)
    step(0.5, i18n.t("report.by_area_title", lang))
    _heading(pdf, i18n.t("report.by_area_title", lang))
    pdf.set_font("noto", "", 8)
    _table(pdf, area_rows(report, lang), (3, 2, 2, 2, 2, 2, 2, 2), total=not report.by_area.empty)
    pdf.set_font("noto", "", 9)
    if households is not None:
        step(0.6, i18n.t("report.sheet.households", lang))
        _heading(pdf, i18n.t("report.sheet.households", lang))
        pdf.set_font("noto", "", 8)
        _table(pdf, household_rows(households, lang), (3, 2, 2, 2, 2, 2), total=not households.empty)
        pdf.set_font("noto", "", 9)
        pdf.multi_cell(0, 5, household_basis(meta, lang), align="L", new_x="LMARGIN", new_y="NEXT")
    step(0.7, i18n.t("report.sheet.charts", lang))
    for heading, png in pictures[1:]:
        _chart(pdf, heading, png)
    step(0.85, i18n.t("report.pdf_map", lang))
    if not report.map_points.empty and pdf.will_page_break(PDF_MAP_MM[1] + 16):
        pdf.add_page()  # the map and its heading on one page
    _heading(pdf, i18n.t("report.pdf_map", lang))
    _map(pdf, report.map_points, report.map_boundaries, report.area_code, lang)
    _heading(pdf, i18n.t("report.definitions_title", lang))
    pdf.multi_cell(0, 5, i18n.t("report.definitions", lang), align="L")
    data = bytes(pdf.output())
    step(1.0, i18n.t("report.done", lang))
    return data


def report_html(
    report: MonthReport,
    trends: pd.DataFrame | None,
    meta: ExportMeta,
    lang: str = "zh",
    households: pd.DataFrame | None = None,
    pictures: list[tuple[str, bytes]] | None = None,
) -> str:
    """The same report as a standalone HTML page for the browser's print (every text escaped)."""
    esc = html.escape
    lines = title_lines(meta, lang)
    kpis = kpi_rows(report, lang)
    pictures = pictures or charts.report_pictures(report.visit_rates, trends, lang)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{esc(lines[0])}</title>",
        "<style>body{font-family:'Noto Sans CJK SC',sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:2px 8px}th{background:#ddebf7}"
        "td.total{font-weight:bold;border-top:2px solid #333}img.chart{width:560px;max-width:100%}"
        "@media print{body{margin:0}}</style></head><body>",
        f"<h1>{esc(lines[0])}</h1>",
        *[f"<p>{esc(text)}</p>" for text in lines[1:]],
        f"<h2>{esc(i18n.t('report.pdf_kpis', lang))}</h2>",
        _html_table(
            [[i18n.t("report.col.item", lang), i18n.t("report.col.value", lang)]]
            + [[label, _value(k, v)] for k, (label, v) in zip(KPI_ORDER, kpis.itertuples(index=False), strict=True)]
        ),
        f"<h2>{esc(pictures[0][0])}</h2>",
        _html_picture(pictures[0][1], pictures[0][0]),
        f"<h2>{esc(i18n.t('report.by_area_title', lang))}</h2>",
        _html_table(area_rows(report, lang), total=not report.by_area.empty),
    ]
    if households is not None:
        parts += [
            f"<h2>{esc(i18n.t('report.sheet.households', lang))}</h2>",
            _html_table(household_rows(households, lang), total=not households.empty),
            f"<p>{esc(household_basis(meta, lang))}</p>",
        ]
    for heading, png in pictures[1:]:
        parts += [f"<h2>{esc(heading)}</h2>", _html_picture(png, heading)]
    parts += [
        f"<h2>{esc(i18n.t('report.pdf_map', lang))}</h2>",
        _svg_map(report.map_points, report.map_boundaries, report.area_code),
        f"<p>{esc(i18n.t('report.map_legend', lang))}</p>",
        f"<h2>{esc(i18n.t('report.definitions_title', lang))}</h2>",
        f"<p>{esc(i18n.t('report.definitions', lang))}</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _html_table(rows: list[list[str]], *, total: bool = False) -> str:
    """A table: header row, then the rows; with ``total`` the last is the bold total row."""
    head = "".join(f"<th>{html.escape(str(v))}</th>" for v in rows[0])
    body = []
    for i, row in enumerate(rows[1:], start=1):
        opening = "<td class='total'>" if total and i == len(rows) - 1 else "<td>"
        body.append("<tr>" + "".join(f"{opening}{html.escape(str(v))}</td>" for v in row) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _rgb(colour: tuple[int, int, int]) -> str:
    return "rgb({},{},{})".format(*colour)


def _html_picture(png: bytes, text: str) -> str:
    """A chart picture inline (a data: URL, so the page stays one file that opens offline)."""
    data = base64.b64encode(png).decode("ascii")
    alt = html.escape(text, quote=True)
    return f"<p><img alt='{alt}' class='chart' src='data:image/png;base64,{data}'></p>"


def _svg_width(text: str) -> float:
    """About how wide ``text`` draws at the label size (CJK a full em, others about half)."""
    return sum(SVG_LABEL_PX if ord(ch) > 0x2E80 else SVG_LABEL_PX * 0.6 for ch in text)


def _svg_map(points: pd.DataFrame, boundaries: pd.DataFrame | None = None, area_code: str = "") -> str:
    if points.empty:
        return ""
    (w, h), pad = SVG_MAP_PX, 12
    shapes = map_outlines(boundaries if boundaries is not None else pd.DataFrame(), area_code)
    project = _projector(points, shapes, w - 2 * pad, h - 2 * pad)

    def at(lat: float, lon: float) -> tuple[float, float]:
        x, y = project(lat, lon)
        return x + pad, y + pad

    outlines = []
    for own, rings in shapes:
        colour, width = (OUTLINE_GREY_OWN, 1.4) if own else (OUTLINE_GREY, 0.8)
        for ring in rings:
            corners = _thinned([at(lat, lon) for lon, lat in ring], 0.8)
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in [*corners, corners[0]])
            outlines.append(f"<polyline fill='none' stroke='{_rgb(colour)}' stroke-width='{width}' points='{path}'/>")
    biggest = max(1.0, float(points["persons"].max()))
    dots, placing = [], []
    for row in points.to_dict("records"):
        x, y = at(row["lat"], row["lon"])
        radius = 2 + 8 * math.sqrt(float(row["persons"]) / biggest)
        fill = _rgb(_heat(float(row["overdue_share"])))
        dots.append(
            f"<circle cx='{x:.1f}' cy='{y:.1f}' r='{radius:.1f}' fill='{fill}'>"
            f"<title>{html.escape(str(row['name']))}</title></circle>"
        )
        placing.append((float(row["persons"]), str(row["name"]), x, y, radius))
    labels = [
        f"<text x='{left:.1f}' y='{top + SVG_LABEL_PX * 0.85:.1f}' font-size='{SVG_LABEL_PX}' fill='#222' "
        f"stroke='#fff' stroke-width='3' paint-order='stroke'>{html.escape(text)}</text>"
        for text, left, top in place_labels(placing, _svg_width, SVG_LABEL_PX, (0, 0, w, h), gap=2)
    ]
    body = "".join(outlines) + "".join(dots) + "".join(labels)
    return f"<svg width='{w}' height='{h}' style='border:1px solid #bbb'>{body}</svg>"

"""The printable month report: a PDF (fpdf2 + Debian's Noto CJK) and the same content as HTML.

Only aggregates and area names go on paper: no person is named, so nothing needs masking. Charts
and the small map are drawn with fpdf2's own lines and shapes (PDF) and inline SVG (HTML).
"""

from __future__ import annotations

import html
import itertools
import math
from pathlib import Path
from typing import Any

import pandas as pd
from fpdf import FPDF

from care import enums, i18n
from care.errors import CareError
from care.exports import KPI_ORDER, ExportMeta, Progress, kpi_rows, title_lines
from care.reports import MonthReport

FONT_DIR = Path("/usr/share/fonts/opentype/noto")
FONT_REGULAR = FONT_DIR / "NotoSansCJK-Regular.ttc"
FONT_BOLD = FONT_DIR / "NotoSansCJK-Bold.ttc"
FONT_SC = 2  # the Simplified Chinese face inside the collection
GROUP_COLOURS = {"child": (31, 119, 180), "elderly": (255, 127, 14), "disabled": (44, 160, 44), "all": (90, 90, 90)}
PERCENT_KEYS = ("visit_rate", "on_time_rate", "rehab_coverage")


def _percent(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{float(value) * 100:.1f}%"


def _value(key: str, value: Any) -> str:
    if any(key.startswith(p) for p in PERCENT_KEYS):
        return _percent(value)
    return "—" if value is None else f"{int(value):,}"


def area_rows(report: MonthReport, lang: str) -> list[list[str]]:
    """The per-area table of the printed report: header row then one row per area."""
    head = [i18n.t(f"rpt.col.{c}", lang) for c in ("area", "persons_listed", "visit_rate", "on_time_rate")]
    head += [i18n.t(f"rpt.col.{c}", lang) for c in ("overdue_now", "high_risk_unvisited", "unassigned", "needs_open")]
    rows = [head]
    for row in report.by_area.to_dict("records"):
        rows.append(
            [
                str(row["area"]),
                f"{row['persons_listed']:,}",
                _percent(row["visit_rate"]),
                _percent(row["on_time_rate"]),
                f"{row['overdue_now']:,}",
                f"{row['high_risk_unvisited']:,}",
                f"{row['unassigned']:,}",
                f"{row['needs_open']:,}",
            ]
        )
    return rows


def _fonts(pdf: FPDF) -> None:
    for path in (FONT_REGULAR, FONT_BOLD):
        if not path.is_file():
            raise CareError("rpt.font_missing", path=str(path))
    pdf.add_font("noto", "", str(FONT_REGULAR), collection_font_number=FONT_SC)
    pdf.add_font("noto", "B", str(FONT_BOLD), collection_font_number=FONT_SC)


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("noto", "B", 12)
    pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("noto", "", 9)


def _table(pdf: FPDF, rows: list[list[str]], widths: tuple[float, ...] | None = None) -> None:
    with pdf.table(col_widths=widths, line_height=6, text_align="LEFT", first_row_as_headings=True) as table:
        for values in rows:
            line = table.row()
            for value in values:
                line.cell(value)


def _bars(pdf: FPDF, report: MonthReport, lang: str) -> None:
    x0, y0, width = pdf.l_margin + 30, pdf.get_y() + 2, 120
    for i, row in enumerate(report.visit_rates.to_dict("records")):
        y = y0 + i * 8
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(30, 6, i18n.t(f"rpt.group.{row['group']}", lang))
        share = float(row["rate"] or 0)
        pdf.set_fill_color(*GROUP_COLOURS[row["group"]])
        pdf.rect(x0, y + 1, max(0.3, width * share), 4, style="F")
        pdf.set_xy(x0 + width + 3, y)
        pdf.cell(30, 6, _percent(row["rate"]))
    pdf.set_y(y0 + len(report.visit_rates) * 8 + 2)


def _trend_chart(pdf: FPDF, trends: pd.DataFrame, lang: str) -> None:
    months = list(dict.fromkeys(trends["month"]))
    x0, y0, w, h = pdf.l_margin + 10, pdf.get_y() + 4, 150, 50
    pdf.set_draw_color(150, 150, 150)
    pdf.rect(x0, y0, w, h)
    pdf.set_font("noto", "", 7)
    for pct in (0, 50, 100):
        y = y0 + h - h * pct / 100
        pdf.line(x0 - 1, y, x0, y)
        pdf.set_xy(x0 - 10, y - 2)
        pdf.cell(9, 4, f"{pct}%", align="R")
    step = w / max(1, len(months) - 1)
    for i, month in enumerate(months):
        pdf.set_xy(x0 + i * step - 6, y0 + h + 1)
        pdf.cell(12, 4, month[2:], align="C")
    for group in (*enums.GROUPS, "all"):
        part = trends[trends["group"] == group].set_index("month")["rate"]
        points = [(x0 + i * step, y0 + h - h * float(part[m])) for i, m in enumerate(months) if pd.notna(part.get(m))]
        pdf.set_draw_color(*GROUP_COLOURS[group])
        pdf.set_line_width(0.5)
        for a, b in itertools.pairwise(points):
            pdf.line(a[0], a[1], b[0], b[1])
    pdf.set_line_width(0.2)
    pdf.set_y(y0 + h + 6)
    for group in (*enums.GROUPS, "all"):
        pdf.set_fill_color(*GROUP_COLOURS[group])
        x = pdf.get_x()
        pdf.rect(x, pdf.get_y() + 1.5, 4, 2, style="F")
        pdf.set_x(x + 5)
        pdf.cell(30, 5, i18n.t(f"rpt.group.{group}", lang))
    pdf.ln(6)
    pdf.set_font("noto", "", 9)


def _map(pdf: FPDF, points: pd.DataFrame, lang: str) -> None:
    if points.empty:
        pdf.cell(0, 6, i18n.t("rpt.map_empty", lang), new_x="LMARGIN", new_y="NEXT")
        return
    x0, y0, w, h = pdf.l_margin, pdf.get_y() + 2, 90, 70
    pdf.set_draw_color(180, 180, 180)
    pdf.rect(x0, y0, w, h)
    project = _projector(points, w - 8, h - 8)
    biggest = max(1.0, float(points["persons"].max()))
    for row in points.to_dict("records"):
        x, y = project(row["lat"], row["lon"])
        radius = 0.6 + 2.4 * math.sqrt(float(row["persons"]) / biggest)
        pdf.set_fill_color(*_heat(float(row["overdue_share"])))
        pdf.circle(x0 + 4 + x, y0 + 4 + y, radius, style="F")
    pdf.set_xy(x0 + w + 4, y0)
    pdf.multi_cell(80, 5, i18n.t("rpt.map_legend", lang), align="L")
    pdf.set_y(y0 + h + 3)


def _projector(points: pd.DataFrame, w: float, h: float) -> Any:
    lat_min, lat_max = float(points["lat"].min()), float(points["lat"].max())
    lon_min, lon_max = float(points["lon"].min()), float(points["lon"].max())
    squeeze = math.cos(math.radians((lat_min + lat_max) / 2))
    span_x = max(1e-6, (lon_max - lon_min) * squeeze)
    span_y = max(1e-6, lat_max - lat_min)
    scale = min(w / span_x, h / span_y)

    def project(lat: float, lon: float) -> tuple[float, float]:
        return (lon - lon_min) * squeeze * scale, h - (lat - lat_min) * scale

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
) -> bytes:
    """The printable report as PDF bytes (fails with a catalog message when the CJK font is missing)."""
    step = progress or (lambda _f, _t: None)
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    step(0.05, i18n.t("rpt.pdf_fonts", lang))
    _fonts(pdf)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    lines = title_lines(meta, lang)
    pdf.set_font("noto", "B", 15)
    pdf.multi_cell(0, 8, lines[0], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("noto", "", 9)
    for text in lines[1:]:
        pdf.cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
    step(0.3, i18n.t("rpt.sheet.overview", lang))
    _heading(pdf, i18n.t("rpt.pdf_kpis", lang))
    kpis = kpi_rows(report, lang)
    rows = [[i18n.t("rpt.col.item", lang), i18n.t("rpt.col.value", lang)]]
    rows += [[label, _value(k, v)] for k, (label, v) in zip(KPI_ORDER, kpis.itertuples(index=False), strict=True)]
    _table(pdf, rows, (3, 1))
    _heading(pdf, i18n.t("rpt.pdf_rates", lang))
    _bars(pdf, report, lang)
    step(0.5, i18n.t("rpt.by_area_title", lang))
    _heading(pdf, i18n.t("rpt.by_area_title", lang))
    pdf.set_font("noto", "", 8)
    _table(pdf, area_rows(report, lang), (3, 2, 2, 2, 2, 2, 2, 2))
    pdf.set_font("noto", "", 9)
    if trends is not None and not trends.empty:
        step(0.7, i18n.t("rpt.sheet.trends", lang))
        _heading(pdf, i18n.t("rpt.sheet.trends", lang))
        _trend_chart(pdf, trends, lang)
    step(0.85, i18n.t("rpt.pdf_map", lang))
    _heading(pdf, i18n.t("rpt.pdf_map", lang))
    _map(pdf, report.map_points, lang)
    _heading(pdf, i18n.t("rpt.definitions_title", lang))
    pdf.multi_cell(0, 5, i18n.t("rpt.definitions", lang), align="L")
    data = bytes(pdf.output())
    step(1.0, i18n.t("rpt.done", lang))
    return data


def report_html(report: MonthReport, trends: pd.DataFrame | None, meta: ExportMeta, lang: str = "zh") -> str:
    """The same report as a standalone HTML page for the browser's print (every text escaped)."""
    esc = html.escape
    lines = title_lines(meta, lang)
    kpis = kpi_rows(report, lang)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{esc(lines[0])}</title>",
        "<style>body{font-family:'Noto Sans CJK SC',sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:2px 8px}th{background:#ddebf7}"
        "@media print{body{margin:0}}</style></head><body>",
        f"<h1>{esc(lines[0])}</h1>",
        *[f"<p>{esc(text)}</p>" for text in lines[1:]],
        f"<h2>{esc(i18n.t('rpt.pdf_kpis', lang))}</h2>",
        _html_table(
            [[i18n.t("rpt.col.item", lang), i18n.t("rpt.col.value", lang)]]
            + [[label, _value(k, v)] for k, (label, v) in zip(KPI_ORDER, kpis.itertuples(index=False), strict=True)]
        ),
        f"<h2>{esc(i18n.t('rpt.pdf_rates', lang))}</h2>",
        _svg_bars(report, lang),
        f"<h2>{esc(i18n.t('rpt.by_area_title', lang))}</h2>",
        _html_table(area_rows(report, lang)),
    ]
    if trends is not None and not trends.empty:
        parts += [f"<h2>{esc(i18n.t('rpt.sheet.trends', lang))}</h2>", _svg_trends(trends, lang)]
    parts += [
        f"<h2>{esc(i18n.t('rpt.pdf_map', lang))}</h2>",
        _svg_map(report.map_points),
        f"<p>{esc(i18n.t('rpt.map_legend', lang))}</p>",
        f"<h2>{esc(i18n.t('rpt.definitions_title', lang))}</h2>",
        f"<p>{esc(i18n.t('rpt.definitions', lang))}</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _html_table(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(str(v))}</th>" for v in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows[1:])
    return f"<table><tr>{head}</tr>{body}</table>"


def _rgb(colour: tuple[int, int, int]) -> str:
    return "rgb({},{},{})".format(*colour)


def _svg_bars(report: MonthReport, lang: str) -> str:
    bars = []
    for i, row in enumerate(report.visit_rates.to_dict("records")):
        share = float(row["rate"] or 0)
        label = html.escape(i18n.t(f"rpt.group.{row['group']}", lang))
        bars.append(
            f"<text x='0' y='{i * 26 + 16}'>{label}</text>"
            f"<rect x='90' y='{i * 26 + 4}' width='{share * 400:.1f}' height='16' "
            f"fill='{_rgb(GROUP_COLOURS[row['group']])}'/>"
            f"<text x='{share * 400 + 96:.1f}' y='{i * 26 + 16}'>{_percent(row['rate'])}</text>"
        )
    return f"<svg width='560' height='{len(bars) * 26 + 4}'>{''.join(bars)}</svg>"


def _svg_trends(trends: pd.DataFrame, lang: str) -> str:
    months = list(dict.fromkeys(trends["month"]))
    w, h, left = 520, 160, 40
    step = w / max(1, len(months) - 1)
    lines = []
    for group in (*enums.GROUPS, "all"):
        part = trends[trends["group"] == group].set_index("month")["rate"]
        points = " ".join(
            f"{left + i * step:.1f},{h - h * float(part[m]):.1f}" for i, m in enumerate(months) if pd.notna(part.get(m))
        )
        lines.append(
            f"<polyline fill='none' stroke-width='2' stroke='{_rgb(GROUP_COLOURS[group])}' points='{points}'/>"
        )
    labels = "".join(
        f"<text x='{left + i * step - 14:.1f}' y='{h + 16}' font-size='10'>{html.escape(m[2:])}</text>"
        for i, m in enumerate(months)
    )
    legend = "".join(
        f"<text x='{left + k * 110}' y='{h + 36}' fill='{_rgb(GROUP_COLOURS[g])}'>"
        f"{html.escape(i18n.t(f'rpt.group.{g}', lang))}</text>"
        for k, g in enumerate((*enums.GROUPS, "all"))
    )
    axis = f"<rect x='{left}' y='0' width='{w}' height='{h}' fill='none' stroke='#999'/>"
    return f"<svg width='{w + left + 20}' height='{h + 44}'>{axis}{''.join(lines)}{labels}{legend}</svg>"


def _svg_map(points: pd.DataFrame) -> str:
    if points.empty:
        return ""
    w, h = 360, 280
    project = _projector(points, w - 20, h - 20)
    biggest = max(1.0, float(points["persons"].max()))
    dots = []
    for row in points.to_dict("records"):
        x, y = project(row["lat"], row["lon"])
        radius = 2 + 8 * math.sqrt(float(row["persons"]) / biggest)
        fill = _rgb(_heat(float(row["overdue_share"])))
        dots.append(
            f"<circle cx='{x + 10:.1f}' cy='{y + 10:.1f}' r='{radius:.1f}' fill='{fill}'>"
            f"<title>{html.escape(str(row['name']))}</title></circle>"
        )
    return f"<svg width='{w}' height='{h}' style='border:1px solid #bbb'>{''.join(dots)}</svg>"

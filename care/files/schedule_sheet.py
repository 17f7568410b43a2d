"""The printable weekly sheet of a worker's patrol (HTML for the browser's print, and PDF).

Every user-typed string is escaped (HTML) or written as plain text (PDF). The small map of
numbered stops is drawn from the coordinates alone (SVG / PDF shapes), so the sheet needs no
tiles and no network.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
from collections.abc import Sequence

from fpdf import FPDF

from care.domain import clock
from care.files.pdf import FAMILY, cjk_document, print_table
from care.i18n import t
from care.queries.schedule import DayView, StopView, WeekPlan

MAP_W, MAP_H, PAD = 360.0, 220.0, 18.0


def _label(lang: str, name: str, value: object) -> str:
    return t(f"enum.{name}.{value}", lang)


def weekday(day: dt.date, lang: str) -> str:
    """The day's name in the user's language (周一 … / Mon …)."""
    return t(f"schedule.weekday.{day.weekday()}", lang)


def project(
    points: Sequence[tuple[float, float]], width: float = MAP_W, height: float = MAP_H, pad: float = PAD
) -> list[tuple[float, float]]:
    """(lat, lon) points to (x, y) in a box, north up, one scale for both axes, padded."""
    if not points:
        return []
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    span_x = max(max(lons) - min(lons), 1e-4)
    span_y = max(max(lats) - min(lats), 1e-4)
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
    off_x = (width - scale * span_x) / 2
    off_y = (height - scale * span_y) / 2
    return [(off_x + (lon - min(lons)) * scale, height - off_y - (lat - min(lats)) * scale) for lat, lon in points]


def _map_points(
    office: tuple[float, float] | None, stops: Sequence[StopView]
) -> tuple[list[tuple[float, float]], list[int]]:
    located = [s for s in stops if s.located]
    coords = ([office] if office else []) + [(s.lat, s.lon) for s in located]
    return project(coords), [s.seq for s in located]  # type: ignore[arg-type]


def stops_svg(office: tuple[float, float] | None, stops: Sequence[StopView], lang: str) -> str:
    """An SVG sketch: the office as a square, each located stop as a numbered circle, the route line."""
    xy, numbers = _map_points(office, stops)
    if not xy:
        return f'<p class="nomap">{html.escape(t("schedule.no_map", lang))}</p>'
    parts = [f'<svg class="map" viewBox="0 0 {MAP_W:.0f} {MAP_H:.0f}" xmlns="http://www.w3.org/2000/svg">']
    parts.append(f'<rect width="{MAP_W:.0f}" height="{MAP_H:.0f}" fill="#f7f7f4" stroke="#bbb"/>')
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    parts.append(f'<polyline points="{line}" fill="none" stroke="#5b7fa6" stroke-width="1.5" stroke-dasharray="4 3"/>')
    stop_xy = xy[1:] if office else xy
    if office:
        x, y = xy[0]
        parts.append(f'<rect x="{x - 6:.1f}" y="{y - 6:.1f}" width="12" height="12" fill="#333"/>')
    for (x, y), n in zip(stop_xy, numbers, strict=True):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="#c0392b"/>')
        parts.append(f'<text x="{x:.1f}" y="{y + 3.5:.1f}" font-size="10" text-anchor="middle" fill="#fff">{n}</text>')
    parts.append("</svg>")
    return "".join(parts)


def what_to_check(stop: StopView, lang: str, today: dt.date) -> str:
    """The checks of each group the stop is in, open needs and how late the visit is."""
    items = [t(f"check.{g}", lang) for g in stop.groups]
    if stop.open_needs:
        items.append(t("schedule.open_needs", lang, n=stop.open_needs))
    if stop.overdue and stop.due_on is not None:
        items.append(t("schedule.overdue_days", lang, n=(today - stop.due_on).days))
    if not stop.located:
        items.append(t("schedule.no_coords", lang))
    return "；".join(items) if lang == "zh" else "; ".join(items)


def members_line(stop: StopView, lang: str) -> str:
    """Who is at the stop: the one name, or each member of a household with their relation,
    groups and risk."""
    if len(stop.members) < 2:
        return stop.name
    sep = "；" if lang == "zh" else "; "
    return sep.join(
        t(
            "schedule.member",
            lang,
            name=m.name,
            relation=_label(lang, "relation", m.relation),
            groups="、".join(_label(lang, "group", g) for g in m.groups),
            risk=_label(lang, "risk", m.risk),
        )
        for m in stop.members
    )


def _day_title(plan: WeekPlan, day: DayView, lang: str) -> str:
    title = t(
        "schedule.day_title",
        lang,
        day=day.day.strftime("%m-%d"),
        weekday=weekday(day.day, lang),
        n=len(day.stops),
        km=f"{day.distance_km:.1f}",
    )
    return title + (" · " + t("schedule.fixed", lang) if day.fixed else "")


def _columns(lang: str) -> list[str]:
    keys = (
        "schedule.col_seq",
        "column.name",
        "schedule.col_address",
        "column.groups",
        "column.risk",
        "column.next_due",
        "schedule.col_check",
        "schedule.col_result",
    )
    return [t(k, lang) for k in keys]


def _cells(stop: StopView, lang: str, today: dt.date) -> list[str]:
    return [
        str(stop.seq),
        members_line(stop, lang),
        f"{stop.village} {stop.address}",
        "、".join(_label(lang, "group", g) for g in stop.groups),
        _label(lang, "risk", stop.risk),
        stop.due_on.isoformat() if stop.due_on else "",
        what_to_check(stop, lang, today),
        t("schedule.result_boxes", lang),
    ]


STYLE = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC","Microsoft YaHei",sans-serif;margin:16px;color:#222}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:18px 0 6px}
.meta{color:#555;font-size:12px}
table{border-collapse:collapse;width:100%;font-size:12px}
th,td{border:1px solid #999;padding:4px 6px;vertical-align:top;text-align:left}
th{background:#eee} .map{width:360px;height:220px;display:block;margin:4px 0}
.day{page-break-inside:avoid} .nomap{color:#777;font-size:12px}
@media print{body{margin:0}.day{page-break-before:always}.day:first-of-type{page-break-before:auto}}
"""


def sheet_html(plan: WeekPlan, lang: str, today: dt.date) -> str:
    """A standalone HTML page of the week, one section per day, ready for the browser's print."""
    esc = html.escape
    title = t("schedule.sheet_title", lang, name=plan.worker_name, week=plan.week_start.isoformat())
    meta = t(
        "schedule.sheet_meta",
        lang,
        kind=_label(lang, "worker_kind", plan.worker_kind),
        area=plan.area,
        n=plan.stops,
        km=f"{plan.distance_km:.1f}",
        limit=plan.daily_limit,
        at=clock.now().strftime("%Y-%m-%d %H:%M"),
    )
    out = [f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{esc(title)}</title>']
    out.append(f"<style>{STYLE}</style></head><body><h1>{esc(title)}</h1><p class='meta'>{esc(meta)}</p>")
    if plan.office is None:
        out.append(f"<p class='meta'>{esc(t('schedule.no_office', lang))}</p>")
    head = "".join(f"<th>{esc(c)}</th>" for c in _columns(lang))
    for day in plan.days:
        out.append(f"<section class='day'><h2>{esc(_day_title(plan, day, lang))}</h2>")
        if not day.stops:
            out.append(f"<p class='meta'>{esc(t('schedule.no_stops', lang))}</p></section>")
            continue
        out.append(stops_svg(plan.office, day.stops, lang))
        rows = "".join(
            "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in _cells(s, lang, today)) + "</tr>" for s in day.stops
        )
        out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></section>")
    out.append("</body></html>")
    return "".join(out)


def _pdf_map(pdf: FPDF, plan: WeekPlan, day: DayView, x0: float, y0: float, w: float, h: float) -> None:
    xy, numbers = _map_points(plan.office, day.stops)
    pdf.set_draw_color(180, 180, 180)
    pdf.rect(x0, y0, w, h)
    if not xy:
        return
    sx, sy = w / MAP_W, h / MAP_H
    pts = [(x0 + x * sx, y0 + y * sy) for x, y in xy]
    pdf.set_draw_color(91, 127, 166)
    for a, b in itertools.pairwise(pts):
        pdf.line(*a, *b)
    stop_pts = pts[1:] if plan.office else pts
    if plan.office:
        pdf.set_fill_color(50, 50, 50)
        pdf.rect(pts[0][0] - 1.5, pts[0][1] - 1.5, 3, 3, style="F")
    pdf.set_fill_color(192, 57, 43)
    pdf.set_text_color(255, 255, 255)
    pdf.set_font(FAMILY, size=6)
    for (x, y), n in zip(stop_pts, numbers, strict=True):
        pdf.circle(x=x, y=y, radius=2.2, style="F")
        pdf.text(x - (0.9 if n < 10 else 1.7), y + 0.9, str(n))
    pdf.set_text_color(0, 0, 0)


def _days_line(days: Sequence[DayView], lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    names = sep.join(f"{weekday(d.day, lang)} {d.day.strftime('%m-%d')}" for d in days)
    return t("schedule.days_without_stops", lang, days=names)


def sheet_pdf(plan: WeekPlan, lang: str, today: dt.date) -> bytes:
    """The same sheet as a PDF (A4 landscape, one page per day with visits, CJK font).

    Days without visits get no page of their own: one line on the first page names them.
    """
    pdf = cjk_document(landscape=True)
    title = t("schedule.sheet_title", lang, name=plan.worker_name, week=plan.week_start.isoformat())
    widths = (10, 22, 60, 26, 14, 22, 80, 36)
    busy = [d for d in plan.days if d.stops]
    idle = [d for d in plan.days if not d.stops]
    for index, day in enumerate(busy or [None]):
        pdf.add_page()
        pdf.set_font(FAMILY, "B", 14)
        pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
        if index == 0 and idle:
            pdf.set_font(FAMILY, "", 9)
            pdf.multi_cell(0, 6, _days_line(idle, lang), new_x="LMARGIN", new_y="NEXT")
        if day is None:
            continue
        pdf.set_font(FAMILY, "", 11)
        pdf.cell(0, 7, _day_title(plan, day, lang), new_x="LMARGIN", new_y="NEXT")
        _pdf_map(pdf, plan, day, pdf.l_margin, pdf.get_y() + 1, 90, 55)
        pdf.set_y(pdf.get_y() + 59)
        pdf.set_font(FAMILY, "", 8)
        with print_table(pdf, col_widths=widths, line_height=4.5) as table:
            table.row(_columns(lang))
            for stop in day.stops:
                table.row(_cells(stop, lang, today))
    return bytes(pdf.output())

"""Report files: the Excel workbook, CSV of any list, masking, and the audit entry of every export.

Every user-typed string is written as text: XlsxWriter with ``strings_to_formulas`` off and
``write_string`` (plus Excel's quote prefix on text that starts like a formula); CSV values that
start with ``= + - @``, tab, CR or NUL get a leading ``'`` (SECURITY.md). Default exports mask ID
numbers (first 6 + last 4), phone numbers (3 + 4) and any ID- or phone-like run inside free text,
and round coordinates to 0.01° (about 1 km); an unmasked export needs ``export.unmasked`` and a
typed reason, and is audited as such.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import xlsxwriter

from care import audit, i18n
from care.domain import ids
from care.domain.errors import ValidationError
from care.domain.reports import MonthReport, ServiceSheets, by_area_total, household_total
from care.files import charts
from care.permissions import require
from care.scope import Scope

Progress = Callable[[float, str], None]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")
COORD_DECIMALS_MASKED = 2
MIN_REASON_LENGTH = 4
MAX_COLUMN_WIDTH = 40
WIDTH_SAMPLE = 300
# Coded columns and the catalog prefix of their labels.
CODED = {
    "group": "report.group.",
    "risk": "enum.risk.",
    "subtype": "enum.subtype.",
    "exit_reason": "enum.exit_reason.",
    "reason": "enum.exit_reason.",
    "kind": "enum.need_kind.",
    "need_status": "enum.need_status.",
    "worker_kind": "enum.worker_kind.",
    "sex": "enum.sex.",
    "age_bucket": "report.bucket.",
    "id_problem": "report.id_problem.",
    "change": "report.change.",
    "check": "report.quality.",
    "order_status": "enum.order_status.",
    "satisfaction": "enum.satisfaction.",
    "review_reason": "report.service.review.",
}
PERCENT_COLUMNS = {
    "rate",
    "on_time_rate",
    "visit_rate",
    "visit_rate_child",
    "visit_rate_elderly",
    "visit_rate_disabled",
    "guardian_in_care_rate",
}
HIDDEN_COLUMNS = {"area_code"}
# Print setup: A4 (Excel's paper code 9), landscape beyond this many columns.
PAPER_A4 = 9
PORTRAIT_MAX_COLUMNS = 7
CHART_ROW_PX = 20  # a default row's height in pixels (15 points)
# Summary sheets of the workbook, in order, with the report attribute they show.
SUMMARY_SHEETS = ("registers", "movement", "visit_rates", "needs_open", "needs_resolved", "quality")
LIST_ORDER = (
    "listed",
    "not_visited",
    "late",
    "new",
    "exited",
    "overdue",
    "high_risk_unvisited",
    "unassigned",
    "needs_open",
    "needs_resolved",
    "rehab",
    "no_coordinates",
    "bad_id",
    "aged_out",
    "never_visited",
    "idle_workers",
)
# The month's whole roster is the register itself (对象台账, and the page's CSV of that list);
# the workbook carries the lists behind the figures a county acts on.
WORKBOOK_LISTS = tuple(name for name in LIST_ORDER if name != "listed")
KPI_ORDER = (
    "persons_listed",
    "enrollments_listed",
    "new",
    "exited",
    "visit_rate",
    "visit_rate_child",
    "visit_rate_elderly",
    "visit_rate_disabled",
    "on_time_rate",
    "overdue_now",
    "high_risk_unvisited",
    "unassigned",
    "needs_open",
    "needs_resolved",
    "rehab_coverage",
    "quality_no_coordinates",
    "quality_bad_id",
    "quality_aged_out",
    "quality_never_visited",
    "quality_idle_workers",
)


@dataclass(frozen=True)
class ExportMeta:
    """What the title of every export says: area, month, when, by whom, masked or not."""

    area_code: str
    area_name: str
    month: str
    username: str
    generated_at: dt.datetime
    unmasked: bool = False


def inert(text: str) -> str:
    """A CSV value that no spreadsheet runs as a formula (leading ``'`` when it starts like one)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def check_export(scope: Scope, *, unmasked: bool, reason: str = "") -> str:
    """Refuse an export the user may not make; returns the cleaned reason of an unmasked one."""
    require(scope, "export.masked")
    if not unmasked:
        return ""
    require(scope, "export.unmasked")
    cleaned = " ".join(str(reason).split())
    if len(cleaned) < MIN_REASON_LENGTH:
        raise ValidationError("report.reason_required", field="reason", n=MIN_REASON_LENGTH)
    return cleaned[:200]


def record_export(
    session: Any,
    *,
    scope: Scope,
    fmt: str,
    data: bytes,
    rows: int,
    meta: ExportMeta,
    what: str,
    reason: str = "",
) -> str:
    """Audit one export (action ``export.<fmt>``) with its row count and SHA-256; returns the hash."""
    check_export(scope, unmasked=meta.unmasked, reason=reason)
    digest = hashlib.sha256(data).hexdigest()
    detail: dict[str, Any] = {
        "rows": rows,
        "sha256": digest,
        "bytes": len(data),
        "month": meta.month,
        "what": what,
        "masked": not meta.unmasked,
    }
    if meta.unmasked:
        detail["reason"] = reason
    audit.record(session, scope=scope, action=f"export.{fmt}", entity="report", entity_id=meta.area_code, detail=detail)
    return digest


def header(column: str, lang: str) -> str:
    """The label of a report column (``rpt.col.<name>``)."""
    return i18n.t(f"report.col.{column}", lang)


def _label(value: Any, prefix: str, lang: str) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value == "":
        return ""
    return i18n.t(f"{prefix}{value}", lang)


def _yes_no(value: Any, lang: str) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return i18n.t("report.yes" if bool(value) else "report.no", lang)


def readable(frame: pd.DataFrame, lang: str, *, unmasked: bool = False) -> pd.DataFrame:
    """A list or table ready to show or export: labels for codes, masking unless ``unmasked``, headers."""
    out = frame.drop(columns=[c for c in frame.columns if c in HIDDEN_COLUMNS]).copy()
    for column in out.columns:
        series = out[column]
        if column in CODED:
            out[column] = [_label(v, CODED[column], lang) for v in series.astype(object)]
        elif series.dtype == bool or str(series.dtype) == "boolean":
            out[column] = [_yes_no(v, lang) for v in series.astype(object)]
        elif column == "id_number" and not unmasked:
            out[column] = [ids.mask_id_number(v) if isinstance(v, str) else "" for v in series.astype(object)]
        elif column == "phone" and not unmasked:
            out[column] = [ids.mask_phone(v) if isinstance(v, str) else "" for v in series.astype(object)]
        elif column in ("lat", "lon") and not unmasked:
            out[column] = pd.to_numeric(series, errors="coerce").round(COORD_DECIMALS_MASKED)
        elif not unmasked and (series.dtype == object or str(series.dtype) in ("str", "string")):
            out[column] = [audit.scrub_text(v) if isinstance(v, str) else v for v in series.astype(object)]
    out.columns = [header(c, lang) for c in out.columns]
    return out


def _csv_cell(value: Any) -> Any:
    if isinstance(value, str):
        return inert(value)
    return value


def csv_bytes(frame: pd.DataFrame, lang: str, *, unmasked: bool = False) -> bytes:
    """One list as CSV, UTF-8 with BOM (Excel opens Chinese intact), formula-safe and masked by default."""
    shown = readable(frame, lang, unmasked=unmasked)
    shown.columns = [inert(str(c)) for c in shown.columns]
    safe = shown.astype(object).map(_csv_cell)
    data: bytes = safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
    return data


class _Book:
    """A thin writer over XlsxWriter: every string as text, numbers and dates formatted."""

    def __init__(self, buffer: io.BytesIO, lang: str) -> None:
        self.book = xlsxwriter.Workbook(
            buffer,
            {
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "constant_memory": True,
                "default_date_format": "yyyy-mm-dd",
            },
        )
        self.footer = i18n.t("report.print_footer", lang)
        self.title = self.book.add_format({"bold": True, "font_size": 14})
        self.head = self.book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
        self.pct = self.book.add_format({"num_format": "0.0%"})
        self.int = self.book.add_format({"num_format": "#,##0"})
        self.num = self.book.add_format({"num_format": "0.00####"})
        self.date = self.book.add_format({"num_format": "yyyy-mm-dd"})
        self.quoted = self.book.add_format({"quote_prefix": True})
        # The total row: bold, under a rule.
        self.total_text = self.book.add_format({"bold": True, "top": 1})
        self.total_pct = self.book.add_format({"bold": True, "top": 1, "num_format": "0.0%"})
        self.total_int = self.book.add_format({"bold": True, "top": 1, "num_format": "#,##0"})
        self.rows = 0

    def total(self, sheet: Any, row: int, values: list[Any], codes: list[str]) -> None:
        """A bold total row under a top rule (empty cells get the rule too)."""
        for col, (value, column) in enumerate(zip(values, codes, strict=True)):
            if isinstance(value, str):
                sheet.write_string(row, col, value, self.total_text)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                shape = self.total_pct if column in PERCENT_COLUMNS else self.total_int
                sheet.write_number(row, col, float(value), shape)
            else:
                sheet.write_blank(row, col, None, self.total_text)

    def print_setup(self, sheet: Any, *, columns: int, title_rows: tuple[int, int], gridlines: bool) -> None:
        """A4, one page wide (landscape when wide), title rows on every page, page numbers in the footer."""
        sheet.set_paper(PAPER_A4)
        if columns > PORTRAIT_MAX_COLUMNS:
            sheet.set_landscape()
        else:
            sheet.set_portrait()
        sheet.fit_to_pages(1, 0)
        sheet.repeat_rows(*title_rows)
        sheet.set_footer("&C" + self.footer)
        if gridlines:
            sheet.hide_gridlines(0)

    def cell(self, sheet: Any, row: int, col: int, value: Any, column: str = "") -> None:
        """Write one value: text as text (quote prefix when it starts like a formula), numbers formatted."""
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            return
        if isinstance(value, str):
            sheet.write_string(row, col, value, self.quoted if value.startswith(FORMULA_STARTS) else None)
        elif isinstance(value, (dt.date, pd.Timestamp)):
            sheet.write_string(row, col, value.strftime("%Y-%m-%d"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            sheet.write_number(row, col, float(value), self._number_format(column, float(value)))
        else:
            sheet.write_string(row, col, str(value))

    def _number_format(self, column: str, number: float) -> Any:
        if column in PERCENT_COLUMNS:
            return self.pct
        if number.is_integer() and column not in ("lat", "lon"):
            return self.int
        return self.num

    def table(self, sheet: Any, top: int, frame: pd.DataFrame, codes: list[str]) -> int:
        """Header row at ``top`` then the rows (in row order: the workbook streams); returns the next free row."""
        for col, name in enumerate(frame.columns):
            sheet.write_string(top, col, str(name), self.head)
        columns = [_plain_column(frame.iloc[:, i]) for i in range(frame.shape[1])]
        cell = self.cell
        for r, values in enumerate(zip(*columns, strict=True), start=top + 1):
            for col, value in enumerate(values):
                if value is not None and value != "":
                    cell(sheet, r, col, value, codes[col])
        self.rows += len(frame)
        return top + 1 + len(frame)

    def pictures(self, name: str, pictures: list[tuple[str, bytes]]) -> None:
        """A sheet of chart pictures, each under its heading (the report page's own charts)."""
        sheet = self.book.add_worksheet(_sheet_name(name))
        self.print_setup(sheet, columns=1, title_rows=(0, 0), gridlines=False)
        row = 0
        for heading, png in pictures:
            sheet.write_string(row, 0, heading, self.title)
            sheet.insert_image(
                row + 1, 0, heading + ".png", {"image_data": io.BytesIO(png), "x_scale": 0.5, "y_scale": 0.5}
            )
            height = int.from_bytes(png[20:24], "big") // 2  # the PNG header's height, at half scale
            row += 2 + height // CHART_ROW_PX + 1

    def sheet(self, name: str, frame: pd.DataFrame, *, top: int = 0, gridlines: bool = False) -> Any:
        """A sheet for one table with its header row at ``top``: frozen, and printed on every page."""
        sheet = self.book.add_worksheet(_sheet_name(name))
        sheet.freeze_panes(top + 1, 0)
        for col, width in enumerate(_widths(frame)):
            sheet.set_column(col, col, width)
        self.print_setup(sheet, columns=frame.shape[1], title_rows=(top, top), gridlines=gridlines)
        return sheet


def _plain_column(series: pd.Series) -> list[Any]:
    """Plain Python values of a column (NaN and NA become None)."""
    values = series.astype(object).where(series.notna(), None)
    return [_plain(v) for v in values] if series.dtype == object else values.tolist()


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return value


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _widths(frame: pd.DataFrame) -> list[int]:
    widths: list[int] = []
    sample = frame.head(WIDTH_SAMPLE)
    for column in frame.columns:
        longest = max([_display_width(str(column))] + [_display_width(str(v)) for v in sample[column]])
        widths.append(min(MAX_COLUMN_WIDTH, max(8, longest + 2)))
    return widths


def _sheet_name(name: str) -> str:
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in name).strip("'")
    return cleaned[:31] or "sheet"


def _coded_readable(frame: pd.DataFrame, lang: str, unmasked: bool) -> tuple[pd.DataFrame, list[str]]:
    codes = [c for c in frame.columns if c not in HIDDEN_COLUMNS]
    return readable(frame, lang, unmasked=unmasked), codes


def kpi_rows(report: MonthReport, lang: str) -> pd.DataFrame:
    """The headline figures as (label, value) rows, in report order."""
    return pd.DataFrame(
        {"item": [i18n.t(f"report.kpi.{k}", lang) for k in KPI_ORDER], "value": [report.kpis.get(k) for k in KPI_ORDER]}
    )


def workbook_bytes(
    report: MonthReport,
    trends: pd.DataFrame | None,
    meta: ExportMeta,
    lang: str = "zh",
    progress: Progress | None = None,
    households: pd.DataFrame | None = None,
    services: ServiceSheets | None = None,
    pictures: list[tuple[str, bytes]] | None = None,
) -> tuple[bytes, int]:
    """The report workbook (overview, one sheet per view, the household figures by area and the
    service figures with their lists when given, one sheet per list) and its total data rows. The
    charts sheet holds ``pictures`` (by default the month's rate by group and the trends')."""
    step = progress or (lambda _f, _t: None)
    buffer = io.BytesIO()
    book = _Book(buffer, lang)
    _overview(book, report, meta, lang)
    summaries = [(name, getattr(report, name)) for name in SUMMARY_SHEETS]
    summaries.insert(5, ("rehab", pd.DataFrame([report.rehab])))
    if trends is not None:
        summaries.append(("trends", trends))
    total = len(summaries) + len(WORKBOOK_LISTS)
    done = 1
    for name, frame in summaries:
        step(done / total, i18n.t(f"report.sheet.{name}", lang))
        shown, codes = _coded_readable(frame, lang, meta.unmasked)
        book.table(book.sheet(i18n.t(f"report.sheet.{name}", lang), shown), 0, shown, codes)
        done += 1
    book.pictures(
        i18n.t("report.sheet.charts", lang), pictures or charts.report_pictures(report.visit_rates, trends, lang)
    )
    if households is not None:
        _households(book, households, meta, lang)
    if services is not None:
        _services(book, services, meta, lang)
    for name in WORKBOOK_LISTS:
        step(done / total, i18n.t(f"report.list.{name}", lang))
        shown, codes = _coded_readable(report.lists[name], lang, meta.unmasked)
        sheet_name = i18n.t("report.sheet.list", lang, name=i18n.t(f"report.list.{name}", lang))
        book.table(book.sheet(sheet_name, shown, gridlines=True), 0, shown, codes)
        done += 1
    book.book.close()
    step(1.0, i18n.t("report.done", lang))
    return buffer.getvalue(), book.rows


def title_lines(meta: ExportMeta, lang: str) -> list[str]:
    """The title block every file starts with."""
    return [
        i18n.t("report.file_title", lang, area=meta.area_name, month=meta.month),
        i18n.t(
            "report.file_generated",
            lang,
            at=meta.generated_at.strftime("%Y-%m-%d %H:%M"),
            user=meta.username,
        ),
        i18n.t("report.file_unmasked" if meta.unmasked else "report.file_masked", lang),
    ]


def _overview(book: _Book, report: MonthReport, meta: ExportMeta, lang: str) -> None:
    by_area, area_codes = _coded_readable(report.by_area, lang, meta.unmasked)
    kpis = kpi_rows(report, lang)
    sheet = book.book.add_worksheet(_sheet_name(i18n.t("report.sheet.overview", lang)))
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, max(1, len(by_area.columns)), 14)
    lines = title_lines(meta, lang)
    sheet.write_string(0, 0, lines[0], book.title)
    for r, text in enumerate(lines[1:], start=1):
        sheet.write_string(r, 0, text)
    top = len(lines) + 1
    # The title block (area, month, masked or not) heads the screen and every printed page.
    sheet.freeze_panes(len(lines), 0)
    book.print_setup(sheet, columns=max(2, len(by_area.columns)), title_rows=(0, len(lines) - 1), gridlines=False)
    sheet.write_string(top, 0, header("item", lang), book.head)
    sheet.write_string(top, 1, header("value", lang), book.head)
    for r, (key, (label, value)) in enumerate(zip(KPI_ORDER, kpis.itertuples(index=False, name=None), strict=True)):
        sheet.write_string(top + 1 + r, 0, label)
        column = "rate" if key.endswith("rate") or key == "rehab_coverage" or key.startswith("visit_rate") else ""
        book.cell(sheet, top + 1 + r, 1, _plain(value), column)
    top += len(kpis) + 3
    sheet.write_string(top - 1, 0, i18n.t("report.by_area_title", lang), book.head)
    end = book.table(sheet, top, by_area, area_codes)
    total = by_area_total(report)
    if total is not None:
        label = i18n.t("report.by_area_total", lang)
        book.total(sheet, end, [label if c == "area" else total.get(c) for c in area_codes], area_codes)


def _households(book: _Book, households: pd.DataFrame, meta: ExportMeta, lang: str) -> None:
    """The household figures today by area, with the total row and what they are counted on."""
    shown, codes = _coded_readable(households, lang, meta.unmasked)
    sheet = book.sheet(i18n.t("report.sheet.households", lang), shown)
    end = book.table(sheet, 0, shown, codes)
    total = household_total(households)
    if total is not None:
        label = i18n.t("report.by_area_total", lang)
        book.total(sheet, end, [label if c == "area" else total.get(c) for c in codes], codes)
        end += 1
    sheet.write_string(end + 1, 0, household_basis(meta, lang))


def _services(book: _Book, services: ServiceSheets, meta: ExportMeta, lang: str) -> None:
    """The service figures (shares as percentages), deliveries by service and by provider, then
    one sheet per list behind them."""
    kpis = pd.DataFrame(
        {
            "item": [i18n.t(key, lang) for key, _ in services.kpis],
            "value": [_kpi_value(value) for _, value in services.kpis],
        }
    )
    sheet = book.sheet(i18n.t("report.sheet.services", lang), kpis)
    end = book.table(sheet, 0, kpis, list(kpis.columns))
    for frame in (services.by_service, services.by_provider):
        shown, codes = _coded_readable(frame, lang, meta.unmasked)
        end = book.table(sheet, end + 1, shown, codes)
    sheet.write_string(end + 1, 0, i18n.t("report.service.basis", lang, day=meta.generated_at.date().isoformat()))
    for name, frame in services.lists.items():
        shown, codes = _coded_readable(frame, lang, meta.unmasked)
        sheet_name = i18n.t("report.sheet.list", lang, name=i18n.t(f"report.list.{name}", lang))
        book.table(book.sheet(sheet_name, shown, gridlines=True), 0, shown, codes)


def _kpi_value(value: Any) -> Any:
    """A share as a percentage with one decimal (a text, so it reads the same in any locale)."""
    if isinstance(value, float) or value is None:
        return i18n.percent(value)
    return value


def household_basis(meta: ExportMeta, lang: str) -> str:
    """What the household figures are counted on: today's members, whatever the month."""
    return i18n.t("report.household.basis", lang, day=meta.generated_at.date().isoformat())


def file_name(meta: ExportMeta, what: str, ext: str) -> str:
    """A download name such as 统计报表_522699000000_2026-10.xlsx (ASCII-safe apart from the label)."""
    return f"{what}_{meta.area_code}_{meta.month}.{ext}"

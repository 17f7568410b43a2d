"""Report files: masking scanned cell by cell, formulas inert, Chinese intact, the workbook sheet by sheet."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import openpyxl
import pytest
from pypdf import PdfReader

from care.domain import ids
from care.domain.errors import CareError, PermissionDenied, ValidationError
from care.domain.reports import compute, counted_visits, trend_rates
from care.files import report_pdf
from care.files.exports import (
    LIST_ORDER,
    WORKBOOK_LISTS,
    ExportMeta,
    check_export,
    csv_bytes,
    inert,
    workbook_bytes,
)
from care.i18n import t
from care.scope import Scope
from tests.unit.test_report_kpis import inputs, persons

PAYLOADS = ['=HYPERLINK("http://x.example","点我")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]
ID_RUN = re.compile(r"(?<!\d)\d{17}[\dX](?![\dX])")
PHONE_RUN = re.compile(r"(?<!\d)1\d{10}(?!\d)")
META = ExportMeta("522699000000", "青山县", "2026-03", "county_user", dt.datetime(2026, 4, 15, 9, 30))
COUNTY = Scope(1, "county", "county", "522699000000")
TOWNSHIP = Scope(2, "town", "township", "522699101000")


def _hostile_report():
    people = persons()
    for row, payload in zip(range(len(PAYLOADS)), PAYLOADS, strict=False):
        people.loc[row, "name"] = payload
    # An ID number and a phone typed into a free-text field must not leak through it.
    people.loc[len(PAYLOADS), "name"] = f"王{people.loc[0, 'id_number']}电话13912345678"
    report = compute(inputs(persons=people))
    report.lists["needs_open"]["department"] = "=1+2 13800001234"
    return report, people


def _full_ids(text: str) -> list[str]:
    return [m for m in ID_RUN.findall(text) if ids.check_digit(m[:17]) == m[17]]


def _cells(data: bytes):
    book = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                yield sheet, cell


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+86", "'+86"),
        ("-3", "'-3"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("王", "王"),
    ],
)
def test_a_value_that_starts_like_a_formula_gets_a_leading_quote(value, expected):
    assert inert(value) == expected


def test_the_masked_workbook_holds_no_full_id_number_phone_or_formula_in_any_cell():
    report, _ = _hostile_report()
    data, rows = workbook_bytes(report, None, META)
    assert rows > 0
    scanned = 0
    for sheet, cell in _cells(data):
        assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
        text = "" if cell.value is None else str(cell.value)
        assert _full_ids(text) == [], (sheet.title, cell.coordinate)
        assert PHONE_RUN.findall(text) == [], (sheet.title, cell.coordinate)
        scanned += 1
    assert scanned > 500
    # The payloads arrive as text, intact apart from masking.
    texts = {str(c.value) for _, c in _cells(data) if c.value is not None}
    assert {"+1+1", "-2+3", "@SUM(A1)"} <= texts


def test_the_unmasked_workbook_does_carry_the_full_numbers_the_scan_looks_for():
    report, people = _hostile_report()
    data, _ = workbook_bytes(report, None, ExportMeta(**{**META.__dict__, "unmasked": True}))
    found = {m for _, c in _cells(data) if isinstance(c.value, str) for m in _full_ids(c.value)}
    assert set(people.loc[1:, "id_number"]) & found
    assert all(c.data_type != "f" for _, c in _cells(data))


def test_the_workbook_has_an_overview_a_sheet_per_view_and_one_per_list():
    report, _ = _hostile_report()
    trend = trend_rates(inputs().enrollments, counted_visits(inputs().visits, phone_counts=False), [report.month])
    data, _ = workbook_bytes(report, trend, META)
    book = openpyxl.load_workbook(io.BytesIO(data))
    names = book.sheetnames
    assert names[0] == "概览"
    views = ["在册构成", "新增与退出", "探访率", "未办结需求", "本月办结需求", "康复服务", "数据质量", "近12个月趋势"]
    assert names[1:9] == views
    assert names[9] == "图表"
    assert names[10:] == [t("report.sheet.list", name=t(f"report.list.{n}"))[:31] for n in WORKBOOK_LISTS]
    assert "listed" not in WORKBOOK_LISTS and set(WORKBOOK_LISTS) < set(LIST_ORDER)

    overview = book["概览"]
    assert overview["A1"].value == "青山县 2026-03 统计报表"
    assert "county_user" in overview["A2"].value and "2026-04-15 09:30" in overview["A2"].value
    assert "脱敏" in overview["A3"].value
    values = {overview.cell(r, 1).value: overview.cell(r, 2) for r in range(1, overview.max_row + 1)}
    assert values["在册人数"].value == 8
    assert values["月探访率（合计）"].value == pytest.approx(5 / 9)
    assert values["月探访率（合计）"].number_format == "0.0%"
    township_rows = [overview.cell(r, 1).value for r in range(1, overview.max_row + 1)]
    assert "丹江镇" in township_rows and "西江镇" in township_rows

    rates = book["探访率"]
    assert rates.freeze_panes == "A2"
    assert [c.value for c in rates[1]][:4] == ["类别", "在册", "本月已探访", "比率"]
    assert [rates.cell(r, 1).value for r in range(2, 6)] == ["儿童", "老年人", "残疾人", "合计"]
    assert rates.cell(2, 4).number_format == "0.0%" and rates.cell(2, 4).value == pytest.approx(2 / 3)
    assert rates.column_dimensions["A"].width >= 8

    overdue = book[t("report.sheet.list", name="当前逾期")]
    header = [c.value for c in overdue[1]]
    assert header[:4] == ["对象编号", "姓名", "公民身份号码", "性别"]
    assert overdue.max_row == 1 + report.kpis["overdue_now"]
    masked = [overdue.cell(r, 3).value for r in range(2, overdue.max_row + 1)]
    assert all(re.fullmatch(r"\d{6}\*{8}[\dX]{4}", v) for v in masked)

    quality = book["数据质量"]
    assert quality.cell(2, 1).value == "缺少坐标"


def test_csv_is_utf8_with_bom_chinese_intact_and_formula_safe():
    report, _ = _hostile_report()
    data = csv_bytes(report.lists["listed"], "zh")
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["对象编号", "姓名", "公民身份号码"]
    for row in rows:
        for value in row:
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
            assert _full_ids(value) == [] and PHONE_RUN.findall(value) == []
    names = {row[1] for row in rows[1:]}
    assert "'+1+1" in names and "'@SUM(A1)" in names and "'\tTAB" in names
    assert any("羊排村" in row for row in rows)


def test_csv_rounds_coordinates_unless_unmasked():
    report, _ = _hostile_report()
    frame = report.lists["listed"].copy()
    frame["lat"] = 26.123456
    masked = list(csv.reader(io.StringIO(csv_bytes(frame, "zh").decode("utf-8-sig"))))
    whole = list(csv.reader(io.StringIO(csv_bytes(frame, "zh", unmasked=True).decode("utf-8-sig"))))
    column = masked[0].index("纬度")
    assert {r[column] for r in masked[1:]} == {"26.12"}
    assert {r[column] for r in whole[1:]} == {"26.123456"}


def test_the_pdf_carries_chinese_text_that_can_be_extracted():
    report, _ = _hostile_report()
    steps = []
    data = report_pdf.report_pdf(report, None, META, progress=lambda f, s: steps.append(f))
    # pypdf returns NUL padding between the CJK glyphs of this font's two-byte encoding.
    raw = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    text = re.sub(r"[\s\x00]+", "", raw)
    assert "青山县2026-03统计报表" in text
    assert "月探访率" in text and "丹江镇" in text and "康复服务覆盖率" in text
    assert steps[-1] == 1.0 and steps == sorted(steps)
    # Only aggregates go on paper: no person's name, ID number or phone.
    assert "对象9" not in text and "+1+1" not in text
    assert _full_ids(text) == [] and PHONE_RUN.findall(text) == []


def test_a_missing_cjk_font_gives_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setattr(report_pdf, "FONT_REGULAR", tmp_path / "NotoSansCJK-Regular.ttc")
    report, _ = _hostile_report()
    with pytest.raises(CareError) as caught:
        report_pdf.report_pdf(report, None, META)
    assert caught.value.key == "report.font_missing"
    assert "fonts-noto-cjk" in caught.value.message("zh")


def test_the_print_html_escapes_area_names():
    report, _ = _hostile_report()
    hostile = ExportMeta(**{**META.__dict__, "area_name": "<script>alert(1)</script>县"})
    page = report_pdf.report_html(report, None, hostile)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;县" in page
    assert "<svg" in page and "丹江镇" in page
    assert _full_ids(page) == [] and PHONE_RUN.findall(page) == []


def test_masked_exports_need_the_masked_permission_and_unmasked_ones_a_county_role_and_a_reason():
    assert check_export(TOWNSHIP, unmasked=False) == ""
    with pytest.raises(PermissionDenied):
        check_export(TOWNSHIP, unmasked=True, reason="上级核查需要")
    with pytest.raises(PermissionDenied):
        check_export(Scope(3, "c", "coordinator", "522699101000", 1), unmasked=False)
    with pytest.raises(ValidationError) as caught:
        check_export(COUNTY, unmasked=True, reason="  核  ")
    assert caught.value.key == "report.reason_required"
    assert check_export(COUNTY, unmasked=True, reason=" 民政厅  核查 ") == "民政厅 核查"

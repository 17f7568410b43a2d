"""Cell conversion for imports: dates, coded values, numbers kept whole, needs, the problems CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from care.domain.errors import ValidationError
from care.i18n import CATALOG
from care.imports.common import Column, ImportReport, RowError, choice, errors_csv, inert, text, when
from care.imports.files import Table
from care.imports.roster import COLUMNS as ROSTER_COLUMNS
from care.imports.roster import care_group
from care.imports.visits import COLUMNS as VISIT_COLUMNS
from care.imports.visits import parse_needs

DATE = Column("visited_at", "巡访日期")
NOTE = Column("notes", "备注", limit=5)
MODE = Column("mode", "巡访方式")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-06-01", dt.datetime(2026, 6, 1)),
        ("2026/6/1", dt.datetime(2026, 6, 1)),
        ("2026.06.01", dt.datetime(2026, 6, 1)),
        ("2026年6月1日", dt.datetime(2026, 6, 1)),
        ("20260601", dt.datetime(2026, 6, 1)),
        (20260601, dt.datetime(2026, 6, 1)),
        ("２０２６－０６－０１", dt.datetime(2026, 6, 1)),
        ("2026-06-01 14:30", dt.datetime(2026, 6, 1, 14, 30)),
        ("2026/6/1 9:05:07", dt.datetime(2026, 6, 1, 9, 5, 7)),
        (dt.datetime(2026, 6, 1, 8, 0), dt.datetime(2026, 6, 1, 8, 0)),
        (dt.date(2026, 6, 1), dt.datetime(2026, 6, 1)),
        # Excel date serials in cells formatted as numbers.
        (45000, dt.datetime(2023, 3, 15)),
        (46174.5, dt.datetime(2026, 6, 1, 12, 0)),
        (None, None),
        ("  ", None),
    ],
)
def test_visit_dates_are_read_in_the_ways_people_write_them(cell, expected):
    assert when(cell, DATE) == expected


@pytest.mark.parametrize("cell", ["6月1日", "2026-13-01", "2026-02-30", "昨天", "01/06/2026", "45000", 0, -5, True])
def test_a_date_that_cannot_be_read_says_how_to_write_it(cell):
    with pytest.raises(ValidationError) as caught:
        when(cell, DATE)
    assert caught.value.key == "import.bad_date" and caught.value.field == "visited_at"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("上门", "home"),
        ("电话/视频", "phone"),
        ("Phone or video", "phone"),
        ("phone", "phone"),
        ("志愿者", "volunteer"),
    ],
)
def test_coded_values_are_taken_by_chinese_or_english_label_or_code(cell, expected):
    assert choice(cell, MODE, "mode", ("home", "phone", "third_party", "volunteer")) == expected


def test_an_unknown_coded_value_lists_the_allowed_labels():
    with pytest.raises(ValidationError) as caught:
        choice("骑车", MODE, "mode", ("home", "phone"))
    assert caught.value.key == "import.bad_choice"
    assert caught.value.params == {"value": "骑车", "allowed": "上门、电话/视频"}


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("留守儿童", ("child", "left_behind")),
        ("独居老人", ("elderly", "alone")),
        ("残疾人", ("disabled", "uncertified")),
    ],
)
def test_the_care_group_column_names_group_and_subtype(cell, expected):
    assert care_group(cell, has_certificate=False) == expected


def test_a_disabled_row_with_a_certificate_number_is_certified():
    assert care_group("残疾人", has_certificate=True) == ("disabled", "certified")


def test_text_longer_than_the_column_holds_is_an_error_not_cut():
    assert text("四个字儿", NOTE) == "四个字儿"
    with pytest.raises(ValidationError) as caught:
        text("六个字的备注", NOTE)
    assert caught.value.key == "import.too_long" and caught.value.params == {"limit": 5}


@pytest.mark.parametrize(("cell", "expected"), [(13800001234.0, "13800001234"), (522699101201, "522699101201")])
def test_phone_and_area_codes_from_number_cells_lose_no_digits(cell, expected):
    assert text(cell, Column("phone", "联系电话")) == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("医疗：需要复查眼睛", [("medical", "需要复查眼睛")]),
        ("就学:午餐补助；辅助器具：轮椅", [("schooling", "午餐补助"), ("assistive_device", "轮椅")]),
        ("康复", [("rehab", "")]),
        ("屋顶漏雨需修缮", [("other", "屋顶漏雨需修缮")]),
        ("", []),
    ],
)
def test_the_needs_cell_gives_one_need_per_part_with_its_type(cell, expected):
    assert [(n.kind, n.description) for n in parse_needs(cell)] == expected


def test_the_problems_csv_has_a_bom_and_no_cell_that_starts_a_formula():
    report = ImportReport("roster", rows=3)
    report.errors = [RowError(2, "=HYPERLINK(1)", "import.bad_date", {"value": "=cmd|' /C calc'!A0"})]
    report.warnings = [RowError(3, "纬度", "person.coords_outside_county", {"county": "@SUM(1)"})]
    data = errors_csv(report, "zh")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["行号", "列", "原因", "类型"]
    assert rows[1][1] == "'=HYPERLINK(1)" and rows[1][3] == "错误" and rows[2][3] == "提示"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1"])
def test_inert_cells_get_a_leading_apostrophe(value):
    assert inert(value) == "'" + value


def test_a_sheet_reports_unknown_missing_and_repeated_headers_on_row_one():
    from care.imports.common import Sheet

    table = Table(["姓名", "姓名", "家庭收入", "序号"], [])
    errors = {(e.row, e.column, e.key) for e in Sheet(table, ROSTER_COLUMNS).errors}
    assert (1, "家庭收入", "import.unknown_column") in errors
    assert (1, "姓名", "import.repeated_column") in errors
    assert (1, "公民身份号码", "import.missing_column") in errors
    assert not any(column == "序号" for _, column, _ in errors)


def test_the_visit_columns_are_the_ones_the_issue_lists_in_order():
    assert [c.header for c in VISIT_COLUMNS] == [
        "公民身份号码",
        "关爱类别",
        "巡访日期",
        "巡访状态",
        "巡访方式",
        "巡访人",
        "情况记录",
        "需求",
    ]


def test_the_roster_columns_start_with_the_ones_the_issue_lists_in_order():
    issue = (
        "姓名, 公民身份号码, 村(社区)代码, 现住址, 联系电话, 经度, 纬度, 关爱类别, "
        "风险等级, 监护类型, 监护人姓名, 监护人电话, 残疾类别, 残疾等级, 残疾人证号, 备注"
    )
    assert [c.header for c in ROSTER_COLUMNS][:16] == issue.split(", ")


def test_every_catalog_key_the_import_code_names_exists():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sources = [*(root / "care" / "imports").glob("*.py"), root / "pages" / "imports.py", root / "ui" / "imports.py"]
    named = set()
    for path in sources:
        named.update(
            re.findall(r"""["']((?:import|visit|need|person|enroll|id|error)\.[a-z_]*[a-z])["']""", path.read_text())
        )
    named -= {"import.roster", "import.visits", "import.services"}  # permission and audit action names
    assert sorted(k for k in named if k not in CATALOG) == []

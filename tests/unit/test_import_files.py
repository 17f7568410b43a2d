"""Reading import files safely: types, encodings, size, zip bombs, macros and encryption."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from care.domain import ids
from care.domain.errors import ValidationError
from care.imports import files
from care.imports.files import read_table

ROWS = [
    ["姓名", "公民身份号码", "村(社区)代码", "备注"],
    ["张小明", "52269920160301002X", "522699101201", "父母在浙江务工，祖母照看"],
    ["李秀英", "522699195001050042", "522699101202", "独居；腿脚不便"],
    ["王 芳", "522699201707090021", "522699101201", "地址：“老屋基”组, 12 号"],
]


def _csv_text(rows=ROWS) -> str:
    out = io.StringIO()
    import csv

    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _xlsx(rows=ROWS, **cells) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for ref, value in cells.items():
        sheet[ref] = value
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _refusal(data: bytes, name: str) -> str:
    with pytest.raises(ValidationError) as caught:
        read_table(data, name)
    return caught.value.key


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_utf8_with_or_without_bom_gbk_and_gb18030_gives_the_same_rows(encoding):
    table = read_table(_csv_text().encode(encoding), "名单.csv")
    assert table.headers == ["姓名", "公民身份号码", "村(社区)代码", "备注"]
    assert [cells for _, cells in table.rows] == ROWS[1:]
    assert [number for number, _ in table.rows] == [2, 3, 4]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_csv_in_utf16_is_refused_with_a_message_saying_how_to_save_it(encoding):
    error_key = _refusal(_csv_text().encode(encoding), "名单.csv")
    assert error_key == "import.csv_encoding"
    from care.i18n import t

    assert "CSV UTF-8" in t(error_key, "zh") and "Save As" in t(error_key, "en")


def test_a_big5_csv_is_read_as_big5():
    text = "姓名,公民身份號碼,村(社區)代碼,備註\r\n張秀英,110105194912310021,522699101201,東村一組\r\n"
    table = read_table(text.encode("big5"), "名單.csv")
    assert table.headers == ["姓名", "公民身份號碼", "村(社區)代碼", "備註"]
    assert table.rows[0][1][:2] == ["張秀英", "110105194912310021"]


def test_a_western_csv_is_refused_naming_its_encoding():
    text = "Nom,Numéro,Village,Remarque\r\nJosé Müller,110105194912310021,522699101201,Frère aîné\r\n" * 3
    with pytest.raises(ValidationError) as caught:
        read_table(text.encode("latin-1"), "liste.csv")
    assert caught.value.key == "import.csv_encoding_named"
    from care.i18n import t

    shown = t(caught.value.key, "zh", **caught.value.params)
    assert caught.value.params["encoding"] in shown and "UTF-16" not in shown


def test_bytes_that_are_neither_utf8_nor_gb18030_are_refused():
    assert _refusal(b"\xff\xfe\xfd\x80\x81,a\r\n", "x.csv") == "import.csv_encoding"


def test_xlsx_gives_the_first_sheet_with_spreadsheet_row_numbers_and_skips_blank_rows():
    rows = [*ROWS[:2], [None, None, None, None], ROWS[2]]
    table = read_table(_xlsx(rows), "名单.xlsx")
    assert [number for number, _ in table.rows] == [2, 4]
    assert table.rows[1][1][0] == "李秀英"


def test_an_id_number_kept_in_a_numeric_cell_reaches_the_checks_as_a_number():
    table = read_table(_xlsx(B2=522699201603010021), "名单.xlsx")
    value = table.rows[0][1][1]
    assert isinstance(value, float)
    with pytest.raises(ValidationError) as caught:
        ids.parse_id_number(value)
    assert caught.value.key == "id.excel_number"


def test_headers_are_matched_whatever_the_width_of_brackets_and_spaces():
    text = "姓 名,公民身份号码,村（社区）代码\r\n张三,1,2\r\n"
    assert read_table(text.encode(), "a.csv").headers == ["姓名", "公民身份号码", "村(社区)代码"]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("名单.xlsm", "import.file_macro"),
        ("名单.xls", "import.file_old_excel"),
        ("名单.et", "import.file_old_excel"),
        ("名单.txt", "import.file_type"),
        ("名单", "import.file_type"),
        ("名单.xlsx.exe", "import.file_type"),
    ],
)
def test_file_types_other_than_xlsx_and_csv_are_refused_by_name(name, key):
    assert _refusal(_xlsx(), name) == key


@pytest.fixture
def parser_never_runs(monkeypatch):
    """Fail the test if openpyxl is asked to parse: the refusal must come before parsing."""

    def boom(*_args, **_kwargs):
        raise AssertionError("openpyxl.load_workbook was called")

    monkeypatch.setattr(openpyxl, "load_workbook", boom)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_a_zip_bomb_member_with_a_huge_compression_ratio_is_refused_before_parsing(parser_never_runs):
    members = _members(_xlsx())
    members["xl/worksheets/sheet1.xml"] = b"<x>" + b" " * (20 * 1024 * 1024) + b"</x>"
    bomb = _zip(members)
    assert len(bomb) < 200_000
    assert _refusal(bomb, "bomb.xlsx") == "import.file_bomb"


def test_a_workbook_expanding_past_the_limit_is_refused_before_parsing(parser_never_runs, monkeypatch):
    monkeypatch.setattr(files, "MAX_UNPACKED_BYTES", 2_000)
    assert _refusal(_xlsx(ROWS * 30), "big.xlsx") == "import.file_bomb"


def test_a_workbook_with_too_many_members_is_refused_before_parsing(parser_never_runs):
    members = _members(_xlsx()) | {f"xl/media/image{i}.png": b"x" for i in range(files.MAX_MEMBERS + 1)}
    assert _refusal(_zip(members), "many.xlsx") == "import.file_bomb"


def test_a_workbook_holding_a_vba_project_is_refused_as_macro_even_when_named_xlsx(parser_never_runs):
    members = _members(_xlsx()) | {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 fake vba"}
    assert _refusal(_zip(members), "名单.xlsx") == "import.file_macro"


def test_a_macro_enabled_content_type_is_refused(parser_never_runs):
    members = _members(_xlsx())
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"spreadsheetml.sheet.main+xml", b"sheet.macroEnabled.main+xml"
    )
    assert _refusal(_zip(members), "名单.xlsx") == "import.file_macro"


def _ole(extra: bytes = b"") -> bytes:
    return files.OLE_MAGIC + b"\x00" * 504 + extra + b"\x00" * 1024


def test_an_encrypted_workbook_is_refused_with_how_to_remove_the_password(parser_never_runs):
    encrypted = _ole("EncryptionInfo".encode("utf-16-le") + b"\x00\x00" + "EncryptedPackage".encode("utf-16-le"))
    assert _refusal(encrypted, "名单.xlsx") == "import.file_encrypted"


def test_an_old_binary_workbook_renamed_xlsx_is_refused_as_old_excel(parser_never_runs):
    assert _refusal(_ole(b"Workbook"), "名单.xlsx") == "import.file_old_excel"


def test_a_workbook_named_csv_is_refused_instead_of_read_as_text():
    assert _refusal(_xlsx(), "名单.csv") == "import.csv_is_workbook"


def test_a_file_over_the_size_limit_is_refused_before_anything_else(parser_never_runs):
    data = _csv_text().encode() + b"x" * files.MAX_FILE_BYTES
    assert _refusal(data, "名单.csv") == "import.file_too_large"


def test_a_damaged_workbook_is_refused_with_a_message():
    data = _xlsx()
    assert _refusal(data[: len(data) // 2], "名单.xlsx") == "import.file_not_xlsx"


def _sheet_xml(doctype: bytes, text: bytes) -> bytes:
    return (
        b'<?xml version="1.0"?>'
        + doctype
        + b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>' + text + b"</t></is></c></row></sheetData></worksheet>"
    )


def test_an_xml_entity_expansion_inside_a_sheet_is_refused_by_defusedxml():
    members = _members(_xlsx())
    members["xl/worksheets/sheet1.xml"] = _sheet_xml(b"", "姓名".encode())
    assert read_table(_zip(members), "plain.xlsx").headers == ["姓名"]
    members["xl/worksheets/sheet1.xml"] = _sheet_xml(
        b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>', b"&b;"
    )
    assert _refusal(_zip(members), "名单.xlsx") == "import.file_not_xlsx"


def test_an_empty_file_and_a_file_without_headers_are_refused():
    assert _refusal(b"", "a.csv") == "import.file_empty"
    assert _refusal(b"\r\n\r\n", "a.csv") == "import.file_empty"


def test_a_file_with_more_rows_than_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(files, "MAX_ROWS", 2)
    assert _refusal(_csv_text().encode(), "a.csv") == "import.file_too_many_rows"


def _merged_xlsx(*ranges: str) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in ROWS:
        sheet.append(row)
    for ref in ranges:
        sheet.merge_cells(ref)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_merged_cells_are_named_as_such_instead_of_reading_as_a_missing_name():
    with pytest.raises(ValidationError) as caught:
        read_table(_merged_xlsx("A2:A3"), "名单.xlsx")
    assert caught.value.key == "import.file_merged_cells"
    assert caught.value.params["ranges"] == "A2:A3"
    assert caught.value.params["count"] == 1


def test_every_merged_range_is_counted_and_the_first_five_named_top_to_bottom():
    ranges = ["A2:A3", "C2:D2", "B4:B4", "D3:D4", "A5:B5", "C5:C6", "D6:D7"]
    with pytest.raises(ValidationError) as caught:
        read_table(_merged_xlsx(*ranges), "名单.xlsx")
    assert caught.value.params["count"] == 7
    assert caught.value.params["ranges"] == "A2:A3, C2:D2, D3:D4, B4, A5:B5"


def test_a_sheet_mentioning_merge_cells_only_in_its_text_is_read():
    rows = [*ROWS, ["<mergeCell ref=", "52269920160301002X", "522699101201", '<mergeCell ref="A1:B2"/>']]
    table = read_table(_xlsx(rows), "名单.xlsx")
    assert len(table.rows) == 4

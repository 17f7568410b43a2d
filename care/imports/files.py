"""Reading an uploaded .xlsx or .csv safely: size, zip-bomb, macro and encryption checks first.

Nothing is parsed until the raw bytes have passed every check: a workbook is a zip archive whose
members are measured (sizes and compression ratio) before openpyxl opens it, macro-enabled and
encrypted workbooks (an OLE compound file instead of a zip) are refused, and a CSV is decoded as
UTF-8 (with or without BOM) or GB18030/GBK only. Cells are returned exactly as stored, so an ID
number kept in a numeric cell reaches care/domain/ids.py as a number and is rejected there.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import IO, Any

from care.domain.errors import ValidationError

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 150 * 1024 * 1024
MAX_MEMBER_RATIO = 100
MAX_MEMBERS = 1000
MAX_ROWS = 50_000
MAX_COLUMNS = 60

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The stream an encrypted Office file keeps its key data in, as its UTF-16 directory name.
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
_MACRO_MEMBERS = ("vbaproject.bin", "vbadata.xml")
FILE_FIELD = "file"


@dataclass(frozen=True)
class Table:
    """The first sheet of a file: its header cells and its non-empty rows by spreadsheet row number."""

    headers: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    kind: str = "xlsx"


def _refuse(key: str, **params: Any) -> ValidationError:
    return ValidationError(key, field=FILE_FIELD, **params)


def file_kind(filename: str) -> str:
    """'xlsx' or 'csv' from the file name; macro-enabled, legacy and other types are refused."""
    suffix = PurePath(filename or "").suffix.lower()
    if suffix in (".xlsm", ".xltm", ".xlam"):
        raise _refuse("import.file_macro")
    if suffix in (".xls", ".et", ".wps"):
        raise _refuse("import.file_old_excel")
    if suffix in (".xlsx", ".csv"):
        return suffix[1:]
    raise _refuse("import.file_type")


def check_workbook_bytes(data: bytes) -> None:
    """Refuse a workbook that is not a plain zip of sane size: bombs, macros, encryption."""
    if data.startswith(OLE_MAGIC):
        key = "import.file_encrypted" if _ENCRYPTION_INFO in data else "import.file_old_excel"
        raise _refuse(key)
    if not data.startswith(ZIP_MAGIC):
        raise _refuse("import.file_not_xlsx")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise _refuse("import.file_not_xlsx") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise _refuse("import.file_bomb")
        total = 0
        for member in members:
            name = member.filename.lower()
            if name.rsplit("/", 1)[-1] in _MACRO_MEMBERS:
                raise _refuse("import.file_macro")
            if member.flag_bits & 0x1:
                raise _refuse("import.file_encrypted")
            total += member.file_size
            ratio = member.file_size / max(member.compress_size, 1)
            if total > MAX_UNPACKED_BYTES or (member.file_size > 1024 * 1024 and ratio > MAX_MEMBER_RATIO):
                raise _refuse("import.file_bomb")
        try:
            types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in archive.namelist() else b""
        except (zipfile.BadZipFile, OSError, RuntimeError):
            raise _refuse("import.file_not_xlsx") from None
        if b"macroEnabled" in types:
            raise _refuse("import.file_macro")
        if b"spreadsheetml" not in types:
            raise _refuse("import.file_not_xlsx")


# What charset-normalizer may call the encodings a Chinese CSV comes in, and how they are read.
_CHINESE = {"gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030", "hz": "gb18030"}
_TRADITIONAL = {"big5": "cp950", "cp950": "cp950", "big5hkscs": "big5hkscs"}


def decode_csv(data: bytes) -> str:
    """The text of a CSV file in UTF-8 (BOM or not), GB18030/GBK or Big5; anything else is refused, named.

    UTF-8 is tried first (it cannot decode by accident); then charset-normalizer says what the
    bytes are, because GB18030 decodes almost any bytes, a Western file included, into nonsense.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        # UTF-16 ("Unicode text" in Excel's save dialog): NUL bytes between the characters.
        raise _refuse("import.csv_encoding")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    guess = from_bytes(data[:200_000]).best()
    name = (guess.encoding if guess is not None else "").lower()
    for family in (_CHINESE, _TRADITIONAL):
        if name in family:
            try:
                return data.decode(family[name])
            except UnicodeDecodeError:
                break
    if name and name not in _CHINESE and name not in _TRADITIONAL:
        raise _refuse("import.csv_encoding_named", encoding=name.upper().replace("_", "-"))
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise _refuse("import.csv_encoding") from None


def clean_header(value: Any) -> str:
    """A header cell compared loosely: full-width brackets and spaces do not matter."""
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    return "".join(text.split())


def _blank(cells: Sequence[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _table(kind: str, raw_rows: Iterator[Sequence[Any]]) -> Table:
    header_row = next(raw_rows, None)
    if header_row is None or _blank(header_row):
        raise _refuse("import.file_empty")
    headers = [clean_header(h) for h in header_row]
    while headers and not headers[-1]:
        headers.pop()
    if len(headers) > MAX_COLUMNS:
        raise _refuse("import.file_too_wide", limit=MAX_COLUMNS)
    rows: list[tuple[int, list[Any]]] = []
    for number, cells in enumerate(raw_rows, start=2):
        values = list(cells)
        if _blank(values):
            continue
        if len(rows) >= MAX_ROWS:
            raise _refuse("import.file_too_many_rows", limit=MAX_ROWS)
        rows.append((number, values))
    return Table(headers, rows, kind)


MAX_MERGED_NAMED = 5
_MERGE_MARK = b"<mergeCell "


def _has_merge_mark(source: IO[bytes]) -> bool:
    """Whether the sheet XML holds a merged range at all: a byte scan, far cheaper than a parse."""
    tail = b""
    while chunk := source.read(1 << 20):
        if _MERGE_MARK in tail + chunk or _MERGE_MARK.replace(b"<", b":") in tail + chunk:
            return True
        tail = chunk[-len(_MERGE_MARK) :]
    return False


def merged_ranges(sheet: Any) -> list[str]:
    """The merged ranges of a read-only sheet (e.g. "A2:A3"), top to bottom, left to right."""
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    with sheet._get_source() as source:
        if not _has_merge_mark(source):
            return []
    tag = f"{{{SHEET_MAIN_NS}}}mergeCell"
    found: list[str] = []
    with sheet._get_source() as source:
        for _event, element in iterparse(source):
            if element.tag == tag and element.get("ref"):
                found.append(str(element.get("ref")))
            element.clear()
    return sorted(found, key=lambda ref: range_boundaries(ref)[1::-1])


def _refuse_merged(ranges: list[str]) -> ValidationError:
    """Merged cells keep their value in the first cell only: the rest would read as empty."""
    return _refuse("import.file_merged_cells", ranges=", ".join(ranges[:MAX_MERGED_NAMED]), count=len(ranges))


def _xlsx_rows(data: bytes) -> Iterator[Sequence[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any parser failure means "not a readable workbook"
        raise _refuse("import.file_not_xlsx") from None
    try:
        if not book.worksheets:
            raise _refuse("import.file_empty")
        try:
            merged = merged_ranges(book.worksheets[0])
        except Exception:  # noqa: BLE001 - malformed or forbidden XML inside the sheet
            raise _refuse("import.file_not_xlsx") from None
        if merged:
            raise _refuse_merged(merged)
        rows = book.worksheets[0].iter_rows(values_only=True)
        while True:
            try:
                cells = next(rows)
            except StopIteration:
                return
            except Exception:  # noqa: BLE001 - malformed or forbidden XML inside the sheet
                raise _refuse("import.file_not_xlsx") from None
            yield cells[: MAX_COLUMNS + 1]
    finally:
        book.close()


def read_table(data: bytes, filename: str) -> Table:
    """The first sheet of an uploaded .xlsx or .csv, after every safety check."""
    kind = file_kind(filename)
    if len(data) > MAX_FILE_BYTES:
        raise _refuse("import.file_too_large", limit_mb=MAX_FILE_BYTES // (1024 * 1024))
    if not data:
        raise _refuse("import.file_empty")
    if kind == "xlsx":
        check_workbook_bytes(data)
        return _table(kind, _xlsx_rows(data))
    if data.startswith((ZIP_MAGIC, OLE_MAGIC)):
        raise _refuse("import.csv_is_workbook")
    text = decode_csv(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _table(kind, (row[: MAX_COLUMNS + 1] for row in reader))
    except csv.Error:
        raise _refuse("import.csv_malformed") from None

"""What both imports share: the column layout of a sheet, cell conversion, row errors, the report."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import math
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from care.domain import enums
from care.domain.errors import CareError, RowError, ValidationError
from care.i18n import t
from care.imports.files import FILE_FIELD, Table, clean_header
from care.permissions import require
from care.scope import Scope

T = TypeVar("T")
# checked rows, written rows, total rows: called as the import goes.
Progress = Callable[[int, int, int], None]
# Columns people add to number their rows; they hold no register data.
IGNORED_HEADERS = frozenset({"序号", "编号", "No.", "No"})


@dataclass(frozen=True)
class Column:
    """One column of an import file: its Chinese header, the field it fills, whether it must exist."""

    key: str
    header: str
    required: bool = False
    limit: int = 0  # longest text kept whole; 0: not a free-text column
    also: tuple[str, ...] = ()  # other headers the lists use for this column


@dataclass
class ImportReport:
    """What an import found and did; ``ok`` only when no row has a problem."""

    kind: str
    rows: int = 0
    new: int = 0
    committed: int = 0
    unchanged: int = 0
    dry_run: bool = False
    file_sha256: str = ""
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    # Records the import created, named in its one audit event.
    created: dict[str, list[int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every row passed every check."""
        return not self.errors

    def as_json(self, lang: str = "zh") -> dict[str, Any]:
        """The report as the command prints it (errors with their reasons in ``lang``)."""

        def rows(items: list[RowError]) -> list[dict[str, Any]]:
            return [{"row": e.row, "column": e.column, "reason": e.reason(lang)} for e in items]

        return {
            "ok": self.ok,
            "rows": self.rows,
            "committed": self.committed,
            "new": self.new,
            "unchanged": self.unchanged,
            "dry_run": self.dry_run,
            "errors": rows(self.errors),
            "warnings": rows(self.warnings),
        }

    def summary_key(self) -> str:
        """The catalog key of the one-line summary for this outcome."""
        if not self.ok:
            return "import.summary_rejected"
        if self.dry_run:
            return "import.summary_checked"
        if self.new == 0 and self.rows:
            return "import.summary_nothing_new"
        return "import.summary_written"


class Sheet:
    """A table's columns matched to an import's layout; header problems are row-1 errors."""

    def __init__(self, table: Table, columns: Sequence[Column]) -> None:
        self.table = table
        by_header = {clean_header(h): c for c in columns for h in (c.header, *c.also)}
        self.index: dict[str, int] = {}
        self.errors: list[RowError] = []
        for position, header in enumerate(table.headers):
            if not header or header in IGNORED_HEADERS:
                continue
            column = by_header.get(header)
            if column is None:
                self.errors.append(RowError(1, header, "import.unknown_column"))
            elif column.key in self.index:
                self.errors.append(RowError(1, header, "import.repeated_column"))
            else:
                self.index[column.key] = position
        for column in columns:
            if column.required and column.key not in self.index:
                self.errors.append(RowError(1, column.header, "import.missing_column"))

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Each data row as {field: cell} (absent columns read as None)."""
        for number, cells in self.table.rows:
            yield number, {key: cells[i] if i < len(cells) else None for key, i in self.index.items()}


def open_sheet(
    scope: Scope, action: str, table: Table, columns: Sequence[Column], report: ImportReport
) -> Sheet | None:
    """The table matched to ``columns`` once ``scope`` may run ``action``; None when its header is refused.

    The report counts the table's rows and takes the header's problems.
    """
    require(scope, action)
    sheet = Sheet(table, columns)
    report.rows = len(table.rows)
    report.errors.extend(sheet.errors)
    return None if sheet.errors else sheet


def header_of(columns: Sequence[Column], name: str | None, aliases: Mapping[str, str]) -> str:
    """The column header a service's field name points at ('' when none does)."""
    if not name or name == FILE_FIELD:
        return ""
    key = aliases.get(name, name)
    return next((c.header for c in columns if c.key == key), "")


def row_error(columns: Sequence[Column], row: int, error: CareError, aliases: Mapping[str, str]) -> RowError:
    """A service's error placed at its row and column."""
    column = header_of(columns, getattr(error, "field", None), aliases)
    return RowError(row, column, error.key, dict(error.params))


class Problems:
    """Every problem of one row: each cell is checked even when another one failed."""

    def __init__(self) -> None:
        self.errors: list[CareError] = []

    def attempt(self, check: Callable[[], T]) -> T | None:
        """``check()``, or None with its problem kept."""
        try:
            return check()
        except CareError as error:
            self.errors.append(error)
            return None

    def add(self, error: CareError) -> None:
        """Keep a problem found without a check to attempt."""
        self.errors.append(error)

    def at(self, field: str | None) -> bool:
        """Whether a problem is already kept for ``field``."""
        return any(getattr(e, "field", None) == field for e in self.errors)

    def row_errors(self, columns: Sequence[Column], row: int, aliases: Mapping[str, str]) -> list[RowError]:
        """The problems placed at their columns, in the sheet's column order, each once."""
        order = {c.header: i for i, c in enumerate(columns)}
        unique: dict[tuple[str, str], RowError] = {}
        for error in self.errors:
            placed = row_error(columns, row, error, aliases)
            unique.setdefault((placed.column, placed.key), placed)
        return sorted(unique.values(), key=lambda e: order.get(e.column, -1))


def is_empty(value: Any) -> bool:
    """An empty cell: None, blank text or NaN."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def text(value: Any, column: Column) -> str:
    """A cell as trimmed text; a number stored in a cell is written without '.0'.

    Text longer than the column holds is an error, not cut: an import loses nothing.
    """
    if is_empty(value):
        return ""
    if isinstance(value, bool):
        out = "1" if value else "0"
    elif isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        out = str(int(value))
    elif isinstance(value, dt.datetime):
        out = value.isoformat(sep=" ", timespec="minutes") if value.time() != dt.time(0) else value.date().isoformat()
    elif isinstance(value, dt.date):
        out = value.isoformat()
    else:
        out = str(value).strip()
    if column.limit and len(out) > column.limit:
        raise ValidationError("import.too_long", field=column.key, limit=column.limit)
    return out


def number(value: Any, column: Column) -> float | None:
    """A cell as a number (None when empty)."""
    if is_empty(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return float(unicodedata.normalize("NFKC", str(value)).strip())
    except ValueError:
        raise ValidationError("import.not_a_number", field=column.key) from None


_DATE_TEXT = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?)?"
)
_DATE_DIGITS = re.compile(r"(\d{4})(\d{2})(\d{2})")
# Excel date serials of 1900-01-01 .. 2173-10-14 (a number of eight digits is read as YYYYMMDD).
EXCEL_SERIALS = (1, 100_000)


def when(value: Any, column: Column) -> dt.datetime | None:
    """A date or date-and-time cell (2026-06-01, 2026/6/1, 2026年6月1日, 20260601, with HH:MM)."""
    if is_empty(value):
        return None
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0, tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(0, 0))
    if isinstance(value, (int, float)) and not isinstance(value, bool) and EXCEL_SERIALS[0] <= value < EXCEL_SERIALS[1]:
        # A date typed into a cell formatted as a number: Excel keeps days since 1899-12-30.
        from openpyxl.utils.datetime import from_excel

        moment: dt.datetime = from_excel(value)
        return moment.replace(microsecond=0)
    raw = unicodedata.normalize("NFKC", str(int(value)) if isinstance(value, (int, float)) else str(value)).strip()
    match = _DATE_TEXT.fullmatch(raw)
    parts: tuple[str | None, ...] | None = match.groups() if match else None
    if parts is None and (digits := _DATE_DIGITS.fullmatch(raw)):
        parts = (*digits.groups(), None, None, None)
    if parts is None:
        raise ValidationError("import.bad_date", field=column.key, value=raw[:30])
    year, month, day, hour, minute, second = (int(p) if p else 0 for p in parts)
    try:
        return dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise ValidationError("import.bad_date", field=column.key, value=raw[:30]) from None


@functools.cache
def _spellings(name: str, value: object) -> frozenset[str]:
    zh = t(f"enum.{name}.{value}", "zh")
    en = t(f"enum.{name}.{value}", "en")
    forms = {str(value), zh, en, zh.removesuffix("监护"), zh.removesuffix("残疾")}
    return frozenset(clean_header(f).lower() for f in forms if f)


def choice(
    value: Any, column: Column, name: str, allowed: Sequence[object], extra: Mapping[str, object] | None = None
) -> Any:
    """A coded value from its Chinese or English label, its code, or an accepted short form."""
    if is_empty(value):
        return None
    raw = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    wanted = clean_header(raw).lower()
    for option in allowed:
        if wanted in _spellings(name, option):
            return option
    for spelling, option in (extra or {}).items():
        if wanted == clean_header(spelling).lower():
            return option
    shown = "、".join(t(f"enum.{name}.{o}", "zh") for o in allowed)
    raise ValidationError("import.bad_choice", field=column.key, value=raw.strip()[:30], allowed=shown)


def risk_choice(value: Any, column: Column) -> str | None:
    """高 / 中 / 低 (also 高风险, high ...)."""
    extra = {f"{t(f'enum.risk.{r}', 'zh')}风险": r for r in enums.RISKS}
    level: str | None = choice(value, column, "risk", enums.RISKS, extra)
    return level


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


def inert(value: object) -> str:
    """A CSV cell that no spreadsheet runs as a formula (leading apostrophe when it could be one)."""
    out = "" if value is None else str(value)
    return "'" + out if out.startswith(_FORMULA_STARTS) else out


def errors_csv(report: ImportReport, lang: str) -> bytes:
    """The report's problems as CSV in UTF-8 with BOM (opens in Chinese Excel), formula-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    header = ("import.col_row", "import.col_column", "import.col_reason", "import.col_kind")
    writer.writerow([t(key, lang) for key in header])
    for kind, items in (("import.kind_error", report.errors), ("import.kind_warning", report.warnings)):
        for item in items:
            writer.writerow([item.row, inert(item.column), inert(item.reason(lang)), t(kind, lang)])
    return buffer.getvalue().encode("utf-8-sig")

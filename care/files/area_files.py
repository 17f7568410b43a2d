"""Checking the files an admin imports about areas, without a database.

Two kinds: the official list of statistical division codes (统计用区划代码, CSV) and county,
township and village boundaries (GeoJSON). Each check returns the clean rows and every problem by
row (CSV: spreadsheet row number, header = 1) or by feature (1 = the first feature).

Published files are read as they are: the NBS page layout (统计用区划代码, 城乡分类代码, 名称), the
Administrative-divisions-of-China CSVs (code,name,streetCode,... with 2/4/6/9/12-digit codes),
comma, tab or semicolon separated, with codes that Excel or pandas turned into numbers or text
formulas. Rows and features of other areas than the county (the province and prefecture above it,
the other counties beside it) are skipped and counted, not refused.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from care.domain import areas
from care.domain.errors import RowError, ValidationError
from care.domain.tiles import out_of_china, wgs84_to_gcj02

# The national villages.csv of a published release is about 40 MB; only the county's rows are kept.
MAX_CODE_LIST_BYTES = 64 * 1024 * 1024
MAX_CODE_LIST_ROWS = 50_000  # rows of the county itself
MAX_GEOJSON_BYTES = 20 * 1024 * 1024
MAX_VERTICES_PER_AREA = 50_000
COORD_DECIMALS = 6

CODE_HEADERS = ("code", "代码", "区划代码", "统计用区划代码", "行政区划代码")
NAME_HEADERS = ("name", "名称", "区划名称", "单位名称")
LAT_HEADERS = ("lat", "纬度")
LON_HEADERS = ("lon", "经度")
URBAN_RURAL_HEADERS = ("城乡分类代码", "城乡分类", "urban_rural")
# NBS 城乡分类代码: 111 主城区, 112 城乡结合区, 121 镇中心区, 122 镇乡结合区, 123 特殊区域, 210 乡中心区, 220 村庄.
URBAN_RURAL_CODES = ("111", "112", "121", "122", "123", "210", "220")
# Where a published list stands relative to the county: the levels it may skip, from the top.
LEVELS = ("province", "prefecture", "county", "township", "village")
HEADER_SEARCH_ROWS = 10  # a page copied from the NBS site has its title lines above the header
DELIMITERS = (",", "\t", ";")
_EXCEL_NUMBER = re.compile(r"^(\d)(?:\.(\d+))?[eE]\+?(\d+)$")
_FLOAT_CODE = re.compile(r"^(\d+)\.0*$")
_TEXT_FORMULA = re.compile(r'^="(.*)"$')
# Length of a published code -> the digits that make it a 12-digit code, and the level it names.
_PADDING = {2: ("0" * 10, "province"), 4: ("0" * 8, "prefecture"), 6: ("0" * 6, "county"), 9: ("000", "township")}


@dataclass(frozen=True)
class CodeRow:
    """A good row of the code list: code, name, derived level and parent, optional centroid."""

    row: int
    code: str
    name: str
    level: str
    parent_code: str | None
    lat: float | None
    lon: float | None
    urban_rural: str | None = None


@dataclass
class CodeListCheck:
    """A checked code list: its good rows, every problem, and the rows skipped by level."""

    rows: list[CodeRow]
    errors: list[RowError]
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Boundary:
    """A good boundary feature: the area code, its geometry as compact GeoJSON, and its centroid."""

    feature: int
    code: str
    geometry: str
    lat: float
    lon: float


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030; anything else is refused with how to save it."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError("area.file_encoding")


def parent_of(code: str) -> str | None:
    """The parent code derived from the code itself: village -> township -> county -> none."""
    level = areas.level_of(code)
    if level == "village":
        return areas.township_of(code)
    if level == "township":
        return areas.county_of(code)
    return None


def well_formed(code: str) -> bool:
    """Twelve digits, and a village's township digits are not all zero."""
    if not areas.is_code(code):
        return False
    return not (areas.level_of(code) == "village" and code[6:9] == "000")


def clean_code(value: object) -> tuple[str, str | None]:
    """The digits a code cell holds and None, or the cell as shown and the catalog key of what is wrong.

    Read as written by Excel and pandas: ``522631001001.0``, ``="522631001001"``, ``'522631001001``,
    full-width digits and spaces; ``5.22631001001E+11`` only when every digit is still there.
    """
    text = "".join(unicodedata.normalize("NFKC", str(value)).split())
    formula = _TEXT_FORMULA.match(text)
    if formula:
        text = formula.group(1)
    elif text.startswith("'"):
        text = text[1:]
    number = _FLOAT_CODE.match(text)
    if number:
        text = number.group(1)
    scientific = _EXCEL_NUMBER.match(text)
    if scientific:
        digits = scientific.group(1) + (scientific.group(2) or "")
        exact = len(digits) == int(scientific.group(3)) + 1
        try:
            whole = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            return text, "area.row_bad_code"
        return (str(int(whole)), None) if exact else (text, "area.row_excel_number")
    if text.isascii() and text.isdigit():
        return text, None
    return text, "area.row_bad_code"


def division_level(code: str) -> str:
    """The level of a 12-digit code, the province and prefecture above counties included."""
    if code[2:] == "0" * 10:
        return "province"
    if code[4:] == "0" * 8:
        return "prefecture"
    return areas.level_of(code)


def twelve_digits(digits: str) -> str | None:
    """A 2, 4, 6, 9 or 12-digit code as its 12-digit form (9-digit township 522631001 -> 522631001000).

    None when the length fits no level or the digits contradict it (a 9-digit code ending 000).
    """
    if len(digits) == 12:
        return digits if well_formed(digits) else None
    if len(digits) not in _PADDING:
        return None
    padding, level = _PADDING[len(digits)]
    code = digits + padding
    return code if areas.is_code(code) and division_level(code) == level else None


def _length_level(digits: str) -> str:
    return _PADDING[len(digits)][1] if len(digits) in _PADDING else "village"


def _elsewhere(digits: str, county_code: str) -> bool:
    """A code of a published length that cannot be the county's, however odd its digits.

    Published lists carry a few placeholders of other areas (streets.csv of 2023 has 350527000,
    金门县 as its own township); they are not the county's to refuse.
    """
    if len(digits) not in (*_PADDING, 12):
        return False
    return len(digits) < 6 or not digits.startswith(areas.prefix_of(county_code))


def in_county(code: str, county_code: str) -> bool:
    """Whether a 12-digit code is the county itself or one of its townships and villages."""
    return code.startswith(areas.prefix_of(county_code)) and division_level(code) in ("county", "township", "village")


def _heading(cell: str) -> str:
    return unicodedata.normalize("NFKC", cell).strip().strip('"').strip().lower()


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    cleaned = [_heading(h) for h in header]
    for name in names:
        if name.lower() in cleaned:
            return cleaned.index(name.lower())
    return None


def _cell(values: list[str], index: int | None) -> str:
    if index is None or index >= len(values):
        return ""
    return values[index].strip()


def _coords(lat_text: str, lon_text: str) -> tuple[float | None, float | None, str | None]:
    if not lat_text and not lon_text:
        return None, None, None
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        return None, None, "area.row_bad_coords"
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None, None, "area.row_bad_coords"
    if not areas.in_china(lat, lon):
        return None, None, "area.row_coords_outside_china"
    return round(lat, COORD_DECIMALS), round(lon, COORD_DECIMALS), None


def _is_header(row: list[str]) -> bool:
    return _column(row, CODE_HEADERS) is not None and _column(row, NAME_HEADERS) is not None


def _delimiter(text: str) -> str:
    """Comma, tab or semicolon: the first that splits one of the top lines into a header (comma if none does).

    Decided on the header, not by counting: names may hold any of the three.
    """
    top = [line for line in text[:8192].splitlines() if line.strip()][:HEADER_SEARCH_ROWS]
    for delimiter in DELIMITERS:
        if any(_is_header(row) for row in csv.reader(top, delimiter=delimiter)):
            return delimiter
    return DELIMITERS[0]


def read_code_list(data: bytes) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and the non-empty rows below it (with their spreadsheet row numbers) of a code list.

    The header is the first of the top rows naming a code and a name column; rows above it (a
    copied page's title) are left out. The rows are read as they are consumed.
    """
    if len(data) > MAX_CODE_LIST_BYTES:
        raise ValidationError("area.file_too_big", limit_mb=MAX_CODE_LIST_BYTES // (1024 * 1024))
    text = decode_text(data)
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    numbered = ((n, r) for n, r in enumerate(reader, start=1) if any(c.strip() for c in r))
    top = list(itertools.islice(numbered, HEADER_SEARCH_ROWS))
    if not top:
        raise ValidationError("area.file_empty")
    at = next((i for i, (_, r) in enumerate(top) if _is_header(r)), 0)
    return top[at][1], itertools.chain(top[at + 1 :], numbered)


def _urban_rural(text: str) -> tuple[str | None, str | None]:
    """The 城乡分类代码 of a cell (None when empty), or the key of why it is not one."""
    if not text:
        return None, None
    digits, problem = clean_code(text)
    if problem is None and digits in URBAN_RURAL_CODES:
        return digits, None
    return None, "area.row_bad_urban_rural"


@dataclass
class _Columns:
    code: int
    name: int
    lat: int | None
    lon: int | None
    urban_rural: int | None
    header: list[str]

    @property
    def headings(self) -> list[str]:
        return [_heading(h) for h in self.header]

    def label(self, index: int | None, fallback: str, file_label: str) -> str:
        name = self.header[index].strip() if index is not None else fallback
        return f"{file_label} · {name}" if file_label else name


def _columns(header: list[str]) -> _Columns:
    code_at, name_at = _column(header, CODE_HEADERS), _column(header, NAME_HEADERS)
    if code_at is None or name_at is None:
        raise ValidationError("area.csv_headers", code=CODE_HEADERS[2], name=NAME_HEADERS[1])
    return _Columns(
        code_at,
        name_at,
        _column(header, LAT_HEADERS),
        _column(header, LON_HEADERS),
        _column(header, URBAN_RURAL_HEADERS),
        header,
    )


@dataclass
class _Checking:
    """The state of one check over one or more files: codes seen, rows kept, problems found."""

    county_code: str
    existing: Mapping[str, dt.date | None]
    file: int = 0
    kept: int = 0  # rows of the county (or with a code too broken to place), across files
    rows: list[CodeRow] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    found: list[tuple[int, RowError]] = field(default_factory=list)  # (file index, problem)
    first_seen: dict[str, int] = field(default_factory=dict)
    coded: list[tuple[int, int, str, str]] = field(default_factory=list)  # file index, row, code, column

    def row(self, number: int, values: list[str], cols: _Columns, file_label: str) -> None:
        raw = _cell(values, cols.code)
        code_col = cols.label(cols.code, "code", file_label)
        if _heading(raw) == _heading(cols.header[cols.code]) and [_heading(v) for v in values] == cols.headings:
            self.skipped["header"] += 1  # a header repeated where pages were pasted one after another
            return
        digits, key = clean_code(raw)
        code = twelve_digits(digits) if key is None else None
        problems: list[RowError] = []
        if code is None and key is None and _elsewhere(digits, self.county_code):
            self.skipped[_length_level(digits)] += 1
            return
        if code is None:
            problems.append(RowError(number, code_col, key or "area.row_bad_code", {"value": raw[:20]}))
        elif not in_county(code, self.county_code):
            self.skipped[division_level(code)] += 1
            return
        elif code in self.first_seen:
            problems.append(
                RowError(number, code_col, "area.row_duplicate", {"value": code, "first": self.first_seen[code]})
            )
        elif self.existing.get(code) is not None:
            problems.append(RowError(number, code_col, "area.row_retired", {"value": code}))
        name = " ".join(_cell(values, cols.name).split())
        name_col = cols.label(cols.name, "name", file_label)
        if not name:
            problems.append(RowError(number, name_col, "area.row_name_required"))
        elif len(name) > 64:
            problems.append(RowError(number, name_col, "area.row_name_too_long"))
        lat, lon, coord_problem = _coords(_cell(values, cols.lat), _cell(values, cols.lon))
        if coord_problem:
            problems.append(RowError(number, cols.label(cols.lat, "lat", file_label), coord_problem))
        urban_rural, urban_problem = _urban_rural(_cell(values, cols.urban_rural))
        urban_col = cols.label(cols.urban_rural, URBAN_RURAL_HEADERS[0], file_label)
        if urban_problem:
            problems.append(RowError(number, urban_col, urban_problem, {"value": _cell(values, cols.urban_rural)[:20]}))
        elif urban_rural and code is not None and areas.level_of(code) != "village":
            problems.append(RowError(number, urban_col, "area.row_urban_rural_not_village"))
        self.found.extend((self.file, p) for p in problems)
        self.kept += 1
        if self.kept > MAX_CODE_LIST_ROWS:
            raise ValidationError("area.too_many_rows", limit=MAX_CODE_LIST_ROWS)
        if code is None:
            return
        self.first_seen.setdefault(code, number)
        self.coded.append((self.file, number, code, code_col))
        if not problems:
            level = areas.level_of(code)
            self.rows.append(CodeRow(number, code, name, level, parent_of(code), lat, lon, urban_rural))

    def result(self) -> CodeListCheck:
        """The check, once every row is read: a row whose parent is neither current nor in the files is a problem."""
        in_file = {code for _, _, code, _ in self.coded}
        current = _current(self.existing)
        orphans: set[str] = set()
        for index, number, code, column in self.coded:
            parent = parent_of(code)
            if parent and parent not in in_file and parent not in current:
                orphans.add(code)
                problem = RowError(number, column, "area.row_parent_missing", {"value": code, "parent": parent})
                self.found.append((index, problem))
        self.found.sort(key=lambda found: (found[0], found[1].row))
        rows = [r for r in self.rows if r.code not in orphans]
        return CodeListCheck(rows, [problem for _, problem in self.found], self.skipped)


def check_code_files(
    files: Sequence[tuple[str, bytes]], *, county_code: str, existing: Mapping[str, dt.date | None]
) -> CodeListCheck:
    """Good rows, every problem and the skipped rows of one or more code lists, for ``county_code``.

    ``files`` are (name, content) pairs checked as one list: a village's township may come from
    another file (streets.csv beside villages.csv). ``existing`` maps every code stored in the
    county to its ``valid_to`` (None = current); a row's parent must be current there or in the
    files. Rows outside the county are counted in ``skipped`` by level; a list with none of the
    county's rows is refused.
    """
    checking = _Checking(county_code, existing)
    for index, (name, data) in enumerate(files):
        header, body = read_code_list(data)
        cols = _columns(header)
        checking.file = index
        for number, values in body:
            checking.row(number, values, cols, name if len(files) > 1 else "")
    result = checking.result()
    if not result.rows and not result.errors:
        raise ValidationError("area.no_rows_for_county", county=county_code, skipped=result.skipped.total())
    return result


def check_code_list(
    data: bytes, *, county_code: str, existing: Mapping[str, dt.date | None]
) -> tuple[list[CodeRow], list[RowError]]:
    """Clean rows and row errors of one code list for ``county_code`` (see ``check_code_files``)."""
    checked = check_code_files([("", data)], county_code=county_code, existing=existing)
    return checked.rows, checked.errors


def _current(existing: Mapping[str, dt.date | None]) -> set[str]:
    return {code for code, valid_to in existing.items() if valid_to is None}


# --- boundaries ---------------------------------------------------------------------------------

WGS84, GCJ02 = "wgs84", "gcj02"
DATUMS = (WGS84, GCJ02)
DATUM_NAMES = {WGS84: "WGS-84", GCJ02: "GCJ-02"}
# Where a feature's code is looked for when no property is named: DataV's numeric ``adcode`` first.
CODE_PROPERTIES = ("adcode", "code", "id")
GCJ02_TOLERANCE_DEG = 1e-9  # about 0.1 mm: the inverse stops once the forward shift lands this close


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """The WGS-84 point that AMap's GCJ-02 shift (care.domain.tiles) moves to ``(lat, lon)``.

    The shift has no closed-form inverse; it is smooth and under a kilometre, so repeating
    "subtract the shift's error" converges to well under a millimetre in a few steps.
    """
    if out_of_china(lat, lon):
        return lat, lon
    wlat, wlon = lat, lon
    for _ in range(30):
        glat, glon = wgs84_to_gcj02(wlat, wlon)
        dlat, dlon = glat - lat, glon - lon
        wlat, wlon = wlat - dlat, wlon - dlon
        if abs(dlat) < GCJ02_TOLERANCE_DEG and abs(dlon) < GCJ02_TOLERANCE_DEG:
            break
    return wlat, wlon


def check_datum(datum: str | None) -> str:
    """``wgs84`` or ``gcj02``, else refused: the datum of a boundary file is never guessed."""
    value = (datum or "").strip().lower().replace("-", "")
    if value not in DATUMS:
        raise ValidationError("area.datum_required")
    return value


def _position(value: Any, datum: str = WGS84) -> tuple[float, float] | None:
    """A GeoJSON position [lon, lat(, altitude)] as WGS-84 (lon, lat), or None when it is not one."""
    if not isinstance(value, list) or len(value) < 2:
        return None
    lon, lat = value[0], value[1]
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in (lon, lat)):
        return None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return None
    if datum == GCJ02:
        lat, lon = gcj02_to_wgs84(float(lat), float(lon))
    return round(float(lon), COORD_DECIMALS), round(float(lat), COORD_DECIMALS)


def _ring(value: Any, datum: str = WGS84) -> list[tuple[float, float]] | str:
    """A closed linear ring, or the catalog key of what is wrong with it."""
    if not isinstance(value, list) or len(value) < 4:
        return "area.feature_bad_ring"
    points = [_position(p, datum) for p in value]
    if any(p is None for p in points):
        return "area.feature_bad_coordinates"
    ring = [p for p in points if p is not None]
    if ring[0] != ring[-1]:
        return "area.feature_ring_not_closed"
    if not all(areas.in_china(lat, lon) for lon, lat in ring):
        return "area.feature_outside_china"
    return ring


def _polygons(geometry: Any, datum: str = WGS84) -> list[list[list[tuple[float, float]]]] | str:
    """The polygons (each a list of rings) of a Polygon or MultiPolygon, or an error key."""
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return "area.feature_bad_geometry_type"
    coordinates = geometry.get("coordinates")
    raw = [coordinates] if geometry["type"] == "Polygon" else coordinates
    if not isinstance(raw, list) or not raw:
        return "area.feature_bad_coordinates"
    polygons: list[list[list[tuple[float, float]]]] = []
    for polygon in raw:
        if not isinstance(polygon, list) or not polygon:
            return "area.feature_bad_coordinates"
        rings = []
        for ring in polygon:
            checked = _ring(ring, datum)
            if isinstance(checked, str):
                return checked
            rings.append(checked)
        polygons.append(rings)
    return polygons


def _signed_area_and_centroid(ring: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Shoelace area and centroid (lon, lat) of a ring; a degenerate ring gives its vertex mean."""
    area2 = cx = cy = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        cross = x0 * y1 - x1 * y0
        area2 += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(area2) < 1e-12:
        xs, ys = [p[0] for p in ring[:-1]], [p[1] for p in ring[:-1]]
        return 0.0, sum(xs) / len(xs), sum(ys) / len(ys)
    return area2 / 2, cx / (3 * area2), cy / (3 * area2)


def centroid(polygons: list[list[list[tuple[float, float]]]]) -> tuple[float, float]:
    """(lat, lon) of the outer rings' area-weighted centroid (holes ignored: a label point)."""
    parts = [_signed_area_and_centroid(rings[0]) for rings in polygons]
    total = sum(abs(a) for a, _, _ in parts)
    if total == 0:
        return round(sum(p[2] for p in parts) / len(parts), 6), round(sum(p[1] for p in parts) / len(parts), 6)
    lon = sum(abs(a) * x for a, x, _ in parts) / total
    lat = sum(abs(a) * y for a, _, y in parts) / total
    return round(lat, 6), round(lon, 6)


def geometry_json(polygons: list[list[list[tuple[float, float]]]]) -> str:
    """Compact GeoJSON: a Polygon for one part, else a MultiPolygon."""
    coords = [[[list(p) for p in ring] for ring in rings] for rings in polygons]
    if len(coords) == 1:
        return json.dumps({"type": "Polygon", "coordinates": coords[0]}, separators=(",", ":"))
    return json.dumps({"type": "MultiPolygon", "coordinates": coords}, separators=(",", ":"))


def parse_geometry(text: str | None) -> list[list[list[tuple[float, float]]]]:
    """The polygons of a stored boundary (empty when there is none or it cannot be read)."""
    if not text:
        return []
    try:
        polygons = _polygons(json.loads(text))
    except ValueError:
        return []
    return [] if isinstance(polygons, str) else polygons


def _features(data: bytes) -> list[Any]:
    if len(data) > MAX_GEOJSON_BYTES:
        raise ValidationError("area.file_too_big", limit_mb=MAX_GEOJSON_BYTES // (1024 * 1024))
    try:
        document = json.loads(decode_text(data))
    except ValueError:
        raise ValidationError("area.geojson_not_json") from None
    if isinstance(document, dict) and document.get("type") == "Feature":
        return [document]
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ValidationError("area.geojson_not_collection")
    features = document.get("features")
    if not isinstance(features, list) or not features:
        raise ValidationError("area.geojson_not_collection")
    return features


@dataclass
class BoundaryCheck:
    """A checked boundary file: its good features, every problem, and the features skipped by level."""

    boundaries: list[Boundary]
    errors: list[RowError]
    skipped: Counter[str] = field(default_factory=Counter)


def _feature_code(feature: Any, code_property: str) -> tuple[str | None, str]:
    """The code a feature carries as text (None when it has none), and the property it came from.

    With no property named, ``adcode``, ``code`` and ``id`` are tried, then the feature's own ``id``.
    """
    if not isinstance(feature, dict):
        return None, code_property or CODE_PROPERTIES[0]
    properties = feature.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    names = (code_property,) if code_property else CODE_PROPERTIES
    sources = [(properties.get(n), n) for n in names]
    if not code_property:
        sources.append((feature.get("id"), "id"))
    for value, name in sources:
        if value is None or value == "" or isinstance(value, (bool, dict, list)):
            continue
        return (str(value) if isinstance(value, (int, float)) else str(value).strip()), name
    return None, code_property or "/".join(CODE_PROPERTIES)


def check_boundary_file(
    data: bytes,
    *,
    code_property: str,
    known: Mapping[str, str],
    datum: str,
    county_code: str | None = None,
) -> BoundaryCheck:
    """Clean boundaries (WGS-84), per-feature errors and skipped features of a GeoJSON file.

    A feature's code is 6 (county), 9 (township) or 12 digits, number or text, in the property
    ``code_property`` (empty: ``adcode``/``code``/``id``). ``known`` maps the current areas the admin
    may set boundaries for to their level. With ``county_code``, features of other areas (the
    prefecture, the other counties of a DataV file) are skipped by level instead of refused.
    Coordinates in ``datum`` ``gcj02`` are converted to WGS-84.
    """
    datum = check_datum(datum)
    result = BoundaryCheck([], [])
    seen: dict[str, int] = {}
    for number, feature in enumerate(_features(data), start=1):
        raw, column = _feature_code(feature, code_property)
        digits, problem = clean_code(raw) if raw is not None else ("", None)
        code = twelve_digits(digits) if raw is not None and problem is None else None
        key: str | None = None
        params: dict[str, Any] = {"value": (raw or "")[:20]}
        if raw is None:
            key, params = "area.feature_no_code", {"property": column[:40]}
        elif code is None and problem is None and county_code is not None and _elsewhere(digits, county_code):
            result.skipped[_length_level(digits)] += 1
            continue
        elif code is None:
            key = "area.feature_bad_code"
        elif county_code is not None and not in_county(code, county_code):
            result.skipped[division_level(code)] += 1
            continue
        elif code not in known:
            key, params = "area.feature_unknown_area", {"value": code}
        elif code in seen:
            key, params = "area.feature_duplicate", {"value": code, "first": seen[code]}
        if code and code not in seen:
            seen[code] = number
        if key is None and code is not None:
            column = "geometry"
            polygons = _polygons(feature.get("geometry"), datum)
            if isinstance(polygons, str):
                key = polygons
            elif sum(len(ring) for rings in polygons for ring in rings) > MAX_VERTICES_PER_AREA:
                key, params = "area.feature_too_detailed", {"limit": MAX_VERTICES_PER_AREA}
            else:
                lat, lon = centroid(polygons)
                result.boundaries.append(Boundary(number, code, geometry_json(polygons), lat, lon))
        if key is not None:
            result.errors.append(RowError(number, column, key, params))
    return result


def check_boundaries(
    data: bytes, *, code_property: str, known: Mapping[str, str], datum: str = WGS84
) -> tuple[list[Boundary], list[RowError]]:
    """Clean boundaries and per-feature errors of a GeoJSON file, every feature matched against ``known``."""
    checked = check_boundary_file(data, code_property=code_property, known=known, datum=datum)
    return checked.boundaries, checked.errors

"""Checking the files an admin imports about areas, without a database.

Two kinds: the official list of 12-digit statistical division codes (统计用区划代码, CSV) and
township/village boundaries (GeoJSON). Each check returns the clean rows and every problem by
row (CSV: spreadsheet row number, header = 1) or by feature (1 = the first feature).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from care import areas
from care.errors import RowError, ValidationError

MAX_CODE_LIST_BYTES = 5 * 1024 * 1024
MAX_CODE_LIST_ROWS = 50_000
MAX_GEOJSON_BYTES = 20 * 1024 * 1024
MAX_VERTICES_PER_AREA = 50_000
COORD_DECIMALS = 6

CODE_HEADERS = ("code", "代码", "区划代码", "统计用区划代码", "行政区划代码")
NAME_HEADERS = ("name", "名称", "区划名称", "单位名称")
LAT_HEADERS = ("lat", "纬度")
LON_HEADERS = ("lon", "经度")
_EXCEL_NUMBER = re.compile(r"^\d+(\.\d+)?[eE]\+?\d+$")


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


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    cleaned = [h.strip().lower() for h in header]
    for name in names:
        if name in cleaned:
            return cleaned.index(name)
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


def read_code_list(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-empty rows (with their spreadsheet row numbers) of a code-list CSV."""
    if len(data) > MAX_CODE_LIST_BYTES:
        raise ValidationError("area.file_too_big", limit_mb=MAX_CODE_LIST_BYTES // (1024 * 1024))
    text = decode_text(data)
    rows = [(n, r) for n, r in enumerate(csv.reader(io.StringIO(text)), start=1) if any(c.strip() for c in r)]
    if not rows:
        raise ValidationError("area.file_empty")
    if len(rows) - 1 > MAX_CODE_LIST_ROWS:
        raise ValidationError("area.too_many_rows", limit=MAX_CODE_LIST_ROWS)
    return rows[0][1], rows[1:]


def check_code_list(
    data: bytes, *, county_code: str, existing: Mapping[str, dt.date | None]
) -> tuple[list[CodeRow], list[RowError]]:
    """Clean rows and row errors of an official code list, for the county ``county_code``.

    ``existing`` maps every code already stored in the county to its ``valid_to`` (None = current).
    A row's parent must be current in the database or a good row of the same file.
    """
    header, body = read_code_list(data)
    code_at, name_at = _column(header, CODE_HEADERS), _column(header, NAME_HEADERS)
    if code_at is None or name_at is None:
        raise ValidationError("area.csv_headers", code=CODE_HEADERS[2], name=NAME_HEADERS[1])
    lat_at, lon_at = _column(header, LAT_HEADERS), _column(header, LON_HEADERS)
    code_col, name_col = header[code_at].strip(), header[name_at].strip()
    prefix = areas.prefix_of(county_code)
    good: list[CodeRow] = []
    errors: list[RowError] = []
    first_seen: dict[str, int] = {}
    for number, values in body:
        code, name = _cell(values, code_at), " ".join(_cell(values, name_at).split())
        problem: RowError | None = None
        if _EXCEL_NUMBER.match(code):
            problem = RowError(number, code_col, "area.row_excel_number", {"value": code[:20]})
        elif not well_formed(code):
            problem = RowError(number, code_col, "area.row_bad_code", {"value": code[:20]})
        elif not code.startswith(prefix) or (areas.level_of(code) == "county" and code != county_code):
            problem = RowError(number, code_col, "area.row_outside_county", {"value": code})
        elif code in first_seen:
            problem = RowError(number, code_col, "area.row_duplicate", {"value": code, "first": first_seen[code]})
        elif existing.get(code) is not None:
            problem = RowError(number, code_col, "area.row_retired", {"value": code})
        elif not name:
            problem = RowError(number, name_col, "area.row_name_required")
        elif len(name) > 64:
            problem = RowError(number, name_col, "area.row_name_too_long")
        if code and code not in first_seen:
            first_seen[code] = number
        if problem is None:
            lat, lon, coord_problem = _coords(_cell(values, lat_at), _cell(values, lon_at))
            if coord_problem:
                column = header[lat_at].strip() if lat_at is not None else "lat"
                problem = RowError(number, column, coord_problem)
            else:
                level = areas.level_of(code)
                good.append(CodeRow(number, code, name, level, parent_of(code), lat, lon))
        if problem is not None:
            errors.append(problem)
    in_file = {r.code for r in good}
    orphans = [
        r for r in good if r.parent_code and r.parent_code not in in_file and r.parent_code not in _current(existing)
    ]
    for r in orphans:
        errors.append(RowError(r.row, code_col, "area.row_parent_missing", {"value": r.code, "parent": r.parent_code}))
    errors.sort(key=lambda e: e.row)
    return [r for r in good if r not in orphans], errors


def _current(existing: Mapping[str, dt.date | None]) -> set[str]:
    return {code for code, valid_to in existing.items() if valid_to is None}


# --- boundaries ---------------------------------------------------------------------------------


def _position(value: Any) -> tuple[float, float] | None:
    """A GeoJSON position [lon, lat(, altitude)] as (lon, lat), or None when it is not one."""
    if not isinstance(value, list) or len(value) < 2:
        return None
    lon, lat = value[0], value[1]
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in (lon, lat)):
        return None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return None
    return round(float(lon), COORD_DECIMALS), round(float(lat), COORD_DECIMALS)


def _ring(value: Any) -> list[tuple[float, float]] | str:
    """A closed linear ring, or the catalog key of what is wrong with it."""
    if not isinstance(value, list) or len(value) < 4:
        return "area.feature_bad_ring"
    points = [_position(p) for p in value]
    if any(p is None for p in points):
        return "area.feature_bad_coordinates"
    ring = [p for p in points if p is not None]
    if ring[0] != ring[-1]:
        return "area.feature_ring_not_closed"
    if not all(areas.in_china(lat, lon) for lon, lat in ring):
        return "area.feature_outside_china"
    return ring


def _polygons(geometry: Any) -> list[list[list[tuple[float, float]]]] | str:
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
            checked = _ring(ring)
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


def _feature_code(feature: Any, code_property: str) -> str | None:
    properties = feature.get("properties") if isinstance(feature, dict) else None
    if not isinstance(properties, dict) or properties.get(code_property) in (None, ""):
        return None
    value = properties[code_property]
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return str(value).strip()


def check_boundaries(
    data: bytes, *, code_property: str, known: Mapping[str, str]
) -> tuple[list[Boundary], list[RowError]]:
    """Clean boundaries and per-feature errors of a GeoJSON file.

    ``known`` maps the current township and village codes the admin may set boundaries for to
    their level; a feature is matched to an area by its ``code_property`` property.
    """
    good: list[Boundary] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for number, feature in enumerate(_features(data), start=1):
        code = _feature_code(feature, code_property)
        key, column = None, code_property
        params: dict[str, Any] = {"value": (code or "")[:20]}
        if code is None:
            key, params = "area.feature_no_code", {"property": code_property[:40]}
        elif not areas.is_code(code):
            key = "area.feature_bad_code"
        elif code not in known:
            key = "area.feature_unknown_area"
        elif code in seen:
            key, params = "area.feature_duplicate", {"value": code, "first": seen[code]}
        if code and code not in seen:
            seen[code] = number
        if key is None and code is not None:
            column = "geometry"
            polygons = _polygons(feature.get("geometry"))
            if isinstance(polygons, str):
                key = polygons
            elif sum(len(ring) for rings in polygons for ring in rings) > MAX_VERTICES_PER_AREA:
                key, params = "area.feature_too_detailed", {"limit": MAX_VERTICES_PER_AREA}
            else:
                lat, lon = centroid(polygons)
                good.append(Boundary(number, code, geometry_json(polygons), lat, lon))
        if key is not None:
            errors.append(RowError(number, column, key, params))
    return good, errors

"""The plain data a map is drawn from, and the arithmetic of boundaries and bounds.

The map builder (care/files/maps.py) draws these; the map's reads (care/queries/map.py) make them.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# A person's visit state on the map (the builder colours them; the query derives them).
VISIT_STATES = ("overdue", "due_soon", "on_time", "never")
# Margin around the data (degrees), and around the one known point when only an area's own
# centroid is known.
BOUNDS_PAD = 0.01
ANCHOR_PAD = 0.2
# How a village circle was placed: its own centroid, the mean of its located persons, its township.
PLACEMENTS = ("own", "persons", "township", "villages")


# --- plain data the map is built from ----------------------------------------------------------


@dataclass(frozen=True)
class VillageDot:
    """One village's aggregate: where, how many persons, how many overdue, by group; how it was placed."""

    code: str
    name: str
    township: str
    lat: float
    lon: float
    persons: int
    overdue: int
    by_group: Mapping[str, int] = field(default_factory=dict)
    placed: str = "own"


@dataclass(frozen=True)
class PersonDot:
    """One person in one group at a location, with that enrollment's visit state and risk."""

    person_id: int
    name: str
    group: str
    lat: float
    lon: float
    state: str
    risk: str
    # The person's current household: members at one place are drawn as one marker.
    household_id: int | None = None


@dataclass(frozen=True)
class AreaShape:
    """A township or village: name and centroid for its label, and its boundary GeoJSON if known."""

    code: str
    name: str
    level: str
    lat: float | None
    lon: float | None
    boundary: str | None = None


# --- boundaries and bounds -------------------------------------------------------------------


def geometry_of(boundary: str | None) -> dict[str, Any] | None:
    """The Polygon or MultiPolygon of a stored boundary (a GeoJSON geometry or Feature), else None."""
    if not boundary:
        return None
    try:
        data = json.loads(boundary)
    except ValueError:
        return None
    geometry = data.get("geometry", data) if isinstance(data, dict) else None
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return None
    return geometry


def _position(value: Any) -> tuple[float, float] | None:
    """A GeoJSON position as (lon, lat), or None when it is not a finite point on the globe."""
    if not isinstance(value, (list, tuple)) or len(value) < 2:
        return None
    lon, lat = value[0], value[1]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lon, lat)):
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return float(lon), float(lat)


def _polygons(boundary: str) -> list[list[list[tuple[float, float]]]]:
    """A boundary's polygons, each its rings (outer first), each its (lon, lat) positions."""
    geometry = geometry_of(boundary)
    if geometry is None:
        return []
    coordinates = geometry.get("coordinates")
    polygons = [coordinates] if geometry["type"] == "Polygon" else coordinates
    found = []
    for polygon in polygons if isinstance(polygons, list) else []:
        rings = []
        for ring in polygon if isinstance(polygon, list) else []:
            points = [p for p in map(_position, ring if isinstance(ring, list) else []) if p is not None]
            if points:
                rings.append(points)
        if rings:
            found.append(rings)
    return found


@functools.lru_cache(maxsize=512)
def boundary_extent(boundary: str) -> tuple[float, float, float, float] | None:
    """South, west, north and east edges of a stored boundary (every corner of every ring), or None."""
    points = [p for polygon in _polygons(boundary) for ring in polygon for p in ring]
    if not points:
        return None
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    return min(lats), min(lons), max(lats), max(lons)


def _ring_moments(ring: list[tuple[float, float]]) -> tuple[float, float, float]:
    """A ring's unsigned area and its centroid (lon, lat), by the shoelace formula."""
    x0, y0 = ring[0]  # relative to the first corner: no large products to lose digits in
    local = [(x - x0, y - y0) for x, y in ring]
    area = cx = cy = 0.0
    for (xa, ya), (xb, yb) in zip(local, local[1:] + local[:1], strict=True):
        cross = xa * yb - xb * ya
        area += cross
        cx += (xa + xb) * cross
        cy += (ya + yb) * cross
    if area == 0:
        return 0.0, x0, y0
    return abs(area) / 2, x0 + cx / (3 * area), y0 + cy / (3 * area)


@functools.lru_cache(maxsize=512)
def boundary_centroid(boundary: str) -> tuple[float, float] | None:
    """The (lat, lon) centre of a stored boundary's area (holes taken out), or None if it has no corners.

    A boundary with no area (a line, a point) gives the mean of its outer corners.
    """
    polygons = _polygons(boundary)
    total = sum_x = sum_y = 0.0
    for polygon in polygons:
        for index, ring in enumerate(polygon):
            area, x, y = _ring_moments(ring)
            signed = area if index == 0 else -area
            total, sum_x, sum_y = total + signed, sum_x + signed * x, sum_y + signed * y
    if total > 0:
        return sum_y / total, sum_x / total
    outer = [p for polygon in polygons for p in polygon[0]]
    if not outer:
        return None
    return sum(p[1] for p in outer) / len(outer), sum(p[0] for p in outer) / len(outer)


def shape_centre(shape: AreaShape) -> tuple[float, float] | None:
    """Where an area's label goes: its own centroid, else the centre of its boundary, else None."""
    if shape.lat is not None and shape.lon is not None:
        return shape.lat, shape.lon
    return boundary_centroid(shape.boundary) if shape.boundary else None


def fit_bounds(
    shapes: Iterable[AreaShape],
    points: Iterable[tuple[float, float]],
    anchor: tuple[float, float] | None = None,
) -> list[list[float]] | None:
    """South-west and north-east corners around the points, the areas' centroids and whole boundaries.

    When none of these is known: a box around ``anchor`` (an area's own centroid) if given, else None.
    """
    lats: list[float] = []
    lons: list[float] = []
    for lat, lon in points:
        lats.append(lat)
        lons.append(lon)
    for shape in shapes:
        if shape.lat is not None and shape.lon is not None:
            lats.append(shape.lat)
            lons.append(shape.lon)
        extent = boundary_extent(shape.boundary) if shape.boundary else None
        if extent is not None:
            lats += [extent[0], extent[2]]
            lons += [extent[1], extent[3]]
    pad = BOUNDS_PAD
    if not lats:
        if anchor is None:
            return None
        lats, lons, pad = [anchor[0]], [anchor[1]], ANCHOR_PAD
    return [[min(lats) - pad, min(lons) - pad], [max(lats) + pad, max(lons) + pad]]

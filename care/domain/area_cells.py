"""Village cells: where no outline is imported, each village is drawn as the part of the county
nearer to its own point than to any other village's (a Voronoi cell), and a township as the union
of its villages' cells. Plain values in and GeoJSON out; no database here.

The cells are computed over every village of the county at once, so a township's map and the
county's agree, and clipped to the county's imported outline when there is one, else to the
villages' hull grown by a margin (about half the usual distance between neighbouring villages).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import MultiPoint, Point, mapping, shape
from shapely.geometry.base import BaseGeometry

# A margin of at least this many degrees (about 1 km), so two villages still get a visible area.
MIN_MARGIN = 0.01
# Coordinates kept in the GeoJSON: 5 decimals is about a metre.
DECIMALS = 5


@dataclass(frozen=True)
class VillagePoint:
    """A village's code and its point (the village committee's place)."""

    code: str
    lat: float
    lon: float


def _margin(points: list[Point]) -> float:
    """Half the median distance from a village to its nearest neighbour, at least MIN_MARGIN."""
    if len(points) < 2:
        return MIN_MARGIN * 5
    _, distances = shapely.STRtree(points).query_nearest(points, exclusive=True, return_distance=True)
    return max(MIN_MARGIN, float(statistics.median(distances)) / 2)


def _frame(points: list[Point], outline: str | None) -> BaseGeometry:
    """What the cells are clipped to: the county's outline, else the villages' hull with a margin."""
    if outline:
        geometry = shape(_geometry(json.loads(outline)))
        if not geometry.is_empty and geometry.is_valid:
            return geometry
    return MultiPoint(points).convex_hull.buffer(_margin(points))


def _geometry(data: dict[str, Any]) -> dict[str, Any]:
    return data["geometry"] if data.get("type") == "Feature" else data


def village_cells(villages: Iterable[VillagePoint], county_outline: str | None = None) -> dict[str, BaseGeometry]:
    """Each village's cell (villages sharing one point share their cell: the first keeps it)."""
    unique: dict[tuple[float, float], str] = {}
    for v in villages:
        unique.setdefault((round(v.lon, 6), round(v.lat, 6)), v.code)
    if not unique:
        return {}
    points = [Point(lon, lat) for lon, lat in unique]
    frame = _frame(points, county_outline)
    if len(points) == 1:
        return {next(iter(unique.values())): frame}
    regions = shapely.voronoi_polygons(MultiPoint(points), extend_to=frame)
    cells: dict[str, BaseGeometry] = {}
    for region in regions.geoms:
        for point, code in zip(points, unique.values(), strict=True):
            if region.contains(point):
                cells[code] = region.intersection(frame)
                break
    return cells


def to_geojson(geometry: BaseGeometry) -> str:
    """A geometry as compact GeoJSON with coordinates rounded to about a metre."""
    rounded = shapely.set_precision(geometry, 10**-DECIMALS)
    return json.dumps(mapping(rounded), separators=(",", ":"))


def area_cells(cells: Mapping[str, BaseGeometry], area_of: Mapping[str, str]) -> dict[str, str]:
    """The union of the cells of each area's villages (``area_of``: village code → area code), as GeoJSON."""
    parts: dict[str, list[BaseGeometry]] = {}
    for village, cell in cells.items():
        area = area_of.get(village)
        if area is not None and not cell.is_empty:
            parts.setdefault(area, []).append(cell)
    return {area: to_geojson(shapely.union_all(shapes)) for area, shapes in parts.items()}

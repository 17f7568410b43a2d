"""Village cells (care.domain.area_cells): where no outline is imported, each village gets the part of the
county nearest to it, and a township the union of its villages' cells."""

from __future__ import annotations

import json
import random

import pytest
from shapely import union_all
from shapely.geometry import Point, shape

from care.domain.area_cells import VillagePoint, area_cells, to_geojson, village_cells


def _villages(n: int, seed: int = 3) -> list[VillagePoint]:
    rng = random.Random(seed)
    return [
        VillagePoint(f"5226991{i // 10:02d}{200 + i % 10:03d}", 26.0 + rng.random() * 0.5, 108.0 + rng.random() * 0.6)
        for i in range(n)
    ]


def test_each_village_is_in_its_own_cell_and_no_other():
    villages = _villages(40)
    cells = village_cells(villages)
    assert set(cells) == {v.code for v in villages}
    for v in villages:
        point = Point(v.lon, v.lat)
        assert cells[v.code].contains(point)
        assert [c for c, cell in cells.items() if cell.contains(point)] == [v.code]


def test_the_cells_tile_the_frame_without_overlapping():
    cells = village_cells(_villages(40))
    shapes = list(cells.values())
    union = union_all(shapes)
    assert sum(s.area for s in shapes) == pytest.approx(union.area, rel=1e-9)
    assert union.geom_type == "Polygon"  # one piece: no gaps between neighbours


def test_the_cells_stay_inside_the_countys_imported_outline():
    ring = [[108.1, 26.1], [108.5, 26.1], [108.5, 26.4], [108.1, 26.4], [108.1, 26.1]]
    outline = {"type": "Polygon", "coordinates": [ring]}
    inside = [v for v in _villages(60) if 108.1 < v.lon < 108.5 and 26.1 < v.lat < 26.4]
    cells = village_cells(inside, json.dumps({"type": "Feature", "geometry": outline}))
    county = shape(outline)
    assert all(county.buffer(1e-9).contains(cell) for cell in cells.values())
    assert sum(c.area for c in cells.values()) == pytest.approx(county.area, rel=1e-6)


def test_a_township_is_the_union_of_its_villages_cells():
    villages = _villages(40)
    cells = village_cells(villages)
    townships = area_cells(cells, {v.code: v.code[:9] + "000" for v in villages})
    assert set(townships) == {v.code[:9] + "000" for v in villages}
    for v in villages:
        mine = shape(json.loads(townships[v.code[:9] + "000"]))
        assert mine.buffer(1e-4).contains(Point(v.lon, v.lat))
    total = sum(shape(json.loads(g)).area for g in townships.values())
    assert total == pytest.approx(sum(c.area for c in cells.values()), rel=1e-3)


def test_villages_sharing_a_point_share_one_cell_and_a_lone_village_gets_the_frame():
    a, b = VillagePoint("522699101201", 26.2, 108.2), VillagePoint("522699101202", 26.2, 108.2)
    assert set(village_cells([a, b, VillagePoint("522699101203", 26.3, 108.3)])) == {a.code, "522699101203"}
    lone = village_cells([a])
    assert lone[a.code].contains(Point(a.lon, a.lat)) and lone[a.code].area > 0
    assert village_cells([]) == {}


def test_the_geojson_is_compact_and_rounded_to_about_a_metre():
    cells = village_cells(_villages(5))
    text = to_geojson(next(iter(cells.values())))
    data = json.loads(text)
    assert data["type"] == "Polygon" and " " not in text
    coordinates = [c for ring in data["coordinates"] for point in ring for c in point]
    assert all(round(c, 5) == pytest.approx(c, abs=1e-9) for c in coordinates)

"""The demo county's townships and villages: names, centres and boundaries (a jittered grid of
townships, Voronoi cells of villages inside each)."""

from __future__ import annotations

import json
import random
from typing import Any

from care.demo.common import (
    AREAS_VALID_FROM,
    COMMUNITY_NAMES,
    GRID_COLS,
    GRID_ROWS,
    KM_PER_DEG_LAT,
    KM_PER_DEG_LON,
    LAT_RANGE,
    LON_RANGE,
    TOWNSHIP_TAILS,
    TOWNSHIPS,
    VILLAGE_HEADS,
    VILLAGE_TAILS,
    Box,
    _BuilderBase,
    _Township,
    _Village,
    demo_rng,
    village_counts,
)
from db.models import (
    Area,
)

BOUNDARY_STEPS = 6  # lattice points per township edge


BOUNDARY_JITTER = 0.3  # of a lattice step: keeps every village (6% or more from an edge) inside


def _lattice(seed: int, box: Box) -> list[list[tuple[float, float]]]:
    rng = demo_rng(seed, "boundaries")
    (south, north), (west, east) = box
    rows, cols = GRID_ROWS * BOUNDARY_STEPS, GRID_COLS * BOUNDARY_STEPS
    step_lat = (north - south) / rows
    step_lon = (east - west) / cols
    return [
        [
            (
                north - r * step_lat + rng.uniform(-BOUNDARY_JITTER, BOUNDARY_JITTER) * step_lat,
                west + c * step_lon + rng.uniform(-BOUNDARY_JITTER, BOUNDARY_JITTER) * step_lon,
            )
            for c in range(cols + 1)
        ]
        for r in range(rows + 1)
    ]


def _cell_outline(lattice: list[list[tuple[float, float]]], row: int, col: int) -> list[tuple[float, float]]:
    k = BOUNDARY_STEPS
    r0, r1, c0, c1 = row * k, (row + 1) * k, col * k, (col + 1) * k
    ring = [lattice[r0][c] for c in range(c0, c1)]
    ring += [lattice[r][c1] for r in range(r0, r1)]
    ring += [lattice[r1][c] for c in range(c1, c0, -1)]
    ring += [lattice[r][c0] for r in range(r1, r0, -1)]
    return ring


def _clip(
    ring: list[tuple[float, float]], keep: tuple[float, float], other: tuple[float, float]
) -> list[tuple[float, float]]:
    # Sutherland-Hodgman against the half-plane nearer ``keep`` than ``other`` (lon scaled to km).
    scale = KM_PER_DEG_LON / KM_PER_DEG_LAT
    my, mx = (keep[0] + other[0]) / 2, (keep[1] + other[1]) / 2 * scale
    ny, nx = other[0] - keep[0], (other[1] - keep[1]) * scale

    def side(p: tuple[float, float]) -> float:
        return (p[0] - my) * ny + (p[1] * scale - mx) * nx

    out: list[tuple[float, float]] = []
    for i, p in enumerate(ring):
        q = ring[(i + 1) % len(ring)]
        sp, sq = side(p), side(q)
        if sp <= 0:
            out.append(p)
        if (sp <= 0) != (sq <= 0):
            t = sp / (sp - sq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def _polygon(ring: list[tuple[float, float]]) -> str:
    coords = [[round(lon, 5), round(lat, 5)] for lat, lon in ring]
    return json.dumps({"type": "Polygon", "coordinates": [[*coords, coords[0]]]}, separators=(",", ":"))


def demo_boundaries(
    seed: int, villages: list[list[tuple[float, float, str]]], box: Box = (LAT_RANGE, LON_RANGE)
) -> dict[str, str]:
    """GeoJSON polygons: township i (as "i") is a jittered grid cell of the county's box; each village
    its Voronoi cell in it."""
    lattice = _lattice(seed, box)
    shapes: dict[str, str] = {}
    for i, members in enumerate(villages):
        outline = _cell_outline(lattice, i // GRID_COLS, i % GRID_COLS)
        shapes[str(i)] = _polygon(outline)
        for lat, lon, code in members:
            cell = outline
            for other_lat, other_lon, other in members:
                if other != code and cell:
                    cell = _clip(cell, (lat, lon), (other_lat, other_lon))
            if len(cell) >= 3:
                shapes[code] = _polygon(cell)
    return shapes


def _area_row(code: str, name: str, level: str, parent: str | None, lat: float, lon: float) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "level": level,
        "parent_code": parent,
        "lat": lat,
        "lon": lon,
        "boundary": None,
        "valid_from": AREAS_VALID_FROM,
        "valid_to": None,
        "replaced_by": None,
    }


class _AreasPart(_BuilderBase):
    """The builder's areas."""

    def _areas(self) -> list[_Township]:
        rng = demo_rng(self.seed, "areas")
        counts = village_counts(rng, len(TOWNSHIPS))
        (south, north), (west, east) = self.county.box
        cell_lat = (north - south) / GRID_ROWS
        cell_lon = (east - west) / GRID_COLS
        used: set[str] = set()
        townships: list[_Township] = []
        for i, ((name, digits), count) in enumerate(zip(self._township_names(), counts, strict=True)):
            # Row 0 is the northern edge; each township gets one jittered cell of the grid.
            lat0 = north - (i // GRID_COLS + 1) * cell_lat
            lon0 = west + (i % GRID_COLS) * cell_lon
            town = _Township(
                code=f"{self.code[:6]}{digits}000",
                name=name,
                lat=round(lat0 + cell_lat * rng.uniform(0.35, 0.65), 6),
                lon=round(lon0 + cell_lon * rng.uniform(0.35, 0.65), 6),
            )
            communities = 2 if digits.startswith("1") and rng.random() < 0.6 else 1
            names = rng.sample(COMMUNITY_NAMES, communities)
            for j in range(count):
                if j < communities:
                    code = f"{town.code[:9]}{j + 1:03d}"
                    vname = f"{names[j]}社区"
                    lat = town.lat + cell_lat * rng.uniform(-0.06, 0.06)
                    lon = town.lon + cell_lon * rng.uniform(-0.06, 0.06)
                else:
                    code = f"{town.code[:9]}{201 + j - communities:03d}"
                    vname = self._village_name(rng, used)
                    lat = lat0 + cell_lat * rng.uniform(0.06, 0.94)
                    lon = lon0 + cell_lon * rng.uniform(0.06, 0.94)
                hamlets = [self._offset(rng, lat, lon, 1.0) for _ in range(rng.randint(3, 9))]
                town.villages.append(_Village(code, vname, town, j, round(lat, 6), round(lon, 6), hamlets))
            townships.append(town)
        self._insert_areas(townships)
        return townships

    def _township_names(self) -> tuple[tuple[str, str], ...]:
        """County 0's townships are TOWNSHIPS; another county's have names of their own, same digits."""
        if self.county.index == 0:
            return TOWNSHIPS
        rng = demo_rng(self.seed, "townships")
        names: list[tuple[str, str]] = []
        used: set[str] = set()
        for _, digits in TOWNSHIPS:
            name = ""
            while not name or name in used:
                name = rng.choice(VILLAGE_HEADS) + rng.choice(TOWNSHIP_TAILS)
            used.add(name)
            names.append((name + ("镇" if digits.startswith("1") else "乡"), digits))
        return tuple(names)

    @staticmethod
    def _village_name(rng: random.Random, used: set[str]) -> str:
        while True:
            name = rng.choice(VILLAGE_HEADS) + rng.choice(VILLAGE_TAILS)
            if name not in used and name[0] != name[1]:
                used.add(name)
                return name + "村"

    def _insert_areas(self, townships: list[_Township]) -> None:
        box = self.county.box
        centre_lat = round(sum(box[0]) / 2, 6)
        centre_lon = round(sum(box[1]) / 2, 6)
        villages = [[(v.lat, v.lon, v.code) for v in t.villages] for t in townships]
        shapes = demo_boundaries(self.seed, villages, box)
        rows = [_area_row(self.code, self.county.name, "county", self.county.parent, centre_lat, centre_lon)]
        rows += [_area_row(t.code, t.name, "township", self.code, t.lat, t.lon) for t in townships]
        rows += [_area_row(v.code, v.name, "village", t.code, v.lat, v.lon) for t in townships for v in t.villages]
        for i, r in enumerate(rows):
            r["boundary"] = shapes.get(r["code"]) or shapes.get(str(i - 1) if r["level"] == "township" else "")
        self._insert(Area, rows[: 1 + len(townships)])
        self._insert(Area, rows[1 + len(townships) :])

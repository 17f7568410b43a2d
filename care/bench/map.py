"""Map benchmarks: the county and township views as the page builds them, and per-marker folium.

``county_map`` and ``township_map`` time the scoped reads, building the folium map and rendering
its HTML; ``ours_10k`` draws 10,000 persons the way the page does (one JSON array, one JS loop;
``markers``: what is drawn once a household's members at one place share a marker);
``naive_folium_10k`` is the baseline: one folium.Marker per person in a MarkerCluster.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import folium
from folium.plugins import MarkerCluster
from sqlalchemy import Engine

from care.bench.common import line, timed, user_scope
from care.domain import clock
from care.domain.map_data import PersonDot
from care.domain.tiles import parse_tiles
from care.files.maps import build_map, homes
from care.queries import map as mapq
from db.session import reading

NAIVE_N = 10_000


def _view(engine: Engine, scope: Any, area_code: str | None) -> str:
    today = clock.today()
    flt = mapq.MapFilter(area_code=area_code)
    with reading(engine) as session:
        shown, shapes = mapq.area_shapes(session, scope, area_code)
        county = shown is not None and shown.level == "county"
        villages = mapq.village_aggregates(session, scope, flt, today) if county else []
        persons = [] if county else mapq.person_points(session, scope, flt, today)
    points = [(p.lat, p.lon) for p in persons] or [(v.lat, v.lon) for v in villages]
    m = build_map(
        tiles=parse_tiles("none"),
        bounds=mapq.shapes_bounds(shapes, points),
        villages=villages,
        persons=persons,
        shapes=shapes,
    )
    return m.get_root().render()


def _ten_thousand(engine: Engine) -> list[PersonDot]:
    county = user_scope(engine, "county")
    with reading(engine) as session:
        dots = mapq.person_points(session, county, mapq.MapFilter(), clock.today())
    return dots[:NAIVE_N]


def _ours(dots: list[PersonDot]) -> str:
    return build_map(tiles=parse_tiles("none"), persons=dots).get_root().render()


def _naive(dots: list[PersonDot]) -> str:
    m = folium.Map(location=[26.4, 108.2], zoom_start=10, tiles=None, max_zoom=18, maxZoom=18)
    # folium 0.20 leaves MarkerCluster.__init__ unannotated; only --strict reports the call.
    cluster = MarkerCluster().add_to(m)  # type: ignore[no-untyped-call, unused-ignore]
    for dot in dots:
        folium.Marker([dot.lat, dot.lon], tooltip=dot.name).add_to(cluster)
    return m.get_root().render()


def bench_map(engine: Engine, n: int) -> Iterator[dict[str, Any]]:
    """county_map, township_map, ours_10k and naive_folium_10k (see the module docstring)."""
    county = user_scope(engine, "county")
    township = user_scope(engine, "township")
    for case, scope in (("county_map", county), ("township_map", township)):

        def view(scope: Any = scope) -> str:
            return _view(engine, scope, None)

        times, page = timed(view, repeat=7)
        yield line("map", case, n, times, role=scope.role, bytes=len(page.encode("utf-8")))
    dots = _ten_thousand(engine)
    ours_times, ours = timed(lambda: _ours(dots), repeat=5)
    shared = homes(dots)
    # What a user sees: one marker per household at one place, plus everyone else's own dot.
    markers = len(dots) - sum(len(h) for h in shared) + len(shared)
    yield line("map", "ours_10k", len(dots), ours_times, bytes=len(ours.encode("utf-8")), markers=markers)
    naive_times, naive = timed(lambda: _naive(dots), repeat=1)
    ratio = round(min(naive_times) / max(min(ours_times), 1e-9), 1)
    yield line("map", "naive_folium_10k", len(dots), naive_times, bytes=len(naive.encode("utf-8")), ours_faster_x=ratio)

"""Villages without coordinates on the county map, and where the map centres, on SQLite and PostgreSQL.

A village with no centroid stands at the mean of its located persons (in the user's scope), else at
its township (centroid, else the centre of its boundary), else it is counted as unplaced. The map
fits every area centroid, every boundary corner, the villages and the persons; with none of them it
centres on the county row, and with nothing at all it shows the world and says so.
"""

from __future__ import annotations

import json
import re
from statistics import mean

import pytest
from sqlalchemy import update

from care import i18n
from care.cli.maps import export_area
from care.domain.tiles import parse_tiles
from care.files.maps import WORLD_CENTRE, build_map, leaflet_safe, map_data
from care.queries import map as mapq
from care.queries.registers import RegisterFilter, register_count
from db.models import Area, Person
from db.session import reading, transaction
from tests.fixtures.scope import ScopeFixture
from tests.integration.conftest import FIXTURE_TODAY

TODAY = FIXTURE_TODAY
NONE = parse_tiles("none")
DOCUMENT = re.compile(r'<script type="application/json" id="care-map-data">(.*?)</script>', re.S)
# Where the tests put the persons of village A1 (the deleted one far away: it must not count).
A1_PLACES = {
    "a1_child_w1": (26.50, 108.30),
    "a1_child_w2": (26.52, 108.34),
    "a1_elder_unassigned": (26.54, 108.32),
    "a1_child_disabled": (26.58, 108.36),
    "a1_deleted": (40.0, 120.0),
}


def _polygon(corners: list[tuple[float, float]]) -> str:
    """A closed GeoJSON Polygon from (lat, lon) corners."""
    ring = [[lon, lat] for lat, lon in corners]
    return json.dumps({"type": "Polygon", "coordinates": [[*ring, ring[0]]]})


def _box(south: float, west: float, north: float, east: float) -> list[tuple[float, float]]:
    return [(south, west), (south, east), (north, east), (north, west)]


def _set_area(engine, code: str, **values) -> None:
    with transaction(engine) as session:
        session.execute(update(Area).where(Area.code == code).values(**values))


def _set_person(engine, person_id: int, lat: float | None, lon: float | None) -> None:
    with transaction(engine) as session:
        session.execute(update(Person).where(Person.id == person_id).values(lat=lat, lon=lon))


def _view(engine, scope, flt: mapq.MapFilter | None = None) -> mapq.VillageView:
    with reading(engine) as session:
        return mapq.village_view(session, scope, flt or mapq.MapFilter(), TODAY)


def _dot(view: mapq.VillageView, code: str):
    found = [v for v in view.villages if v.code == code]
    assert len(found) == 1, (code, view)
    return found[0]


def _unlocate_everything(engine, world: ScopeFixture) -> None:
    """No area and no person has coordinates or a boundary."""
    with transaction(engine) as session:
        session.execute(update(Area).values(lat=None, lon=None, boundary=None))
        session.execute(update(Person).values(lat=None, lon=None))


def _county_bounds(engine, world: ScopeFixture) -> list[list[float]] | None:
    """The county map's bounds, read as the live page and the export both read them."""
    scope = world.scopes["admin"]
    with reading(engine) as session:
        data = mapq.export_data(session, scope, world.county, TODAY)
    points = [(v.lat, v.lon) for v in data.villages]
    return mapq.shapes_bounds(data.shapes, points, data.anchor)


def _export(engine, world: ScopeFixture, tmp_path) -> tuple[dict, dict]:
    """The county's standalone file written by the export command: its summary and its data document."""
    out = tmp_path / "county.html"
    url = engine.url.render_as_string(hide_password=False)
    summary = export_area(url, area_code=world.county, username="admin", lang="zh", out=out, tiles="none")
    (document,) = DOCUMENT.findall(out.read_text(encoding="utf-8"))
    return summary, json.loads(document)


def _inside(bounds: list[list[float]], lat: float, lon: float) -> bool:
    (south, west), (north, east) = bounds
    return south <= lat <= north and west <= lon <= east


# --- placing villages ---------------------------------------------------------------------------


def test_a_village_without_coordinates_stands_at_the_mean_of_its_located_persons(engine, world):
    _set_area(engine, world.village_a1, lat=None, lon=None)
    for key, (lat, lon) in A1_PLACES.items():
        _set_person(engine, world.persons[key], lat, lon)
    visible = [place for key, place in A1_PLACES.items() if key != "a1_deleted"]
    dot = _dot(_view(engine, world.scopes["township_a"]), world.village_a1)
    assert dot.placed == "persons"
    assert dot.lat == pytest.approx(mean(p[0] for p in visible))
    assert dot.lon == pytest.approx(mean(p[1] for p in visible))
    # Villages with their own centroid keep it.
    assert _dot(_view(engine, world.scopes["township_a"]), world.village_a2).placed == "own"


def test_the_mean_takes_every_located_person_in_scope_whatever_the_filter(engine, world):
    _set_area(engine, world.village_a1, lat=None, lon=None)
    for key, (lat, lon) in A1_PLACES.items():
        _set_person(engine, world.persons[key], lat, lon)
    everyone = _dot(_view(engine, world.scopes["township_a"]), world.village_a1)
    elders = _dot(_view(engine, world.scopes["township_a"], mapq.MapFilter(groups=("elderly",))), world.village_a1)
    assert elders.persons < everyone.persons
    assert (elders.lat, elders.lon) == pytest.approx((everyone.lat, everyone.lon))


def test_the_mean_keeps_to_the_users_scope(engine, world):
    _set_area(engine, world.village_a1, lat=None, lon=None)
    for key, (lat, lon) in A1_PLACES.items():
        _set_person(engine, world.persons[key], lat, lon)
    mine = [A1_PLACES["a1_child_w1"], A1_PLACES["a1_child_disabled"]]  # coord_1's persons in A1
    dot = _dot(_view(engine, world.scopes["coord_1"]), world.village_a1)
    assert dot.placed == "persons"
    assert (dot.lat, dot.lon) == pytest.approx((mean(p[0] for p in mine), mean(p[1] for p in mine)))


def test_a_village_with_no_located_person_stands_at_its_townships_centroid(engine, world):
    _set_area(engine, world.village_a2, lat=None, lon=None)
    _set_person(engine, world.persons["a2_disabled_w3"], None, None)
    with reading(engine) as session:
        township = session.get(Area, world.township_a)
        expected = (township.lat, township.lon)
    dot = _dot(_view(engine, world.scopes["admin"]), world.village_a2)
    assert dot.placed == "township"
    assert (dot.lat, dot.lon) == pytest.approx(expected)


def test_a_township_known_only_by_its_outline_places_its_villages_at_the_outlines_centre(engine, world):
    south, west, north, east = 26.30, 108.00, 26.50, 108.40
    # Many corners along the south edge: the centre is the area's, not the corners' mean.
    south_edge = [(south, west + i * (east - west) / 20) for i in range(20)]
    outline = [*south_edge, (south, east), (north, east), (north, west)]
    _set_area(engine, world.township_a, lat=None, lon=None, boundary=_polygon(outline))
    _set_area(engine, world.village_a2, lat=None, lon=None)
    _set_person(engine, world.persons["a2_disabled_w3"], None, None)
    dot = _dot(_view(engine, world.scopes["admin"]), world.village_a2)
    assert dot.placed == "township"
    assert (dot.lat, dot.lon) == pytest.approx(((south + north) / 2, (west + east) / 2))


def test_a_village_with_no_place_at_all_is_counted_not_dropped(engine, world):
    _set_area(engine, world.village_b1, lat=None, lon=None)
    _set_area(engine, world.township_b, lat=None, lon=None, boundary=None)
    _set_person(engine, world.persons["b1_child_w4"], None, None)
    scope = world.scopes["admin"]
    view = _view(engine, scope)
    assert world.village_b1 not in {v.code for v in view.villages}
    (unplaced,) = view.unplaced
    with reading(engine) as session:
        names = (session.get(Area, world.village_b1).name, session.get(Area, world.township_b).name)
        in_b1 = register_count(session, scope, RegisterFilter(area_code=world.village_b1), TODAY)
        everyone = register_count(session, scope, RegisterFilter(), TODAY)
        assert mapq.village_aggregates(session, scope, mapq.MapFilter(), TODAY) == view.villages
    assert (unplaced.code, unplaced.persons) == (world.village_b1, in_b1) and in_b1 > 0
    assert (unplaced.name, unplaced.township) == names
    # The page's "persons in view" counts them too.
    assert view.counts[0] == everyone


def test_a_county_without_any_village_coordinates_still_shows_every_person(engine, world):
    """The published village list carries no coordinates: every village is placed from its persons."""
    with transaction(engine) as session:
        session.execute(update(Area).where(Area.level == "village").values(lat=None, lon=None))
    scope = world.scopes["county"]
    view = _view(engine, scope)
    with reading(engine) as session:
        everyone = register_count(session, scope, RegisterFilter(), TODAY)
    assert everyone > 0 and view.counts[0] == everyone and not view.unplaced
    assert view.villages and {v.placed for v in view.villages} == {"persons"}
    assert view.placed_by("persons") == len(view.villages) and view.placed_by("township") == 0


def test_the_village_tooltip_says_how_the_circle_was_placed(engine, world):
    _set_area(engine, world.village_a1, lat=None, lon=None)
    _set_area(engine, world.village_a2, lat=None, lon=None)
    _set_person(engine, world.persons["a2_disabled_w3"], None, None)
    view = _view(engine, world.scopes["admin"])
    (rows,) = [layer["rows"] for layer in map_data(build_map(tiles=NONE, villages=view.villages))["layers"][1:]]
    tooltips = {re.search(r"(\d{12})</small>$", row[4]).group(1): row[4] for row in rows}
    assert i18n.t("map.placed.persons", "zh") in tooltips[world.village_a1]
    assert i18n.t("map.placed.township", "zh") in tooltips[world.village_a2]
    own = tooltips[world.village_b1]
    assert i18n.t("map.placed.persons", "zh") not in own and i18n.t("map.placed.township", "zh") not in own
    english = map_data(build_map(tiles=NONE, villages=view.villages, lang="en"))["layers"][1]["rows"]
    assert any(leaflet_safe(i18n.t("map.placed.township", "en")) in row[4] for row in english)


# --- where the map centres ----------------------------------------------------------------------


def test_the_bounds_reach_a_township_boundarys_far_corner(engine, world):
    far = (26.95, 108.85)  # beyond every centroid and person of the fixture
    _set_area(engine, world.township_a, boundary=_polygon([(26.40, 108.00), (26.40, 108.20), far, (26.60, 108.00)]))
    bounds = _county_bounds(engine, world)
    assert bounds is not None and _inside(bounds, *far)


def test_the_bounds_reach_the_county_outline_and_the_export_uses_them(engine, world, tmp_path):
    south_west, north_east = (25.70, 107.50), (27.10, 109.00)
    _set_area(engine, world.county, boundary=_polygon(_box(*south_west, *north_east)))
    bounds = _county_bounds(engine, world)
    assert bounds is not None and _inside(bounds, *south_west) and _inside(bounds, *north_east)
    summary, document = _export(engine, world, tmp_path)
    assert summary["bounds_known"] and document["bounds"] == bounds and not document["notice"]


def test_a_county_far_from_anywhere_else_is_framed_by_its_own_outline(engine, world, tmp_path):
    """No fixed box: a county known only by its outline is framed by that outline and nothing else."""
    _unlocate_everything(engine, world)
    south_west, north_east = (45.50, 126.40), (45.90, 126.90)
    _set_area(engine, world.county, boundary=_polygon(_box(*south_west, *north_east)))
    bounds = _county_bounds(engine, world)
    assert bounds is not None
    assert _inside(bounds, *south_west) and _inside(bounds, *north_east)
    (south, west), (north, east) = bounds
    margin = 0.1
    assert south > south_west[0] - margin and west > south_west[1] - margin
    assert north < north_east[0] + margin and east < north_east[1] + margin
    _, document = _export(engine, world, tmp_path)
    assert document["bounds"] == bounds


def test_with_nothing_else_known_the_map_centres_on_the_county_rows_own_place(engine, world, tmp_path):
    _unlocate_everything(engine, world)
    county = (45.70, 126.60)
    _set_area(engine, world.county, lat=county[0], lon=county[1])
    bounds = _county_bounds(engine, world)
    assert bounds is not None and _inside(bounds, *county)
    (south, west), (north, east) = bounds
    assert (south + north) / 2 == pytest.approx(county[0]) and (west + east) / 2 == pytest.approx(county[1])
    summary, document = _export(engine, world, tmp_path)
    assert summary["bounds_known"] and document["bounds"] == bounds


def test_a_township_with_nothing_known_falls_back_to_the_county_row(engine, world):
    _unlocate_everything(engine, world)
    county = (45.70, 126.60)
    _set_area(engine, world.county, lat=county[0], lon=county[1])
    scope = world.scopes["township_a"]
    with reading(engine) as session:
        shown, shapes = mapq.area_shapes(session, scope, None)
        anchor = mapq.area_anchor(session, shown.code)
    assert shown.code == world.township_a and anchor == pytest.approx(county)
    bounds = mapq.shapes_bounds(shapes, [], anchor)
    assert bounds is not None and _inside(bounds, *county)


def test_with_nothing_known_at_all_the_map_shows_the_world_and_says_so(engine, world, tmp_path):
    scope = world.scopes["admin"]
    villages = len(_view(engine, scope).villages)
    _unlocate_everything(engine, world)
    assert _county_bounds(engine, world) is None
    with reading(engine) as session:
        data = mapq.export_data(session, scope, world.county, TODAY)
    assert villages and data.villages == [] and len(data.unplaced) == villages
    m = build_map(tiles=NONE, bounds=None, villages=data.villages, shapes=data.shapes, mode=data.mode)
    document = map_data(m)
    # Still the county's village view (its legend and layer), with no circle to draw.
    assert [layer["kind"] for layer in document["layers"]] == ["shapes", "villages"]
    assert document["bounds"] is None
    assert document["notice"] == leaflet_safe(i18n.t("map.bounds.none", "zh"))
    assert m.location == list(WORLD_CENTRE) and m.options["zoom"] <= 3
    summary, exported = _export(engine, world, tmp_path)
    assert not summary["bounds_known"] and summary["villages_unplaced"] == villages
    assert exported["bounds"] is None and exported["notice"] == document["notice"]

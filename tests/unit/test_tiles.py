"""Tile configuration and the WGS-84 -> GCJ-02 shift AMap tiles need."""

from __future__ import annotations

import pytest

from care.domain.tiles import configured_tiles, out_of_china, parse_tiles, wgs84_to_gcj02

# Published pairs (WGS-84 lat, lon -> GCJ-02 lat, lon):
# - Tiananmen (39.915, 116.404) -> (39.91640428, 116.41024449): the widely quoted example pair.
# - Shanghai, Shenzhen, Beijing: eviltransform (googollee/eviltransform) test suite, `tests` table.
PAIRS = [
    ((39.915, 116.404), (39.91640428, 116.41024449)),
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
]


@pytest.mark.parametrize(("wgs", "gcj"), PAIRS)
def test_wgs84_points_shift_to_the_published_gcj02_positions(wgs, gcj):
    lat, lon = wgs84_to_gcj02(*wgs)
    assert lat == pytest.approx(gcj[0], abs=1e-5)
    assert lon == pytest.approx(gcj[1], abs=1e-5)


def test_points_outside_china_are_not_shifted():
    assert out_of_china(51.5, -0.12)
    assert wgs84_to_gcj02(51.5, -0.12) == (51.5, -0.12)


@pytest.mark.parametrize(
    ("value", "kind", "layers", "gcj02"),
    [
        (None, "osm", 1, False),
        ("", "osm", 1, False),
        ("OSM", "osm", 1, False),
        ("none", "none", 0, False),
        ("amap", "amap", 1, True),
        ("http://tiles.intranet/{z}/{x}/{y}.png", "custom", 1, False),
        ("/tiles/{z}/{x}/{y}.png", "custom", 1, False),
    ],
)
def test_tile_settings_name_their_source(value, kind, layers, gcj02):
    source = parse_tiles(value)
    assert (source.kind, len(source.layers), source.gcj02, source.problem) == (kind, layers, gcj02, None)


def test_tianditu_needs_a_key_and_then_draws_a_base_and_a_label_layer():
    assert parse_tiles("tianditu").kind == "none"
    assert parse_tiles("tianditu").problem == "tianditu_key_missing"
    source = parse_tiles("tianditu", "KEY123")
    assert [layer.url for layer in source.layers] == [
        "https://t{s}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk=KEY123",
        "https://t{s}.tianditu.gov.cn/DataServer?T=cva_w&x={x}&y={y}&l={z}&tk=KEY123",
    ]
    assert source.layers[0].subdomains == "01234567" and source.layers[1].overlay
    assert not source.gcj02


def test_an_unknown_setting_draws_no_tiles_and_says_so():
    source = parse_tiles("google")
    assert source.kind == "none" and source.problem == "tiles_unknown"


def test_the_stored_setting_wins_over_the_environment():
    env = {"CARE_MAP_TILES": "none", "CARE_TIANDITU_KEY": "K"}
    assert configured_tiles(None, env).kind == "none"
    assert configured_tiles("tianditu", env).kind == "tianditu"
    assert configured_tiles(None, {}).kind == "osm"

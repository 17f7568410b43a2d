"""The folium maps care/ builds: layers, colours, offline assets, and text that stays inert."""

from __future__ import annotations

import json
import re

import pytest

from care.maps import (
    RISK_COLORS,
    STATUS_COLORS,
    AreaShape,
    PersonDot,
    VillageDot,
    build_map,
    leaflet_safe,
    map_layers,
    safe_json,
    share_color,
    standalone_html,
)
from care.tiles import parse_tiles

PAYLOADS = (
    "`",
    "${alert(1)}",
    "\\`);alert(1);//",
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
)
NONE = parse_tiles("none")
SQUARE = json.dumps(
    {"type": "Polygon", "coordinates": [[[108.0, 26.2], [108.1, 26.2], [108.1, 26.3], [108.0, 26.3], [108.0, 26.2]]]}
)


def dots(names=("张三", "李四", "王五", "赵六")) -> list[PersonDot]:
    states = ("overdue", "due_soon", "on_time", "never")
    risks = ("high", "medium", "low", "low")
    groups = ("child", "elderly", "disabled", "child")
    return [
        PersonDot(i + 1, name, groups[i % 4], 26.3 + i / 100, 108.1 + i / 100, states[i % 4], risks[i % 4])
        for i, name in enumerate(names)
    ]


def rows_of(html: str) -> list[list]:
    return [json.loads(m) for m in re.findall(r"var rows = (\[.*?\]);\n", html)]


def test_leaflet_safe_escapes_html_and_template_literal_characters():
    assert leaflet_safe("<b>&`$\\'\"") == "&lt;b&gt;&amp;&#96;&#36;&#92;&#x27;&quot;"
    assert leaflet_safe(None) == ""


def test_safe_json_cannot_close_a_script_element():
    text = safe_json(["</script><script>alert(1)</script>", "a&b"])
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == ["</script><script>alert(1)</script>", "a&b"]


def test_there_is_one_layer_per_group_with_its_persons():
    m = build_map(tiles=NONE, persons=dots())
    assert map_layers(m) == {"儿童（2）": 2, "老年人（1）": 1, "残疾人（1）": 1}


def test_a_group_left_out_has_no_layer():
    m = build_map(tiles=NONE, persons=dots(), groups=("child",))
    assert list(map_layers(m)) == ["儿童（2）"]


@pytest.mark.parametrize(
    ("color_by", "palette", "field"), [("status", STATUS_COLORS, "state"), ("risk", RISK_COLORS, "risk")]
)
def test_persons_are_coloured_by_visit_status_or_by_risk(color_by, palette, field):
    people = dots()
    html = build_map(tiles=NONE, persons=people, color_by=color_by).get_root().render()
    drawn = {row[3]: row[2] for rows in rows_of(html) for row in rows}
    assert drawn == {p.person_id: palette[getattr(p, field)] for p in people}


def test_the_legend_names_the_four_visit_states_in_chinese():
    html = build_map(tiles=NONE, persons=dots()).get_root().render()
    legend = json.loads(re.search(r"div\.innerHTML = (\".*?\");", html).group(1))
    for word in ("巡访状态", "逾期未访", "7 日内到期", "按期", "从未走访"):
        assert word in legend


def test_village_circles_are_sized_by_persons_and_coloured_by_overdue_share():
    villages = [
        VillageDot("522699101201", "甲村", "丹江镇", 26.3, 108.1, 100, 60, {"child": 100}),
        VillageDot("522699101202", "乙村", "丹江镇", 26.4, 108.2, 25, 0, {"elderly": 25}),
    ]
    html = build_map(tiles=NONE, villages=villages).get_root().render()
    (rows,) = rows_of(html)
    by_code = {row[4][-20:]: row for row in rows}
    big = next(r for r in rows if "甲村" in r[4])
    small = next(r for r in rows if "乙村" in r[4])
    assert big[2] > small[2]
    assert big[3] == share_color(60, 100) == "#c92a2a"
    assert small[3] == share_color(0, 25) == "#2f9e44"
    assert "在册 100 人，逾期 60 人（60%）" in big[4] and "522699101201" in big[4]
    assert len(by_code) == 2


def test_the_map_loads_leaflet_from_the_app_and_nothing_from_outside_with_tiles_off():
    html = (
        build_map(
            tiles=NONE, persons=dots(), shapes=[AreaShape("522699101000", "丹江镇", "township", 26.3, 108.1, SQUARE)]
        )
        .get_root()
        .render()
    )
    assert 'src="/app/static/vendor/leaflet/leaflet.js"' in html
    assert 'href="/app/static/vendor/leaflet/leaflet.css"' in html
    assert not re.search(r"https?://", html)
    assert '"maxZoom": 18' in html


def test_boundaries_draw_with_every_tile_choice():
    shape = AreaShape("522699101000", "丹江镇", "township", 26.3, 108.1, SQUARE)
    for tiles in ("none", "osm", "amap", "http://intranet/{z}/{x}/{y}.png"):
        html = build_map(tiles=parse_tiles(tiles), shapes=[shape]).get_root().render()
        assert "L.geoJSON(" in html and "Polygon" in html, tiles


def test_amap_tiles_shift_points_and_boundaries_for_display_only():
    person = dots()[:1]
    shape = AreaShape("522699101000", "丹江镇", "township", 26.3, 108.1, SQUARE)
    plain = build_map(tiles=NONE, persons=person, shapes=[shape]).get_root().render()
    shifted = build_map(tiles=parse_tiles("amap"), persons=person, shapes=[shape]).get_root().render()
    assert rows_of(plain)[0][0][:2] == [26.3, 108.1]
    lat, lon = rows_of(shifted)[0][0][:2]
    assert (lat, lon) != (26.3, 108.1) and abs(lat - 26.3) < 0.01 and abs(lon - 108.1) < 0.01
    assert "[108.0,26.2]" in plain and "[108.0,26.2]" not in shifted
    assert person[0].lat == 26.3  # the data itself is unchanged


def test_tianditu_draws_base_and_labels():
    html = build_map(tiles=parse_tiles("tianditu", "K1"), persons=dots()).get_root().render()
    assert "T=vec_w" in html and "T=cva_w" in html and "tk=K1" in html


def _assert_inert(html: str, payload: str) -> None:
    # The raw payload never survives; neither do its dangerous characters in user-text positions.
    assert payload not in html
    for fragment in ("<img", "<script>alert", "${alert", "`);alert"):
        if fragment in payload:
            assert fragment not in html, fragment


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_payload_in_a_person_name_reaches_the_map_inert(payload):
    html = build_map(tiles=NONE, persons=dots((payload, f"前{payload}后", "普通", "普通"))).get_root().render()
    _assert_inert(html, payload)
    names = {row[4] for rows in rows_of(html) for row in rows}
    assert leaflet_safe(payload) in names


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_payload_in_village_and_area_names_reaches_the_map_inert(payload):
    village = VillageDot("522699101201", payload, payload, 26.3, 108.1, 3, 1, {"child": 3})
    shape = AreaShape("522699101000", payload, "township", 26.3, 108.1, SQUARE)
    html = build_map(tiles=NONE, villages=[village], shapes=[shape]).get_root().render()
    _assert_inert(html, payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_payload_stays_inert_in_the_standalone_export(payload):
    html = standalone_html(build_map(tiles=NONE, persons=dots((payload,))))
    _assert_inert(html, payload)


def test_a_lone_backtick_never_reaches_a_script_unescaped():
    html = build_map(tiles=NONE, persons=dots(("`",))).get_root().render()
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert scripts and all("`" not in s for s in scripts)


def test_identical_inputs_build_identical_html_so_the_component_is_not_remounted():
    one = build_map(tiles=NONE, persons=dots()).get_root().render()
    two = build_map(tiles=NONE, persons=dots()).get_root().render()
    assert one == two


def test_the_standalone_export_inlines_leaflet_and_links_nothing():
    html = standalone_html(build_map(tiles=NONE, persons=dots()))
    assert "/app/static" not in html and "<script src=" not in html and "<link" not in html
    assert "L.Map" in html or "window.L" in html
    assert "data:image/png;base64," in html

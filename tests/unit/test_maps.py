"""The folium maps care/ builds: layers, colours, offline assets, one constant script, and text that stays inert."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

import pytest
from streamlit_folium import _get_html, _get_map_string

from care.domain.map_data import AreaShape, PersonDot, VillageDot
from care.domain.tiles import parse_tiles
from care.files.maps import (
    CARE_JS,
    RISK_COLORS,
    STATUS_COLORS,
    build_map,
    leaflet_safe,
    map_data,
    map_data_json,
    map_layers,
    safe_json,
    share_color,
    standalone_html,
)
from ui import map_view

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
DOCUMENT = re.compile(r'<script type="application/json" id="care-map-data">(.*?)</script>', re.S)


def dots(names=("张三", "李四", "王五", "赵六")) -> list[PersonDot]:
    states = ("overdue", "due_soon", "on_time", "never")
    risks = ("high", "medium", "low", "low")
    groups = ("child", "elderly", "disabled", "child")
    return [
        PersonDot(i + 1, name, groups[i % 4], 26.3 + i / 100, 108.1 + i / 100, states[i % 4], risks[i % 4])
        for i, name in enumerate(names)
    ]


def data_of(page: str) -> dict:
    """The one data document a rendered map carries, decoded."""
    (found,) = DOCUMENT.findall(page)
    return json.loads(found)


def rows_of(page: str) -> list[list]:
    """The rows of each layer that draws rows (villages, one layer per group of persons)."""
    return [layer["rows"] for layer in data_of(page)["layers"] if "rows" in layer]


class _Dom(HTMLParser):
    """What a browser makes of an innerHTML string: the elements it creates and the text it shows."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def person_tooltip(row: list, words: list[str]) -> str:
    # As static/care/caremap.js builds it (checked against the file below).
    return "<b>" + row[4] + "</b><br>" + words[row[5]] + "<br><small>#" + str(row[3]) + "</small>"


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


def test_the_layer_control_lists_boundaries_then_each_layer_in_order():
    data = map_data(build_map(tiles=NONE, persons=dots()))
    assert [layer["kind"] for layer in data["layers"]] == ["shapes", "persons", "persons", "persons"]
    assert [layer["name"] for layer in data["layers"]] == ["行政区界", "儿童（2）", "老年人（1）", "残疾人（1）"]


@pytest.mark.parametrize(
    ("color_by", "palette", "field"), [("status", STATUS_COLORS, "state"), ("risk", RISK_COLORS, "risk")]
)
def test_persons_are_coloured_by_visit_status_or_by_risk(color_by, palette, field):
    people = dots()
    html = build_map(tiles=NONE, persons=people, color_by=color_by).get_root().render()
    drawn = {row[3]: row[2] for rows in rows_of(html) for row in rows}
    assert drawn == {p.person_id: palette[getattr(p, field)] for p in people}


def test_a_person_tooltip_names_the_person_group_state_and_number():
    data = map_data(build_map(tiles=NONE, persons=dots()))
    row = data["layers"][1]["rows"][0]
    dom = _Dom(person_tooltip(row, data["words"]))
    assert dom.tags == ["b", "br", "br", "small"]
    assert dom.text == ["张三", "儿童 · 逾期未访", "#1"]
    # The side panel reads the number at the end of the clicked dot's tooltip.
    assert map_view._PERSON_CLICK.search("\n".join(dom.text)).group(1) == "1"


def test_the_legend_names_the_four_visit_states_in_chinese():
    html = build_map(tiles=NONE, persons=dots()).get_root().render()
    legend = data_of(html)["legend"]
    for word in ("巡访状态", "逾期未访", "7 日内到期", "按期", "从未走访"):
        assert word in legend
    assert set(_Dom(legend).tags) <= {"b", "i", "br", "small"}


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
    # The side panel reads the village code at the end of the clicked circle's tooltip.
    assert map_view._VILLAGE_CLICK.search("\n".join(_Dom(big[4]).text)).group(1) == "522699101201"


def test_the_map_loads_leaflet_and_caremap_from_the_app_and_nothing_from_outside_with_tiles_off():
    m = build_map(
        tiles=NONE, persons=dots(), shapes=[AreaShape("522699101000", "丹江镇", "township", 26.3, 108.1, SQUARE)]
    )
    html = m.get_root().render()
    assert 'src="/app/static/vendor/leaflet/leaflet.js"' in html
    assert 'href="/app/static/vendor/leaflet/leaflet.css"' in html
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts[0] == "/app/static/vendor/leaflet/leaflet.js"
    assert re.fullmatch(r"/app/static/care/caremap\.js\?v=[0-9a-f]{12}", scripts[1]), scripts
    assert not re.search(r"https?://", html)
    data = data_of(html)
    assert data["maxZoom"] == 18 and data["tiles"] == []


def test_the_caremap_script_the_map_links_is_the_file_the_app_serves():
    digest = hashlib.sha256(CARE_JS.read_bytes()).hexdigest()[:12]
    links = [src for _, src in build_map(tiles=NONE).default_js]
    assert links[-1] == f"/app/static/care/caremap.js?v={digest}"
    source = CARE_JS.read_text(encoding="utf-8")
    assert "window.CareMap = {draw: draw}" in source
    # The person tooltip the tests read is the one the file builds.
    assert '"<b>" + r[4] + "</b><br>" + words[r[5]] + "<br><small>#" + r[3] + "</small>"' in source


def test_boundaries_draw_with_every_tile_choice():
    shape = AreaShape("522699101000", "丹江镇", "township", 26.3, 108.1, SQUARE)
    for tiles in ("none", "osm", "amap", "http://intranet/{z}/{x}/{y}.png"):
        data = data_of(build_map(tiles=parse_tiles(tiles), shapes=[shape]).get_root().render())
        (features,) = [layer["shapes"]["features"] for layer in data["layers"] if layer["kind"] == "shapes"]
        assert [f["geometry"]["type"] for f in features] == ["Polygon"], tiles
        assert len(data["tiles"]) == (0 if tiles == "none" else 1), tiles


def test_the_map_fits_the_bounds_it_is_given():
    bounds = [[26.2, 108.0], [26.4, 108.3]]
    assert map_data(build_map(tiles=NONE, persons=dots(), bounds=bounds))["bounds"] == bounds


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
    data = data_of(build_map(tiles=parse_tiles("tianditu", "K1"), persons=dots()).get_root().render())
    urls = [t["url"] for t in data["tiles"]]
    assert len(urls) == 2 and "T=vec_w" in urls[0] and "T=cva_w" in urls[1] and all("tk=K1" in u for u in urls)
    assert all(t["options"]["subdomains"] == "01234567" for t in data["tiles"])


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
    data = data_of(html)
    names = {row[4] for rows in rows_of(html) for row in rows}
    assert leaflet_safe(payload) in names
    # In the browser: the tooltip shows the name as typed and makes no element of it.
    for row in (row for rows in rows_of(html) for row in rows):
        dom = _Dom(person_tooltip(row, data["words"]))
        assert dom.tags == ["b", "br", "br", "small"], row
    shown = {_Dom(person_tooltip(row, data["words"])).text[0] for rows in rows_of(html) for row in rows}
    assert payload in shown and f"前{payload}后" in shown


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_payload_in_village_and_area_names_reaches_the_map_inert(payload):
    village = VillageDot("522699101201", payload, payload, 26.3, 108.1, 3, 1, {"child": 3})
    shape = AreaShape("522699101000", payload, "township", 26.3, 108.1, SQUARE)
    html = build_map(tiles=NONE, villages=[village], shapes=[shape]).get_root().render()
    _assert_inert(html, payload)
    data = data_of(html)
    (rows,) = rows_of(html)
    tooltip = _Dom(rows[0][4])
    assert set(tooltip.tags) <= {"b", "br", "small"}
    assert payload in tooltip.text and f"（{payload}）" in "".join(tooltip.text)
    (labels,) = [layer["labels"] for layer in data["layers"] if layer["kind"] == "shapes"]
    assert [(_Dom(label[2]).tags, "".join(_Dom(label[2]).text)) for label in labels] == [([], payload)]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_payload_stays_inert_in_the_standalone_export(payload):
    html = standalone_html(build_map(tiles=NONE, persons=dots((payload,))))
    _assert_inert(html, payload)
    assert {row[4] for rows in rows_of(html) for row in rows} == {leaflet_safe(payload)}


def test_a_lone_backtick_never_reaches_a_script_unescaped():
    html = build_map(tiles=NONE, persons=dots(("`",))).get_root().render()
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, re.S)
    assert len(scripts) >= 2 and all("`" not in s for s in scripts)


def test_identical_inputs_build_identical_html_so_the_component_is_not_remounted():
    one = build_map(tiles=NONE, persons=dots()).get_root().render()
    two = build_map(tiles=NONE, persons=dots()).get_root().render()
    assert one == two
    assert map_view.map_key(build_map(tiles=NONE, persons=dots())) == map_view.map_key(
        build_map(tiles=NONE, persons=dots())
    )


def test_different_data_gets_a_different_component_key_so_the_frame_redraws():
    keys = {
        map_view.map_key(build_map(tiles=NONE, persons=dots())),
        map_view.map_key(build_map(tiles=NONE, persons=dots(), color_by="risk")),
        map_view.map_key(build_map(tiles=NONE, persons=dots()[:2])),
        map_view.map_key(build_map(tiles=NONE, persons=dots(), groups=("child",))),
    }
    assert len(keys) == 4 and all(k.startswith("care_map_") for k in keys)


def _hostile_villages() -> list[VillageDot]:
    return [VillageDot("522699101201", p, p, 26.3, 108.1, 3, 1, {"child": 3}) for p in PAYLOADS]


def test_the_component_script_is_the_same_text_for_every_map():
    shape = AreaShape("522699101000", "丹江镇", "township", 26.3, 108.1, SQUARE)
    maps = [
        build_map(tiles=NONE, persons=dots(), shapes=[shape]),
        build_map(tiles=parse_tiles("amap"), persons=dots(PAYLOADS), color_by="risk", lang="en"),
        build_map(tiles=parse_tiles("tianditu", "K1"), villages=_hostile_villages(), bounds=[[1, 2], [3, 4]]),
        build_map(tiles=parse_tiles("osm")),
    ]
    scripts = {map_view.frame_script(m) for m in maps}
    assert len(scripts) == 1
    (script,) = scripts
    assert script.endswith("window.map = map_div; window.initComponent(map_div, false);")
    assert 'CareMap.draw(map_div, JSON.parse(document.getElementById("care-map-data").textContent));' in script
    # No data in the script: neither the names, the tiles nor the colours.
    for text in ("张三", "tianditu", "#d6336c", "alert", "26.3"):
        assert text not in script, text


def test_the_frame_script_hash_is_the_sha256_of_what_the_component_runs():
    one = build_map(tiles=NONE, persons=dots())
    two = build_map(tiles=parse_tiles("osm"), villages=_hostile_villages(), lang="en")
    texts = []
    for m in (one, two):
        # As st_folium does it: the page, the map, then the script the frame injects.
        m.get_root().render()
        m.render()
        assert "care-map-data" in _get_html(m)
        texts.append(_get_map_string(m) + "window.map = map_div; window.initComponent(map_div, false);")
    assert texts[0] == texts[1]
    expected = "'sha256-" + base64.b64encode(hashlib.sha256(texts[0].encode("utf-8")).digest()).decode() + "'"
    assert map_view.frame_script_hashes() == [expected]


def test_the_data_document_goes_to_the_frame_in_the_html_part_not_the_script():
    m = build_map(tiles=NONE, persons=dots(PAYLOADS))
    m.get_root().render()
    m.render()
    html = _get_html(m)
    (document,) = DOCUMENT.findall(html)
    assert document == map_data_json(m)
    assert "<" not in document and ">" not in document


def test_the_standalone_export_inlines_leaflet_and_caremap_and_links_nothing():
    html = standalone_html(build_map(tiles=NONE, persons=dots()))
    assert "/app/static" not in html and "<script src=" not in html and "<link" not in html
    assert "L.Map" in html or "window.L" in html
    assert "window.CareMap = {draw: draw}" in html
    assert html.index("window.CareMap") < html.index("CareMap.draw(map_")
    assert "data:image/png;base64," in html


def _pick(tiles: str, **kw):
    from care.files.maps import pick_map

    args = {"shapes": [], "centre": (26.5, 108.1), "chosen": None, "fallback_bounds": None}
    return pick_map(tiles=parse_tiles(tiles), lang="zh", height=360, **{**args, **kw})


def test_the_location_picker_runs_the_one_map_script_its_hash_allows():
    script = map_view.frame_script(_pick("none", chosen=(26.51, 108.11)))
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    assert map_view.frame_script_hashes() == [f"'sha256-{digest}'"]


def test_the_location_picker_frames_the_chosen_place_else_the_village_centre_else_the_fallback():
    from care.files.maps import PICK_SPAN, map_data

    chosen = map_data(_pick("none", chosen=(26.6, 108.3)))
    assert chosen["bounds"] == [
        [round(26.6 - PICK_SPAN, 6), round(108.3 - PICK_SPAN, 6)],
        [round(26.6 + PICK_SPAN, 6), round(108.3 + PICK_SPAN, 6)],
    ]
    marks = chosen["layers"][-1]
    assert marks["kind"] == "marks"
    assert [row[3] for row in marks["rows"]] == ["村中心（起点）", "所选位置"]
    centre = map_data(_pick("none"))
    assert centre["bounds"] == [
        [round(26.5 - PICK_SPAN, 6), round(108.1 - PICK_SPAN, 6)],
        [round(26.5 + PICK_SPAN, 6), round(108.1 + PICK_SPAN, 6)],
    ]
    nothing = map_data(_pick("none", centre=None, fallback_bounds=[[26.0, 108.0], [26.8, 108.6]]))
    assert nothing["bounds"] == [[26.0, 108.0], [26.8, 108.6]]
    assert nothing["layers"][-1]["rows"] == []
    assert "点击地图设置位置" in nothing["legend"]


def test_a_click_on_amap_tiles_is_stored_in_wgs84():
    from care.domain.tiles import wgs84_to_gcj02
    from care.files.maps import map_data, unshift

    tiles = parse_tiles("amap")
    place = (26.512345, 108.123456)
    drawn = map_data(_pick("amap", chosen=place))["layers"][-1]["rows"][-1]
    assert (drawn[0], drawn[1]) != place  # drawn where AMap's shifted imagery shows it
    assert (drawn[0], drawn[1]) == tuple(round(c, 6) for c in wgs84_to_gcj02(*place))
    back = unshift(drawn[0], drawn[1], tiles)
    assert abs(back[0] - place[0]) < 2e-6 and abs(back[1] - place[1]) < 2e-6
    assert unshift(26.5, 108.1, parse_tiles("osm")) == (26.5, 108.1)


def test_a_village_name_in_a_marker_label_is_inert():
    from care.files.maps import Mark, _marks_layer

    layer = _marks_layer([Mark(26.5, 108.1, "<img src=x onerror=alert(1)>{{ 7*7 }}", "centre")], "zh", False)
    label = layer["rows"][0][3]
    assert "<img" not in label and "{{" not in label


def _household() -> list[PersonDot]:
    # A grandmother (elderly, on time) and her grandson (child, overdue; disabled, never visited) at
    # one home; a neighbour living alone; a person in two groups living alone elsewhere.
    return [
        PersonDot(1, "<img src=x onerror=alert(1)>{{7*7}}", "elderly", 26.1, 108.1, "on_time", "low", 10),
        PersonDot(2, "小明", "child", 26.1, 108.1, "overdue", "high", 10),
        PersonDot(2, "小明", "disabled", 26.1, 108.1, "never", "medium", 10),
        PersonDot(3, "独居", "elderly", 26.2, 108.2, "never", "low", 11),
        PersonDot(4, "双类", "child", 26.3, 108.2, "on_time", "low", 12),
        PersonDot(4, "双类", "disabled", 26.3, 108.2, "due_soon", "low", 12),
        # Same household, another place (their own location): a marker of its own.
        PersonDot(5, "外出", "child", 26.4, 108.4, "on_time", "low", 10),
    ]


def test_a_households_members_at_one_place_share_one_marker_and_counts_stay_per_person():
    data = map_data(build_map(tiles=NONE, persons=_household()))
    assert data["homes"] == [["同户 2 人", "⌂#1", 2], ["双类", "#4", 1]]
    rows = {(row[3], layer["name"]): row for layer in data["layers"] if "rows" in layer for row in layer["rows"]}
    # Every dot of persons 1 and 2 points at marker 0, person 4's at marker 1; 3 and 5 stand alone.
    assert {key: row[6] for key, row in rows.items()} == {
        (2, "儿童（3）"): 0,
        (4, "儿童（3）"): 1,
        (5, "儿童（3）"): -1,
        (1, "老年人（2）"): 0,
        (3, "老年人（2）"): -1,
        (2, "残疾人（2）"): 0,
        (4, "残疾人（2）"): 1,
    }
    # The worst state is 0: overdue, then never visited, due soon, on time.
    assert [rows[(2, "儿童（3）")][7], rows[(2, "残疾人（2）")][7], rows[(1, "老年人（2）")][7]] == [0, 1, 3]
    # A member's name stays inert in the data the marker's list is written from.
    assert rows[(1, "老年人（2）")][4] == leaflet_safe("<img src=x onerror=alert(1)>{{7*7}}")
    assert "<img" not in map_data_json(build_map(tiles=NONE, persons=_household()))


def test_a_household_marker_by_risk_ranks_high_first_and_a_left_out_group_leaves_its_members_out():
    data = map_data(build_map(tiles=NONE, persons=_household(), color_by="risk"))
    child = next(layer for layer in data["layers"] if layer["name"].startswith("儿童"))
    assert [row[7] for row in child["rows"] if row[3] == 2] == [0]
    only_elderly = map_data(build_map(tiles=NONE, persons=_household(), groups=("elderly",)))
    # Without the child and disabled layers the grandmother is alone at her home: her own dot.
    assert only_elderly["homes"] == []
    assert [row[6] for layer in only_elderly["layers"] if "rows" in layer for row in layer["rows"]] == [-1, -1]


def test_a_household_click_is_read_before_a_person_click():
    assert map_view._HOME_CLICK.search("同户 2 人\n小明 · 儿童\n⌂#17").group(1) == "17"
    assert map_view._HOME_CLICK.search("小明\n#17") is None
    assert map_view._PERSON_CLICK.search("双类\n#4").group(1) == "4"

"""User text on the map is data, never template code: every hostile text through every way a map is drawn.

A map page is rendered by Jinja (folium's templates), and branca compiles what each element renders
as a template once more; streamlit-folium then renders each element's script on its own. A name
that a template engine evaluated would show changed (``{{ 7*7 }}`` as ``49``), hide its neighbours
(``{#`` … ``#}``), break the page (TemplateSyntaxError) or run code (the canary). All user text sits
in the map's one JSON data document; static/care/caremap.js puts it into the page (run here under
Node with a recording stand-in for Leaflet, to see exactly what reaches innerHTML).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import folium
import jinja2
import pytest
from streamlit_folium import _get_header, _get_html, _get_map_string

from care.domain.map_data import AreaShape, PersonDot, VillageDot
from care.domain.tiles import parse_tiles
from care.files.maps import CARE_JS, build_map, leaflet_safe, map_data_json, safe_json, standalone_html
from tests.hostile import PAYLOADS, SPLIT_PAIRS, all_texts, watching_canaries

NONE = parse_tiles("none")
TEXTS = all_texts()
SQUARE = json.dumps(
    {"type": "Polygon", "coordinates": [[[108.0, 26.2], [108.1, 26.2], [108.1, 26.3], [108.0, 26.3], [108.0, 26.2]]]}
)
TEMPLATE_MARKS = ("{{", "{%", "{#")
DOCUMENT = re.compile(r'<script type="application/json" id="care-map-data">(.*?)</script>', re.S)
NODE = shutil.which("node")


def _page(m: folium.Map) -> str:
    return m.get_root().render()


def _component(m: folium.Map) -> str:
    # What st_folium sends to the browser: the whole page is rendered first, then the map's header,
    # its HTML part and each script alone.
    m.get_root().render()
    m.render()
    return "\n".join([_get_header(m), _get_html(m), _get_map_string(m)])


RENDERERS: dict[str, Callable[[folium.Map], str]] = {
    "page": _page,
    "component": _component,
    "standalone": standalone_html,
}


def _document(text: str) -> dict:
    found = DOCUMENT.findall(text)
    assert len(found) == 1, f"{len(found)} data documents in the output"
    return json.loads(found[0])


def _rows(text: str, kind: str) -> list:
    return [row for layer in _document(text)["layers"] if layer["kind"] == kind for row in layer["rows"]]


def _labels(text: str) -> list:
    return [label for layer in _document(text)["layers"] if layer["kind"] == "shapes" for label in layer["labels"]]


def _persons(texts: list[str]) -> list[PersonDot]:
    return [PersonDot(i + 1, text, "child", 26.3 + i / 1000, 108.1, "overdue", "high") for i, text in enumerate(texts)]


def _places(texts: list[str]) -> tuple[list[VillageDot], list[AreaShape]]:
    villages = [
        VillageDot(f"5226991012{i:02d}", text, f"镇{text}", 26.3 + i / 1000, 108.1, 3, 1, {"child": 3})
        for i, text in enumerate(texts)
    ]
    shapes = [
        AreaShape(f"5226991{i:02d}000", text, "township", 26.3 + i / 1000, 108.2, SQUARE)
        for i, text in enumerate(texts)
    ]
    return villages, shapes


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


def test_the_corpus_is_large_and_covers_every_engine():
    assert len(PAYLOADS) >= 30
    for marks in (("{{",), ("{%",), ("{#",), ("<",), ("`", "${"), ("**", ":red["), ("=", "+", "@")):
        assert any(any(p.startswith(m) or m in p for m in marks) for p in PAYLOADS), marks
    assert all(len(t) <= 64 and " ".join(t.split()) == t for t in TEXTS), "every text must fit a person's name"


@pytest.mark.parametrize("how", RENDERERS)
def test_person_names_come_back_exactly_as_typed_however_the_map_is_rendered(how):
    with watching_canaries():
        out = RENDERERS[how](build_map(tiles=NONE, persons=_persons(TEXTS)))
    rows = sorted(_rows(out, "persons"), key=lambda r: r[3])
    assert [html.unescape(r[4]) for r in rows] == TEXTS
    assert [r[3] for r in rows] == list(range(1, len(TEXTS) + 1)), "a record went missing"


@pytest.mark.parametrize("how", RENDERERS)
@pytest.mark.parametrize("pair", SPLIT_PAIRS, ids=lambda p: p[0])
def test_a_payload_split_across_neighbouring_records_leaves_both_records_drawn(how, pair):
    texts = ["前", *pair, "后"]
    with watching_canaries():
        out = RENDERERS[how](build_map(tiles=NONE, persons=_persons(texts)))
    assert [html.unescape(r[4]) for r in sorted(_rows(out, "persons"), key=lambda r: r[3])] == texts


@pytest.mark.parametrize("how", RENDERERS)
def test_village_township_and_boundary_names_come_back_exactly_as_typed(how):
    villages, shapes = _places(TEXTS)
    with watching_canaries():
        out = RENDERERS[how](build_map(tiles=NONE, villages=villages, shapes=shapes))
    tooltips = [html.unescape(re.sub("<[^>]+>", "\n", r[4])) for r in _rows(out, "villages")]
    for text in TEXTS:
        assert any(text in t.split("\n") and f"（镇{text}）" in t for t in tooltips), text
    assert sorted(html.unescape(label[2]) for label in _labels(out)) == sorted(TEXTS)


@pytest.mark.parametrize("how", RENDERERS)
def test_no_template_mark_from_data_reaches_the_rendered_scripts(how):
    villages, shapes = _places(TEXTS)
    with watching_canaries():
        outs = [
            RENDERERS[how](build_map(tiles=NONE, persons=_persons(TEXTS), shapes=shapes)),
            RENDERERS[how](build_map(tiles=NONE, villages=villages)),
        ]
    for out in outs:
        (document,) = DOCUMENT.findall(out)
        assert not any(mark in document for mark in TEMPLATE_MARKS)
        # The script that runs is the constant call: no user text, no mark.
        calls = [s for s in re.findall(r"<script>(.*?)</script>", out, re.S) if "CareMap.draw(" in s]
        if how == "component":
            calls = [out.split("</script>")[-1]]
        assert calls and not any(mark in c for c in calls for mark in TEMPLATE_MARKS)


def test_the_component_script_holds_no_user_text():
    villages, shapes = _places(TEXTS)
    for m in (build_map(tiles=NONE, persons=_persons(TEXTS), shapes=shapes), build_map(tiles=NONE, villages=villages)):
        m.get_root().render()
        m.render()
        script = _get_map_string(m)
        assert "CareMap.draw(map_div," in script
        assert not any(t in script or leaflet_safe(t) in script for t in TEXTS if len(t) > 3), "user text in the script"
        assert not any(mark in script for mark in TEMPLATE_MARKS)


def test_the_rendered_map_page_is_plain_text_to_any_later_template_engine():
    """Rendering the finished page as a template again changes nothing: there is nothing left to evaluate."""
    out = _page(build_map(tiles=NONE, persons=_persons(TEXTS)))
    scripts = "\n".join(re.findall(r"<script[^>]*>(.*?)</script>", out, re.S))
    with watching_canaries():
        assert jinja2.Environment(keep_trailing_newline=True).from_string(scripts).render() == scripts


# --- what caremap.js puts into the page ---------------------------------------------------------

# A stand-in for Leaflet and the DOM that records every string caremap.js hands to innerHTML, a
# divIcon's html, a tooltip or the layer control; tooltips are built for every dot, as on hover.
_RECORDER = r"""
const fs = require("fs"), vm = require("vm");
const data = JSON.parse(fs.readFileSync(0, "utf8"));
const seen = {tooltips: [], labels: [], names: [], legend: [], tiles: [], bounds: null, maxZoom: null};
function Layer() { this.children = []; }
Layer.prototype.addTo = function (parent) { parent.children.push(this); return this; };
Layer.prototype.addLayer = function (layer) { this.children.push(layer); return this; };
Layer.prototype.bindTooltip = function (content) { this.tooltip = content; return this; };
const element = () => ({innerHTML: ""});
global.window = global;
global.document = {createElement: element};
global.L = {
    tileLayer: (url, options) => { seen.tiles.push(url); return new Layer(); },
    featureGroup: () => new Layer(),
    geoJSON: () => new Layer(),
    marker: (at, options) => { seen.labels.push(options.icon.html); return new Layer(); },
    divIcon: (options) => options,
    circleMarker: () => new Layer(),
    control: Object.assign(() => ({addTo(map) { seen.legend.push(this.onAdd(map).innerHTML); return this; }}), {
        layers: () => ({addOverlay(layer, name) { seen.names.push(name); return this; }, addTo() { return this; }}),
    }),
    DomUtil: {create: element},
};
vm.runInThisContext(fs.readFileSync(process.argv[2], "utf8"), {filename: "caremap.js"});
const map = {children: [], setMaxZoom(z) { seen.maxZoom = z; }, fitBounds(b) { seen.bounds = b; }};
window.CareMap.draw(map, data);
for (const layer of map.children) {
    if (!layer.tooltip) continue;
    for (const dot of layer.children) seen.tooltips.push(layer.tooltip(dot).innerHTML);
}
process.stdout.write(JSON.stringify(seen));
"""


def _drawn(document: str, tmp_path: Path) -> dict:
    """Run static/care/caremap.js on a data document; what it put into the page."""
    recorder = tmp_path / "recorder.js"
    recorder.write_text(_RECORDER, encoding="utf-8")
    command = [str(NODE), str(recorder), str(CARE_JS)]
    done = subprocess.run(command, input=document, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.skipif(NODE is None, reason="node is not installed (the browser tests cover the same ground)")
def test_caremap_js_shows_every_person_name_as_typed_and_makes_no_element_of_it(tmp_path):
    _, shapes = _places(TEXTS)
    out = _component(build_map(tiles=NONE, persons=_persons(TEXTS), shapes=shapes))
    seen = _drawn(DOCUMENT.findall(out)[0], tmp_path)
    assert len(seen["tooltips"]) == len(TEXTS)
    for markup, text in zip(seen["tooltips"], TEXTS, strict=True):
        dom = _Dom(markup)
        assert dom.tags == ["b", "br", "br", "small"], markup
        assert dom.text[0] == text and dom.text[1] == "儿童 · 逾期未访" and re.fullmatch(r"#\d+", dom.text[2])
    for markup, text in zip(seen["labels"], TEXTS, strict=True):
        assert _Dom(markup).tags == [] and "".join(_Dom(markup).text) == text
    assert [(_Dom(n).tags, "".join(_Dom(n).text)) for n in seen["names"]] == [
        ([], "行政区界"),
        ([], f"儿童（{len(TEXTS)}）"),
        ([], "老年人（0）"),
        ([], "残疾人（0）"),
    ]
    (legend,) = seen["legend"]
    assert set(_Dom(legend).tags) <= {"b", "i", "br", "small"}


@pytest.mark.skipif(NODE is None, reason="node is not installed (the browser tests cover the same ground)")
def test_caremap_js_shows_every_village_and_township_name_as_typed(tmp_path):
    villages, _ = _places(TEXTS)
    out = _component(build_map(tiles=NONE, villages=villages, bounds=[[26.2, 108.0], [26.4, 108.3]]))
    seen = _drawn(DOCUMENT.findall(out)[0], tmp_path)
    assert seen["bounds"] == [[26.2, 108.0], [26.4, 108.3]] and seen["maxZoom"] == 18
    assert len(seen["tooltips"]) == len(TEXTS)
    for markup in seen["tooltips"]:
        dom = _Dom(markup)
        assert set(dom.tags) <= {"b", "br", "small"}, markup
        name = dom.text[0]
        assert name in TEXTS and dom.text[1] == f"（镇{name}）", dom.text


def test_the_data_document_is_exactly_safe_json_of_its_content():
    villages, shapes = _places(TEXTS)
    for m in (
        build_map(tiles=parse_tiles("http://intranet/{z}/{x}/{y}.png"), persons=_persons(TEXTS), shapes=shapes),
        build_map(tiles=parse_tiles("tianditu", "K1"), villages=villages, shapes=shapes),
    ):
        text = map_data_json(m)
        assert text == safe_json(json.loads(text))


def test_safe_json_round_trips_any_structure_and_holds_no_template_mark():
    value = {t: [t, {"k": t, "n": [t, 1.5, None]}] for t in TEXTS}
    value["{"] = "}"
    encoded = safe_json(value)
    assert json.loads(encoded) == value
    assert not any(mark in encoded for mark in TEMPLATE_MARKS)
    assert not any(ch in encoded for ch in "<>&\u2028\u2029")
    assert safe_json([{"a": {"b": {}}}]) == '[{"a":{"b":{}}}]', "JSON's own brackets stay as they are"


@pytest.mark.parametrize("text", TEXTS)
def test_leaflet_safe_text_reads_back_as_typed_and_holds_nothing_active(text):
    safe = leaflet_safe(text)
    assert html.unescape(safe) == text
    assert not any(ch in safe for ch in "<>\"'`${}\\_")


@pytest.mark.parametrize(
    "setting",
    [
        "https://x/{z}/{x}/{y}.png?{{7*7}}",
        "https://x/{z}/{x}/{y}.png?{%raw%}",
        "https://x/{z}/{x}/{y}.png?{#",
        'https://x/{z}/{x}/{y}.png"+alert(1)+"',
        "https://x/{z}/{x}/{y}.png</script>",
        "https://x/{z}/{x}/{y}.png`${alert(1)}`",
        "https://x/{z}/{x}/{y}.png {q}",
    ],
)
def test_a_tile_setting_that_could_be_code_is_refused(setting):
    source = parse_tiles(setting)
    assert source.kind == "none" and source.problem == "tiles_unknown"


@pytest.mark.parametrize("key", ["{{7*7}}", "k'+alert(1)+'", "k</script>", "k k"])
def test_a_tianditu_key_that_could_be_code_is_refused(key):
    assert parse_tiles("tianditu", key).kind == "none"

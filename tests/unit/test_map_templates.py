"""User text on the map is data, never template code: every hostile text through every way a map is drawn.

A map page is rendered by Jinja (folium's templates), and branca compiles what each element renders
as a template once more; streamlit-folium then renders each element's script on its own. A name
that a template engine evaluated would show changed (``{{ 7*7 }}`` as ``49``), hide its neighbours
(``{#`` … ``#}``), break the page (TemplateSyntaxError) or run code (the canary).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable

import folium
import jinja2
import pytest
from streamlit_folium import generate_leaflet_string

from care.maps import AreaShape, PersonDot, VillageDot, build_map, leaflet_safe, safe_json, standalone_html
from care.tiles import parse_tiles
from tests.hostile import PAYLOADS, SPLIT_PAIRS, all_texts, watching_canaries

NONE = parse_tiles("none")
TEXTS = all_texts()
SQUARE = json.dumps(
    {"type": "Polygon", "coordinates": [[[108.0, 26.2], [108.1, 26.2], [108.1, 26.3], [108.0, 26.3], [108.0, 26.2]]]}
)
TEMPLATE_MARKS = ("{{", "{%", "{#")


def _page(m: folium.Map) -> str:
    return m.get_root().render()


def _component(m: folium.Map) -> str:
    # What st_folium sends to the browser: the whole page is rendered first, then each script alone.
    m.get_root().render()
    return generate_leaflet_string(m)


RENDERERS: dict[str, Callable[[folium.Map], str]] = {
    "page": _page,
    "component": _component,
    "standalone": standalone_html,
}


def _array(text: str, name: str) -> list:
    found = re.findall(rf"var {name} = (\[.*?\]);\n", text)
    assert found, f"no {name} array in the output"
    return [row for rows in found for row in json.loads(rows)]


def _persons(texts: list[str]) -> list[PersonDot]:
    return [PersonDot(i + 1, text, "child", 26.3 + i / 1000, 108.1, "overdue", "high") for i, text in enumerate(texts)]


def test_the_corpus_is_large_and_covers_every_engine():
    assert len(PAYLOADS) >= 30
    for marks in (("{{",), ("{%",), ("{#",), ("<",), ("`", "${"), ("**", ":red["), ("=", "+", "@")):
        assert any(any(p.startswith(m) or m in p for m in marks) for p in PAYLOADS), marks
    assert all(len(t) <= 64 and " ".join(t.split()) == t for t in TEXTS), "every text must fit a person's name"


@pytest.mark.parametrize("how", RENDERERS)
def test_person_names_come_back_exactly_as_typed_however_the_map_is_rendered(how):
    with watching_canaries():
        out = RENDERERS[how](build_map(tiles=NONE, persons=_persons(TEXTS)))
    rows = sorted(_array(out, "rows"), key=lambda r: r[3])
    assert [html.unescape(r[4]) for r in rows] == TEXTS
    assert [r[3] for r in rows] == list(range(1, len(TEXTS) + 1)), "a record went missing"


@pytest.mark.parametrize("how", RENDERERS)
@pytest.mark.parametrize("pair", SPLIT_PAIRS, ids=lambda p: p[0])
def test_a_payload_split_across_neighbouring_records_leaves_both_records_drawn(how, pair):
    texts = ["前", *pair, "后"]
    with watching_canaries():
        out = RENDERERS[how](build_map(tiles=NONE, persons=_persons(texts)))
    assert [html.unescape(r[4]) for r in sorted(_array(out, "rows"), key=lambda r: r[3])] == texts


@pytest.mark.parametrize("how", RENDERERS)
def test_village_township_and_boundary_names_come_back_exactly_as_typed(how):
    villages = [
        VillageDot(f"5226991012{i:02d}", text, f"镇{text}", 26.3 + i / 1000, 108.1, 3, 1, {"child": 3})
        for i, text in enumerate(TEXTS)
    ]
    shapes = [
        AreaShape(f"5226991{i:02d}000", text, "township", 26.3 + i / 1000, 108.2, SQUARE)
        for i, text in enumerate(TEXTS)
    ]
    with watching_canaries():
        out = RENDERERS[how](build_map(tiles=NONE, villages=villages, shapes=shapes))
    tooltips = [html.unescape(re.sub("<[^>]+>", "\n", r[4])) for r in _array(out, "rows")]
    for text in TEXTS:
        assert any(text in t.split("\n") and f"（镇{text}）" in t for t in tooltips), text
    assert sorted(html.unescape(label[2]) for label in _array(out, "labels")) == sorted(TEXTS)


@pytest.mark.parametrize("how", RENDERERS)
def test_no_template_mark_from_data_reaches_the_rendered_scripts(how):
    with watching_canaries():
        out = RENDERERS[how](build_map(tiles=NONE, persons=_persons(TEXTS)))
    scripts = re.findall(r"var rows = (\[.*?\]);\n", out)
    assert scripts and not any(mark in s for s in scripts for mark in TEMPLATE_MARKS)


def test_the_rendered_map_page_is_plain_text_to_any_later_template_engine():
    """Rendering the finished page as a template again changes nothing: there is nothing left to evaluate."""
    out = _page(build_map(tiles=NONE, persons=_persons(TEXTS)))
    scripts = "\n".join(re.findall(r"<script>(.*?)</script>", out, re.S))
    with watching_canaries():
        assert jinja2.Environment(keep_trailing_newline=True).from_string(scripts).render() == scripts


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

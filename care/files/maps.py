"""Build the county map (folium) from plain data; the one Leaflet-safe escaper; the HTML export.

Nothing here touches the database or Streamlit. Every map carries one data document, a
``<script type="application/json" id="care-map-data">`` in its HTML part, and one script that is
the same text for every map: ``CareMap.draw(map, data)`` from static/care/caremap.js draws the
tiles, boundaries, village circles, person dots, legend and layer control from the document. The
Content-Security-Policy can therefore allow the map component's inline script by its hash alone.
Persons are drawn by one small JavaScript loop (``L.circleMarker`` on the map's one canvas:
``prefer_canvas``; a second canvas renderer would swallow the clicks meant for the first), never
one folium object per person, so a 10,000-person township builds in milliseconds. Every
user-typed string that reaches Leaflet goes through :func:`leaflet_safe`, and the document through
:func:`safe_json`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template

from care import i18n
from care.domain import areas
from care.domain.enums import GROUPS, RISKS
from care.domain.map_data import (
    PLACEMENTS,
    VISIT_STATES,
    AreaShape,
    PersonDot,
    VillageDot,
    fit_bounds,
    geometry_of,
    shape_centre,
)
from care.domain.tiles import TileSource, tile_hosts, wgs84_to_gcj02
from care.files.area_files import gcj02_to_wgs84

STATUS_COLORS = {"overdue": "#d6336c", "due_soon": "#f59f00", "on_time": "#2f9e44", "never": "#7048e8"}
RISK_COLORS = {"high": "#c92a2a", "medium": "#f59f00", "low": "#2f9e44"}
# Worst first: a household marker takes the colour of its worst member in view.
WORST_STATE = ("overdue", "never", "due_soon", "on_time")
# A household marker's click text ends "⌂#<person id>" (a member's id: the side panel shows their household).
HOME_MARK = "⌂#"
# Village circles: colour by the share of persons with an overdue visit (upper bound, colour).
# The county's overdue share runs around 10-20%: the steps are set to tell those villages apart.
SHARE_STEPS: tuple[tuple[float, str], ...] = ((0.08, "#2f9e44"), (0.15, "#f59f00"), (0.25, "#e8590c"), (2.0, "#c92a2a"))
SHARE_LABELS = ("< 8%", "8–15%", "15–25%", "≥ 25%")
BOUNDARY_STYLE = {
    "county": ("#1d2b7a", 3.5, 0.0),
    "township": ("#364fc7", 2.5, 0.02),
    "village": ("#5c7cfa", 1.0, 0.0),
}
ASSET_BASE = "/app/static/vendor"
STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
# The script that draws every map from its data document (served by Streamlit from static/).
CARE_JS = STATIC_DIR / "care" / "caremap.js"
CARE_JS_URL = "/app/static/care/caremap.js"
MAX_ZOOM = 18
# Where every map starts (its script is the same text for every map): the whole world, with China
# in the middle. caremap.js fits the map to its data's bounds at once; a map that knows no place at
# all stays here and says so.
WORLD_CENTRE = (30.0, 105.0)
WORLD_ZOOM = 2
PICK_SPAN = 0.012  # degrees around the place a location picker frames: about 2.6 km across
# Entities for what HTML escaping leaves: \\ ` $ (JavaScript template literals), { } (Jinja, which
# branca runs over rendered scripts a second time) and _ (streamlit-folium renames `_<id>` runs).
_LEAFLET_SAFE = str.maketrans({"\\": "&#92;", "`": "&#96;", "$": "&#36;", "{": "&#123;", "}": "&#125;", "_": "&#95;"})
_JSON_SAFE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def leaflet_safe(text: object) -> str:
    """User text made inert for Leaflet: HTML-escaped, then \\ ` $ { } _ as entities."""
    return html.escape("" if text is None else str(text), quote=True).translate(_LEAFLET_SAFE)


def _escape_braces(match: re.Match[str]) -> str:
    return match.group(0).replace("{", "\\u007b").replace("}", "\\u007d")


def safe_json(value: Any) -> str:
    """Data as JSON for a script: the one encoder for every array the map's scripts embed.

    < > & and line separators become \\u escapes (the text cannot close its <script> element), and
    so do { and } inside strings: no string can form the start of a Jinja expression, statement or
    comment, whichever template engine reads the page afterwards. JSON's own brackets stay; no
    object opens with two braces or a brace and % or #, so they never form one either.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = re.sub("[<>&\u2028\u2029]", lambda m: _JSON_SAFE[m.group(0)], text)
    if "{" in text or "}" in text:
        text = _JSON_STRING.sub(_escape_braces, text)
    return text


def _document_json(value: Any, depth: int = 3) -> str:
    """Exactly ``safe_json(value)``, built from the encodings of its parts down to ``depth`` levels.

    safe_json scans a text for strings holding braces only when it holds a brace; encoded whole, a
    map's document always does (its objects), and the scan would cross every person's row. Encoded
    part by part, the long row arrays hold no brace and are not scanned.
    """
    if depth and isinstance(value, dict):
        items = (safe_json(str(k)) + ":" + _document_json(v, depth - 1) for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if depth and isinstance(value, list):
        return "[" + ",".join(_document_json(v, depth - 1) for v in value) + "]"
    return safe_json(value)


@dataclass(frozen=True)
class Mark:
    """A labelled point on a location picker: a village centre to start from, or the chosen place."""

    lat: float
    lon: float
    label: str
    kind: str = "chosen"  # "chosen" or "centre"


MARK_COLORS = {"chosen": "#d63384", "centre": "#495057"}


def share_color(overdue: int, persons: int) -> str:
    """The colour of a village circle for its overdue share."""
    share = overdue / persons if persons else 0.0
    return next(color for bound, color in SHARE_STEPS if share < bound)


def village_radius(persons: int, biggest: int) -> float:
    """Circle radius in pixels, growing with the square root of the persons (4 to 16 px)."""
    if persons <= 0 or biggest <= 0:
        return 3.0
    radius: float = 4 + 12 * (persons / biggest) ** 0.5
    return round(radius, 1)


def person_color(dot: PersonDot, color_by: str) -> str:
    """A person's colour: by visit state (default) or by risk."""
    if color_by == "risk":
        return RISK_COLORS.get(dot.risk, "#868e96")
    return STATUS_COLORS.get(dot.state, "#868e96")


# --- the JavaScript pieces -----------------------------------------------------------------------

# The one script of every map, the same text whatever the map shows (the CSP allows exactly its
# hash), and the data document it reads: static/care/caremap.js draws the map from the document.
_DRAW_JS = """
{% macro header(this, kwargs) %}
<style>
.care-legend {background: rgba(255,255,255,0.92); padding: 6px 9px; border-radius: 4px; line-height: 1.45;
              box-shadow: 0 1px 4px rgba(0,0,0,0.3); font-size: 13px; color: #1d2b2f; max-width: 230px;}
.care-legend i {display: inline-block; width: 11px; height: 11px; border-radius: 50%; margin-right: 6px;
                vertical-align: -1px; border: 1px solid #fff;}
.care-legend b {display: block; margin: 2px 0;}
.care-label {background: transparent; border: none; box-shadow: none; font-weight: 600; color: #1c2a5e;
             text-align: center; white-space: nowrap; text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff;}
.care-label::before {display: none;}
.care-label-village {font-weight: 400; font-size: 11px; color: #364fc7;}
.care-label-township {font-size: 14px;}
.care-basemap {background: rgba(255,255,255,0.94); padding: 5px 8px; border-radius: 4px; font-size: 12px;
               font-family: system-ui, sans-serif;
               color: #1d2b2f; max-width: 360px; box-shadow: 0 1px 4px rgba(0,0,0,0.3);}
.care-basemap-failed, .care-notice {border-left: 4px solid #e8590c;}
</style>
{% endmacro %}
{% macro html(this, kwargs) %}
<script type="application/json" id="care-map-data">{{ this.data_json }}</script>
{% endmacro %}
{% macro script(this, kwargs) %}
CareMap.draw({{ this._parent.get_name() }}, JSON.parse(document.getElementById("care-map-data").textContent));
{% endmacro %}
"""


class _Verbatim(Element):
    """Text placed into the page as it is: branca's Element would compile it as a template again."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


class _Js(MacroElement):
    """A script built from a constant template and data already made safe (see safe_json).

    Rendered once: MacroElement.render would hand the output to ``Element(...)``, which parses it
    as a template a second time, data and all.
    """

    def __init__(self, template: str, **values: str) -> None:
        # branca's MacroElement.__init__ carries no annotations.
        super().__init__()  # type: ignore[no-untyped-call, unused-ignore]
        self._name = "CareJs"
        self._template = Template(template)
        for key, value in values.items():
            setattr(self, key, value)

    def render(self, **kwargs: Any) -> str:
        figure = self.get_root()
        macros = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = macros.get(part)
            if macro is not None:
                getattr(figure, part).add_child(_Verbatim(macro(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)
        return ""


# --- building the map ------------------------------------------------------------------------


def _t(key: str, lang: str, **params: Any) -> str:
    return i18n.t(key, lang, **params)


def _shift(lat: float, lon: float, gcj02: bool) -> tuple[float, float]:
    return wgs84_to_gcj02(lat, lon) if gcj02 else (lat, lon)


def _shift_geometry(coords: Any, gcj02: bool) -> Any:
    if not gcj02:
        return coords
    if coords and isinstance(coords[0], (int, float)):
        lat, lon = wgs84_to_gcj02(float(coords[1]), float(coords[0]))
        return [round(lon, 6), round(lat, 6)]
    return [_shift_geometry(c, gcj02) for c in coords]


def _boundary_feature(shape: AreaShape, gcj02: bool) -> dict[str, Any] | None:
    geometry = geometry_of(shape.boundary)
    if geometry is None:
        return None
    color, weight, fill = BOUNDARY_STYLE.get(shape.level, BOUNDARY_STYLE["village"])
    style = {"color": color, "weight": weight, "fillOpacity": fill, "fillColor": color, "opacity": 0.8}
    # Only the style goes into properties: no user text reaches Leaflet through GeoJSON.
    return {
        "type": "Feature",
        "properties": {"style": style},
        "geometry": {"type": geometry["type"], "coordinates": _shift_geometry(geometry.get("coordinates"), gcj02)},
    }


def basemap_words(tiles: TileSource, lang: str) -> dict[str, str]:
    """What the basemap needs, in words: the note a standalone file shows, and what a map says when tiles fail."""
    hosts = ", ".join(tile_hosts(tiles))
    if tiles.kind == "none":
        note = _t("map.basemap.none", lang)
    elif not hosts:
        note = _t("map.basemap.this_server", lang, url=tiles.layers[0].url if tiles.layers else "")
    else:
        note = _t("map.basemap.needs", lang, name=_t(f"map.basemap.kind.{tiles.kind}", lang), hosts=hosts)
    failed = _t("map.basemap.failed", lang, hosts=hosts or (tiles.layers[0].url if tiles.layers else ""))
    return {"kind": tiles.kind, "hosts": hosts, "note": leaflet_safe(note), "failed": leaflet_safe(failed)}


def circle_level(villages: Sequence[VillageDot]) -> str:
    """What a map's circles stand for: 'village' (a county's map), 'township' (a city's) or 'county'."""
    if not villages or not areas.is_code(villages[0].code):
        return "village"
    return areas.level_of(villages[0].code)


def _legend_html(lang: str, *, mode: str, color_by: str, circles: str = "village") -> str:
    def row(color: str, text: str) -> str:
        return f'<i style="background:{color}"></i>{leaflet_safe(text)}<br>'

    if mode == "pick":
        parts = [f"<b>{leaflet_safe(_t('map.legend.pick', lang))}</b><br>"]
        parts += [row(MARK_COLORS[k], _t(f"map.mark.{k}", lang)) for k in MARK_COLORS]
    elif mode == "villages":
        parts = [f"<b>{leaflet_safe(_t(f'map.legend.{circles}', lang))}</b>"]
        parts += [row(color, label) for (_, color), label in zip(SHARE_STEPS, SHARE_LABELS, strict=True)]
        parts.append(f"<small>{leaflet_safe(_t('map.legend.size', lang))}</small>")
    elif color_by == "risk":
        parts = [f"<b>{leaflet_safe(_t('map.legend.risk', lang))}</b>"]
        parts += [row(RISK_COLORS[r], _t("map.risk_label", lang, risk=_t(f"enum.risk.{r}", lang))) for r in RISKS]
    else:
        parts = [f"<b>{leaflet_safe(_t('map.legend.status', lang))}</b>"]
        parts += [row(STATUS_COLORS[s], _t(f"map.state.{s}", lang)) for s in VISIT_STATES]
    if mode == "persons":
        parts.append(f"<small>{leaflet_safe(_t('map.legend.home', lang))}</small>")
    return "".join(parts)


def _village_tooltip(v: VillageDot, lang: str) -> str:
    share = round(100 * v.overdue / v.persons) if v.persons else 0
    groups = " · ".join(
        f"{leaflet_safe(_t(f'enum.group.{g}', lang))} {v.by_group.get(g, 0)}" for g in GROUPS if v.by_group.get(g)
    )
    head = f"<b>{leaflet_safe(v.name)}</b>"
    if v.township:
        head += f"（{leaflet_safe(v.township)}）"
    counts = leaflet_safe(_t("map.village_counts", lang, persons=v.persons, overdue=v.overdue, share=share))
    # An estimated place says so; the code stays last (the side panel reads it from the click).
    placed = f"<br>{leaflet_safe(_t(f'map.placed.{v.placed}', lang))}" if v.placed in PLACEMENTS[1:] else ""
    return f"{head}<br>{counts}<br>{groups}{placed}<br><small>{leaflet_safe(v.code)}</small>"


def _stable_ids(m: folium.Map) -> None:
    # Random element ids would make every rebuild a new map, which st_folium re-mounts.
    counter = 0

    def walk(element: Any) -> None:
        nonlocal counter
        counter += 1
        element._id = f"c{counter:04d}"
        for child in list(getattr(element, "_children", {}).values()):
            walk(child)

    walk(m)


def use_local_assets(m: folium.Map, base: str = ASSET_BASE, care_js: str | None = None) -> None:
    """Point the map at the app's own Leaflet and CareMap files; refuse any other element that loads a CDN."""
    m.default_js = [("leaflet", f"{base}/leaflet/leaflet.js"), ("caremap", care_js or care_js_url())]
    m.default_css = [("leaflet_css", f"{base}/leaflet/leaflet.css")]

    def walk(element: Any) -> Iterable[Any]:
        yield element
        for child in getattr(element, "_children", {}).values():
            yield from walk(child)

    for element in walk(m):
        if element is not m and isinstance(element, JSCSSMixin) and (element.default_js or element.default_css):
            raise ValueError(f"{type(element).__name__} loads assets this module does not host")


@functools.lru_cache(maxsize=1)
def care_js_url() -> str:
    """Where the browser loads caremap.js, versioned by its content (a new release is never a stale copy)."""
    try:
        digest = hashlib.sha256(CARE_JS.read_bytes()).hexdigest()[:12]
    except OSError:
        return CARE_JS_URL
    return f"{CARE_JS_URL}?v={digest}"


def _tile_layers(tiles: TileSource) -> list[dict[str, Any]]:
    # The options folium's TileLayer would give Leaflet.
    return [
        {
            "url": spec.url,
            "options": {
                "minZoom": 0,
                "maxZoom": tiles.max_zoom,
                "maxNativeZoom": tiles.max_zoom,
                "noWrap": False,
                "attribution": spec.attribution or " ",
                "subdomains": spec.subdomains,
                "detectRetina": False,
                "tms": False,
                "opacity": 1,
            },
        }
        for spec in tiles.layers
    ]


def build_map(
    *,
    tiles: TileSource,
    lang: str = i18n.DEFAULT_LANG,
    bounds: Sequence[Sequence[float]] | None = None,
    villages: Sequence[VillageDot] = (),
    persons: Sequence[PersonDot] = (),
    shapes: Sequence[AreaShape] = (),
    color_by: str = "status",
    groups: Sequence[str] = GROUPS,
    asset_base: str = ASSET_BASE,
    height: int = 640,
    mode: str | None = None,
    marks: Sequence[Mark] = (),
) -> folium.Map:
    """The map: boundaries and labels, village circles or one layer of persons per group, a legend.

    ``mode`` ('villages' or 'persons') says which the view shows even when it has none of them (a
    county whose villages have no place is still a village view); by default, what it is given.
    Without ``bounds`` the map fits what it draws (:func:`fit_bounds`); a map that knows no place
    at all shows the whole world and a notice saying why. Everything that differs from one map to
    another is in the map's data document (see :func:`map_data`); its script is the same text for
    every map.
    """
    gcj02 = tiles.gcj02
    if not bounds:
        bounds = fit_bounds(shapes, [(p.lat, p.lon) for p in persons] or [(v.lat, v.lon) for v in villages])
    box = [[*_shift(b[0], b[1], gcj02)] for b in bounds] if bounds else None
    m = _blank_map(height)
    if mode not in ("villages", "persons", "pick"):
        mode = "persons" if persons or not villages else "villages"
    layers = [_shapes_layer(shapes, lang, gcj02)]
    if villages or mode == "villages":
        layers.append(_villages_layer(villages, lang, gcj02))
    home_specs: list[list[Any]] = []
    if persons or mode == "persons":
        person_layers, home_specs = _person_layers(persons, lang, gcj02, color_by, groups)
        layers.extend(person_layers)
    if mode == "pick":
        layers.append(_marks_layer(marks, lang, gcj02))
    data = {
        "maxZoom": tiles.max_zoom,
        "bounds": box,
        "notice": "" if box else leaflet_safe(_t("map.bounds.none", lang)),
        "tiles": _tile_layers(tiles),
        "layers": layers,
        "words": _person_words(lang) if mode == "persons" else [],
        "homes": home_specs,
        "legend": _legend_html(lang, mode=mode, color_by=color_by, circles=circle_level(villages)),
        "basemap": basemap_words(tiles, lang),
    }
    m.add_child(_Js(_DRAW_JS, data_json=_document_json(data)))
    use_local_assets(m, asset_base)
    _stable_ids(m)
    return m


def _blank_map(height: int) -> folium.Map:
    """A map with no tiles and no layers, at the world view, that the map's script fills in."""
    return folium.Map(
        # A fixed start, the same for every map: caremap.js fits the map to the data's bounds at once.
        location=list(WORLD_CENTRE),
        zoom_start=WORLD_ZOOM,
        tiles=None,
        max_zoom=MAX_ZOOM,
        maxZoom=MAX_ZOOM,
        prefer_canvas=True,
        control_scale=True,
        # In a component iframe that is not yet visible the zoom transition never ends, leaving
        # Leaflet mid-animation: stale positions and clicks that miss. No animation, no such state.
        zoomAnimation=False,
        fadeAnimation=False,
        markerZoomAnimation=False,
        height=height,
    )


def _shapes_layer(shapes: Sequence[AreaShape], lang: str, gcj02: bool) -> dict[str, Any]:
    features = [f for f in (_boundary_feature(s, gcj02) for s in shapes) if f is not None]
    labels = []
    for s in shapes:
        centre = shape_centre(s)
        if centre is not None:
            lat, lon = _shift(*centre, gcj02)
            labels.append([round(lat, 6), round(lon, 6), leaflet_safe(s.name), s.level])
    return {
        "kind": "shapes",
        "name": leaflet_safe(_t("map.layer.boundaries", lang)),
        "shapes": {"type": "FeatureCollection", "features": features},
        "labels": labels,
    }


def _villages_layer(villages: Sequence[VillageDot], lang: str, gcj02: bool) -> dict[str, Any]:
    biggest = max((v.persons for v in villages), default=0)
    rows = []
    for v in sorted(villages, key=lambda v: -v.persons):  # small circles on top of big ones
        lat, lon = _shift(v.lat, v.lon, gcj02)
        color = share_color(v.overdue, v.persons)
        rows.append(
            [round(lat, 6), round(lon, 6), village_radius(v.persons, biggest), color, _village_tooltip(v, lang)]
        )
    name = _t(f"map.layer.{circle_level(villages)}", lang)
    return {"kind": "villages", "name": leaflet_safe(name), "rows": rows}


def _marks_layer(marks: Sequence[Mark], lang: str, gcj02: bool) -> dict[str, Any]:
    rows = []
    for mark in marks:
        lat, lon = _shift(mark.lat, mark.lon, gcj02)
        color = MARK_COLORS.get(mark.kind, MARK_COLORS["chosen"])
        side = "right" if mark.kind == "chosen" else "left"
        rows.append([round(lat, 6), round(lon, 6), color, leaflet_safe(mark.label), side])
    return {"kind": "marks", "name": leaflet_safe(_t("map.layer.marks", lang)), "rows": rows}


def pick_map(
    *,
    tiles: TileSource,
    lang: str,
    shapes: Sequence[AreaShape],
    centre: tuple[float, float] | None,
    chosen: tuple[float, float] | None,
    fallback_bounds: Sequence[Sequence[float]] | None,
    height: int,
) -> folium.Map:
    """A location picker: the village (its boundary and centre) and the chosen place, closely framed.

    Without a chosen place or a centre, the map frames ``fallback_bounds`` (the county).
    """
    marks = []
    if centre is not None:
        marks.append(Mark(centre[0], centre[1], _t("map.mark.centre", lang), "centre"))
    if chosen is not None:
        marks.append(Mark(chosen[0], chosen[1], _t("map.mark.chosen", lang), "chosen"))
    focus = chosen or centre
    bounds = (
        [
            [round(focus[0] - PICK_SPAN, 6), round(focus[1] - PICK_SPAN, 6)],
            [round(focus[0] + PICK_SPAN, 6), round(focus[1] + PICK_SPAN, 6)],
        ]
        if focus
        else fallback_bounds
    )
    return build_map(tiles=tiles, lang=lang, bounds=bounds, shapes=shapes, mode="pick", marks=marks, height=height)


def unshift(lat: float, lon: float, tiles: TileSource) -> tuple[float, float]:
    """A point clicked on the map, in stored (WGS-84) coordinates: GCJ-02 tiles show shifted points."""
    return gcj02_to_wgs84(lat, lon) if tiles.gcj02 else (lat, lon)


def _person_words(lang: str) -> list[str]:
    # A person row's last field indexes this list: group × visit state.
    return [
        leaflet_safe(f"{_t(f'enum.group.{g}', lang)} · {_t(f'map.state.{s}', lang)}")
        for g in GROUPS
        for s in VISIT_STATES
    ]


def _home_key(p: PersonDot) -> tuple[int, float, float]:
    """Where a dot is drawn: its household (else the person alone) at its rounded place (about 1 m)."""
    home = p.household_id if p.household_id is not None else -p.person_id
    return home, round(p.lat, 5), round(p.lon, 5)


def severity(p: PersonDot, color_by: str) -> int:
    """0 for the worst state (or risk); a household marker shows its member with the lowest."""
    return RISKS.index(p.risk) if color_by == "risk" else WORST_STATE.index(p.state)


def homes(persons: Sequence[PersonDot]) -> list[list[PersonDot]]:
    """The dots drawn as one marker: one household's members (or one person's groups) at one place.

    Only places with two or more dots; a person alone in one group is a dot of their own.
    """
    spots: dict[tuple[int, float, float], list[PersonDot]] = {}
    for p in persons:
        spots.setdefault(_home_key(p), []).append(p)
    return [dots for dots in spots.values() if len(dots) > 1]


def _home_specs(persons: Sequence[PersonDot], lang: str) -> tuple[dict[int, int], list[list[Any]]]:
    """Each dot's marker index, and per marker [title, click text, persons] (inert)."""
    index: dict[int, int] = {}
    specs: list[list[Any]] = []
    for dots in homes(persons):
        people = sorted({p.person_id for p in dots})
        if len(people) == 1:
            title, click = leaflet_safe(dots[0].name), f"#{people[0]}"
        else:
            title = leaflet_safe(_t("map.home.title", lang, n=len(people)))
            click = f"{HOME_MARK}{people[0]}"
        for p in dots:
            index[id(p)] = len(specs)
        specs.append([title, click, len(people)])
    return index, specs


def _person_layers(
    persons: Sequence[PersonDot], lang: str, gcj02: bool, color_by: str, groups: Sequence[str]
) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """One layer per group (its switch in the layer control) and the household markers they share.

    A row: lat, lon, colour, person id, name (inert), word index (group × state), marker index
    (-1: a dot of its own), severity (0 worst). caremap.js draws a marker once for the dots of its
    switched-on groups, in the colour of the worst of them.
    """
    shown = [p for p in persons if p.group in GROUPS and p.group in groups]
    home_of, specs = _home_specs(shown, lang)
    by_group: dict[str, list[list[Any]]] = {g: [] for g in GROUPS}
    for p in shown:
        lat, lon = _shift(p.lat, p.lon, gcj02)
        word = GROUPS.index(p.group) * len(VISIT_STATES) + VISIT_STATES.index(p.state)
        by_group[p.group].append(
            [
                round(lat, 6),
                round(lon, 6),
                person_color(p, color_by),
                int(p.person_id),
                leaflet_safe(p.name),
                word,
                home_of.get(id(p), -1),
                severity(p, color_by),
            ]
        )
    layers = [
        {"kind": "persons", "name": leaflet_safe(f"{_t(f'enum.group.{g}', lang)}（{len(rows)}）"), "rows": rows}
        for g, rows in by_group.items()
        if g in groups
    ]
    return layers, specs


def map_data_json(m: folium.Map) -> str:
    """The text of a built map's data document, exactly as the page carries it."""
    for child in m._children.values():
        text = getattr(child, "data_json", None)
        if isinstance(text, str):
            return text
    raise ValueError("not a map build_map made")


def map_data(m: folium.Map) -> dict[str, Any]:
    """A built map's data document, decoded: tiles, layers, words, legend, bounds, maximum zoom."""
    data: dict[str, Any] = json.loads(map_data_json(m))
    return data


def map_layers(m: folium.Map) -> dict[str, int]:
    """The data layers of a built map: layer name -> number of rows it draws (for tests and checks)."""
    return {html.unescape(layer["name"]): len(layer["rows"]) for layer in map_data(m)["layers"] if "rows" in layer}


# --- standalone export ---------------------------------------------------------------------


def inline_css(vendor: Path) -> str:
    css = (vendor / "leaflet" / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        image = vendor / "leaflet" / match.group(1)
        if not image.is_file():
            return match.group(0)
        return f"url(data:image/png;base64,{base64.b64encode(image.read_bytes()).decode('ascii')})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, css)


def inline_js(path: Path) -> str:
    return "<script>" + path.read_text(encoding="utf-8").replace("</script", "<\\/script") + "</script>"


def standalone_html(m: folium.Map, vendor: Path = VENDOR_DIR, care_js: Path = CARE_JS) -> str:
    """The map as one HTML file with Leaflet's and CareMap's scripts and styles inlined (opens offline from disk)."""
    m.default_js = []
    m.default_css = []
    css = inline_css(vendor).replace("</style", "<\\/style")
    scripts = inline_js(vendor / "leaflet" / "leaflet.js") + "\n" + inline_js(care_js)
    root: Any = m.get_root()
    root.header.add_child(_Verbatim("<style>" + css + "</style>\n" + scripts), name="leaflet_inline", index=0)
    basemap = map_data(m).get("basemap") or {}
    # Inert already (leaflet_safe): a file opened months later on another computer says what it needs.
    needs = html.escape(f"{basemap.get('kind', '')} {basemap.get('hosts', '')}".strip(), quote=True)
    meta = f'<meta name="caremap-basemap" content="{needs}">'
    root.header.add_child(_Verbatim(meta), name="basemap_meta", index=0)
    note = f'<div class="care-basemap" id="care-basemap-note">{basemap.get("note", "")}</div>'
    root.html.add_child(_Verbatim(note), name="basemap_note", index=0)
    return m.get_root().render()

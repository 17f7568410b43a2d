"""Map tile sources from configuration, and the WGS-84 → GCJ-02 shift that AMap tiles need.

``CARE_MAP_TILES`` (or the ``map.tiles`` setting) is one of ``osm`` (default), ``tianditu``
(needs ``CARE_TIANDITU_KEY``), ``amap`` (GCJ-02: points and boundaries are shifted for display,
stored unchanged), a URL template containing ``{z}``, or ``none`` (no request leaves the server).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from care.domain.errors import ValidationError

TILES_ENV = "CARE_MAP_TILES"
TIANDITU_KEY_ENV = "CARE_TIANDITU_KEY"
TILES_SETTING = "map.tiles"
MAX_ZOOM = 18
_PLACEHOLDER = re.compile(r"\{[sxyzr]\}")
_TIANDITU_KEY = re.compile(r"[0-9A-Za-z]{1,64}")

OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTR = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
TIANDITU_URL = "https://t{s}.tianditu.gov.cn/DataServer?T={layer}&x={x}&y={y}&l={z}&tk={key}"
TIANDITU_ATTR = "&copy; 天地图 Tianditu"
AMAP_URL = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
AMAP_ATTR = "&copy; 高德地图 AMap"


@dataclass(frozen=True)
class TileLayerSpec:
    """One tile layer: URL template, attribution, subdomains; an overlay sits on the base layer."""

    url: str
    attribution: str
    subdomains: str = "abc"
    overlay: bool = False


@dataclass(frozen=True)
class TileSource:
    """What the map draws under the data: its layers, and whether points need the GCJ-02 shift."""

    kind: str
    layers: tuple[TileLayerSpec, ...] = ()
    gcj02: bool = False
    problem: str | None = None
    max_zoom: int = MAX_ZOOM
    notes: tuple[str, ...] = field(default_factory=tuple)


def parse_tiles(value: str | None, tianditu_key: str | None = None) -> TileSource:
    """The tile source a configuration value names (unknown or incomplete values: no tiles, with a problem)."""
    raw = (value or "").strip()
    choice = raw.lower() or "osm"
    if choice == "none":
        return TileSource("none")
    if choice == "osm":
        return TileSource("osm", (TileLayerSpec(OSM_URL, OSM_ATTR, "abc"),))
    if choice == "tianditu":
        key = (tianditu_key or "").strip()
        if not key:
            return TileSource("none", problem="tianditu_key_missing")
        if not _TIANDITU_KEY.fullmatch(key):
            return TileSource("none", problem="tiles_unknown")
        layers = tuple(
            TileLayerSpec(
                TIANDITU_URL.format(layer=layer, key=key, s="{s}", x="{x}", y="{y}", z="{z}"),
                TIANDITU_ATTR,
                "01234567",
                overlay=overlay,
            )
            for layer, overlay in (("vec_w", False), ("cva_w", True))
        )
        return TileSource("tianditu", layers)
    if choice == "amap":
        return TileSource("amap", (TileLayerSpec(AMAP_URL, AMAP_ATTR, "1234"),), gcj02=True)
    if "{z}" in raw and raw.lower().startswith(("http://", "https://", "/")) and _plain_url(raw):
        return TileSource("custom", (TileLayerSpec(raw, "", "abc"),))
    return TileSource("none", problem="tiles_unknown")


def _plain_url(url: str) -> bool:
    """A tile URL template whose only braces are Leaflet's placeholders, and nothing that ends a string.

    The URL goes into the map page's script: a brace pair of any other kind could start a template
    expression, a quote or angle bracket could end the string or the script.
    """
    rest = _PLACEHOLDER.sub("", url)
    return not any(ch in rest for ch in "{}\"'<>`\\ ") and all(ch.isprintable() for ch in rest)


def usable_tiles(value: str, tianditu_key: str | None) -> TileSource:
    """The tile source ``value`` names, refused (ValidationError) when it names no usable basemap."""
    tiles = parse_tiles(value, tianditu_key)
    if tiles.problem is not None or (tiles.kind == "none" and value.strip().lower() != "none"):
        raise ValidationError(f"map.tiles.{tiles.problem or 'tiles_unknown'}", field="tiles")
    return tiles


def tiles_origin(setting: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """Where the tile choice in force comes from: 'setting', 'env', or 'default' (nothing configured: OSM)."""
    env = os.environ if env is None else env
    if setting and setting.strip():
        return "setting"
    return "env" if (env.get(TILES_ENV) or "").strip() else "default"


def tile_hosts(tiles: TileSource) -> tuple[str, ...]:
    """The servers a browser must reach for the basemap ('*' for a numbered subdomain); empty: none or this server."""
    hosts: list[str] = []
    for spec in tiles.layers:
        host = urlsplit(spec.url).netloc.replace("{s}", "*")
        if host and host not in hosts:
            hosts.append(host)
    return tuple(hosts)


def configured_tiles(setting: str | None = None, env: Mapping[str, str] | None = None) -> TileSource:
    """The tile source in force: the ``map.tiles`` setting when present, else ``CARE_MAP_TILES``, else OSM."""
    env = os.environ if env is None else env
    value = setting if setting and setting.strip() else env.get(TILES_ENV)
    return parse_tiles(value, env.get(TIANDITU_KEY_ENV))


# --- WGS-84 -> GCJ-02 ------------------------------------------------------------------------
# The published "Krasovsky 1940" obfuscation, as in eviltransform (googollee) and coordtransform
# (wandergis); tests/unit/test_tiles.py checks it against their published point pairs.

_A = 6378245.0
_EE = 0.00669342162296594323


def out_of_china(lat: float, lon: float) -> bool:
    """Outside the rough box where GCJ-02 applies (points there are not shifted)."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _delta(lat: float, lon: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlat, dlon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """A WGS-84 point as AMap (GCJ-02) tiles place it; unchanged outside China."""
    if out_of_china(lat, lon):
        return lat, lon
    dlat, dlon = _delta(lat, lon)
    return lat + dlat, lon + dlon

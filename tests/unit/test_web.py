"""The security headers' values: the policy per kind of document, tile origins, the portal setting."""

from __future__ import annotations

import pytest

from care import web
from care.domain.tiles import parse_tiles


def _directives(headers: tuple[tuple[bytes, bytes], ...]) -> dict[str, str]:
    csp = dict(headers)[b"content-security-policy"].decode()
    return dict(part.strip().split(" ", 1) for part in csp.split(";"))


@pytest.mark.parametrize(
    ("choice", "key", "origins"),
    [
        ("osm", None, ["https://tile.openstreetmap.org"]),
        ("tianditu", "abc123", ["https://*.tianditu.gov.cn"]),
        ("amap", None, ["https://*.is.autonavi.com"]),
        ("https://tiles.county.gov.cn/{z}/{x}/{y}.png", None, ["https://tiles.county.gov.cn"]),
        ("https://{s}.tiles.example.cn:8443/{z}/{x}/{y}.png", None, ["https://*.tiles.example.cn:8443"]),
        ("/app/static/tiles/{z}/{x}/{y}.png", None, []),
        ("none", None, []),
    ],
)
def test_the_image_sources_are_the_configured_tile_hosts_only(choice, key, origins):
    assert web.tile_origins(parse_tiles(choice, key)) == origins


def test_top_documents_may_not_be_framed_and_the_apps_own_frames_only_by_the_app(monkeypatch):
    monkeypatch.delenv(web.FRAME_ANCESTORS_ENV, raising=False)
    policy = web.build_policy(["https://tile.openstreetmap.org"], {"/component/map/": ["'sha256-abc='"]})
    top, framed, scripted = (
        policy.for_path("/map"),
        policy.for_path("/component/other/index.html"),
        policy.for_path("/component/map/index.html"),
    )
    assert _directives(top)["frame-ancestors"] == "'none'" and dict(top)[b"x-frame-options"] == b"DENY"
    assert _directives(framed)["frame-ancestors"] == "'self'" and dict(framed)[b"x-frame-options"] == b"SAMEORIGIN"
    assert "'sha256-abc='" in _directives(scripted)["script-src"].split()
    assert "'sha256-abc='" not in _directives(top)["script-src"] + _directives(framed)["script-src"]
    for headers in (top, framed, scripted):
        d = _directives(headers)
        assert "'unsafe-inline'" not in d["script-src"] and "'unsafe-eval'" not in d["script-src"]
        assert d["connect-src"] == d["frame-src"] == d["default-src"] == "'self'"
        assert d["img-src"].endswith("https://tile.openstreetmap.org")
        assert dict(headers)[b"x-content-type-options"] == b"nosniff"
        assert dict(headers)[b"referrer-policy"] == b"no-referrer"


def test_streamlits_own_inline_flag_script_is_allowed_by_its_hash_only():
    hashes = web._inline_script_hashes(web._streamlit_index())
    assert len(hashes) == 1 and hashes[0].startswith("'sha256-")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://portal.gz.gov.cn", "'self' https://portal.gz.gov.cn"),
        ("https://a.gov.cn https://b.gov.cn:8443", "'self' https://a.gov.cn https://b.gov.cn:8443"),
        ("https://portal.gov.cn; script-src *", "'none'"),
        ("javascript:alert(1)", "'none'"),
        ("", "'none'"),
    ],
)
def test_an_intranet_portal_may_frame_the_app_when_configured_and_well_formed(monkeypatch, value, expected):
    monkeypatch.setenv(web.FRAME_ANCESTORS_ENV, value)
    top = web.build_policy([]).for_path("/")
    assert _directives(top)["frame-ancestors"] == expected
    assert (b"x-frame-options" in dict(top)) == (expected == "'none'")


def test_the_cookie_token_prefers_the_secure_name():
    assert web.cookie_token({web.COOKIE: "a", web.SECURE_COOKIE: "b"}) == "b"
    assert web.cookie_token({web.COOKIE: "a"}) == "a"
    assert web.cookie_token({"other": "x"}) is None

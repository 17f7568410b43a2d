"""A person's location by a click on the map, starting from a village centre (outside the person form)."""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
import streamlit as st

import ui
from care.domain.tiles import configured_tiles
from care.files.maps import map_data_json, pick_map, unshift
from care.queries import map as mapq
from care.scope import Scope

PICK_HEIGHT = 360
_NOTHING = object()


def pending_key(prefix: str) -> str:
    """Where a click keeps the place for the form's latitude/longitude boxes until the next run."""
    return f"{prefix}_pending_place"


def apply_pending(prefix: str) -> None:
    """Before the form's boxes are drawn: put a place clicked on the map (or a cleared one) into them."""
    place = st.session_state.pop(pending_key(prefix), _NOTHING)
    if place is _NOTHING:
        return
    lat, lon = place if place is not None else (None, None)
    st.session_state[f"{prefix}_lat"] = lat
    st.session_state[f"{prefix}_lon"] = lon


def _chosen(prefix: str, current: tuple[float | None, float | None]) -> tuple[float, float] | None:
    lat = st.session_state.get(f"{prefix}_lat", current[0])
    lon = st.session_state.get(f"{prefix}_lon", current[1])
    return (float(lat), float(lon)) if lat is not None and lon is not None else None


def location_picker(
    scope: Scope,
    prefix: str,
    villages: pd.DataFrame,
    village_code: str | None,
    current: tuple[float | None, float | None] = (None, None),
) -> None:
    """Choose a village to start from, click the map: the click fills the form's latitude and longitude.

    The form is the one ``forms.person_fields(prefix, …)`` draws; nothing is saved until it is.
    """
    chosen = _chosen(prefix, current)
    used = f"{prefix}_loc_used"
    with st.expander(ui.t("location.title"), expanded=chosen is None or bool(st.session_state.get(used))):
        names = dict(zip(villages["code"], villages["name"], strict=True))
        codes = list(villages["code"])
        start = st.selectbox(
            ui.t("location.start_village"),
            codes,
            index=codes.index(village_code) if village_code in codes else None,
            format_func=lambda c: names.get(c, c),
            placeholder=ui.t("form.choose_optional"),
            key=f"{prefix}_loc_village",
        )
        with ui.read() as session:
            start_place = mapq.place_start(session, scope, start)
            tiles = configured_tiles(mapq.tiles_setting(session, start or scope.area_code))
        if start and start_place.centre is None:
            st.info(ui.t("location.no_centre", village=ui.md(names.get(start, start))))
        m = pick_map(
            tiles=tiles,
            lang=ui.lang(),
            shapes=[start_place.shape] if start_place.shape else [],
            centre=start_place.centre,
            chosen=chosen,
            fallback_bounds=_around(start_place.nearby),
            height=PICK_HEIGHT,
        )
        clicked = _show(m, prefix)
        if clicked is not None:
            st.session_state[pending_key(prefix)] = unshift(*clicked, tiles)
            st.session_state[used] = True
            st.rerun()
        if chosen is None:
            st.caption(ui.t("location.none_yet"))
            return
        st.caption(ui.t("location.chosen", lat=f"{chosen[0]:.6f}", lon=f"{chosen[1]:.6f}"))
        if st.button(ui.t("location.clear"), key=f"{prefix}_loc_clear"):
            st.session_state[pending_key(prefix)] = None
            st.rerun()


def _around(point: tuple[float, float] | None) -> list[list[float]] | None:
    """A township-sized frame around the nearest known centre, when the village has none."""
    if point is None:
        return None
    span = 0.08
    return [[point[0] - span, point[1] - span], [point[0] + span, point[1] + span]]


def _show(m: Any, prefix: str) -> tuple[float, float] | None:
    """Draw the picker; a new click's (lat, lon) as shown on the map, else None (also under AppTest)."""
    # Imported in a session only: the package declares its component on import (ui/map_view.py, _streamlit_folium).
    from streamlit_folium import st_folium

    key = f"{prefix}_pick_" + hashlib.sha256(map_data_json(m).encode("utf-8")).hexdigest()[:16]
    got = st_folium(m, key=key, height=PICK_HEIGHT, use_container_width=True, returned_objects=["last_clicked"])
    click = got.get("last_clicked") if isinstance(got, dict) else None
    if not isinstance(click, dict) or "lat" not in click or "lng" not in click:
        return None
    seen = f"{prefix}_pick_seen"
    point = (round(float(click["lat"]), 6), round(float(click["lng"]), 6))
    if st.session_state.get(seen) == (key, point):
        return None
    st.session_state[seen] = (key, point)
    return point

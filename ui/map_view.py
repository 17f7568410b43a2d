"""The map page's Streamlit side: cached scoped reads, the st_folium adapter, the side panels."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import hashlib
import importlib
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import folium
import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

import ui
from care.domain import areas
from care.domain.map_data import AreaShape, PersonDot, VillageDot
from care.domain.tiles import TileSource, configured_tiles
from care.files.maps import HOME_MARK, build_map, map_data_json, standalone_html
from care.queries import map as mapq
from care.queries.households import household_card
from care.queries.registers import area_name
from care.scope import Scope
from care.services.maps import record_map_export

PICK_KEY = "map_pick"
SEEN_KEY = "map_seen_click"
PENDING_KEY = "map_pending_area"
MAP_HEIGHT = 620
CACHE_SECONDS = 60
_PERSON_CLICK = re.compile(r"#(\d{1,12})\s*$")
_HOME_CLICK = re.compile(re.escape(HOME_MARK) + r"(\d{1,12})\s*$")
_VILLAGE_CLICK = re.compile(r"(\d{12})\s*$")
# What the map component's frame appends to the map's script before it runs it (return_on_hover off).
FRAME_SCRIPT_TAIL = "window.map = map_div; window.initComponent(map_div, false);"


@dataclass(frozen=True)
class MapData:
    """Everything one map view needs, read once per scope, filters and day (then cached)."""

    mode: str
    shown: AreaShape | None
    shapes: list[AreaShape]
    villages: list[VillageDot] = field(default_factory=list)
    persons: list[PersonDot] = field(default_factory=list)
    missing: int = 0
    tiles: TileSource = field(default_factory=lambda: TileSource("none"))
    unplaced: list[mapq.UnplacedVillage] = field(default_factory=list)
    # None: neither the areas nor the persons in view have a place (the map shows the world).
    bounds: list[list[float]] | None = None

    @property
    def counts(self) -> tuple[int, int]:
        """Persons in view (located or not, in placed villages or not) and how many of them are overdue."""
        if self.mode == "villages":
            return mapq.VillageView(self.villages, self.unplaced).counts
        located = {p.person_id for p in self.persons}
        late = {p.person_id for p in self.persons if p.state == "overdue"}
        return len(located) + self.missing, len(late)


# Cached across users: the scope, filters and day are real (hashed) arguments of the key.
@st.cache_data(ttl=CACHE_SECONDS, max_entries=64, show_spinner=False)
def map_data(scope: Scope, flt: mapq.MapFilter, today: dt.date) -> MapData:
    """The scoped reads behind one map view."""
    with ui.read() as session:
        shown, shapes = mapq.area_shapes(session, scope, flt.area_code)
        tiles = configured_tiles(mapq.tiles_setting(session, flt.area_code or scope.area_code))
        if shown is None:
            return MapData("persons", None, [], tiles=tiles)
        anchor = mapq.area_anchor(session, shown.code)
        if shown.level in mapq.CIRCLE_PREFIX and not scope.assigned_only:
            view = mapq.village_view(session, scope, flt, today, size=mapq.CIRCLE_PREFIX[shown.level])
            points = [(v.lat, v.lon) for v in view.villages]
            bounds = mapq.shapes_bounds(shapes, points, anchor)
            return MapData("villages", shown, shapes, view.villages, tiles=tiles, unplaced=view.unplaced, bounds=bounds)
        persons = mapq.person_points(session, scope, flt, today)
        missing = mapq.persons_without_location_count(session, scope, flt, today)
        bounds = mapq.shapes_bounds(shapes, [(p.lat, p.lon) for p in persons], anchor)
        return MapData("persons", shown, shapes, persons=persons, missing=missing, tiles=tiles, bounds=bounds)


@st.cache_data(ttl=CACHE_SECONDS, max_entries=64, show_spinner=False)
def listed(scope: Scope, flt: mapq.MapFilter, today: dt.date, missing_location: bool) -> tuple[pd.DataFrame, int]:
    """The side list: persons of a village, or those without a location."""
    with ui.read() as session:
        return mapq.person_list(session, scope, flt, today, missing_location=missing_location)


def make_map(data: MapData, color_by: str, groups: tuple[str, ...]) -> folium.Map:
    """The folium map of a view (rebuilt cheaply; its HTML is identical for identical inputs)."""
    return build_map(
        tiles=data.tiles,
        lang=ui.lang(),
        bounds=data.bounds,
        villages=data.villages,
        persons=data.persons,
        shapes=data.shapes,
        color_by=color_by,
        groups=groups or mapq.MapFilter().groups or ("child", "elderly", "disabled"),
        height=MAP_HEIGHT,
        mode=data.mode,
    )


def map_key(m: folium.Map) -> str:
    """The map component's key: one frame per distinct data document, kept while the data stays the same.

    The map's script is the same for every map, so the component's own key (a hash of that
    script) would keep one frame, showing the first map, whatever the data became.
    """
    return "care_map_" + hashlib.sha256(map_data_json(m).encode("utf-8")).hexdigest()[:24]


def show_map(m: folium.Map) -> str | None:
    """Draw the map; the tooltip text of the last clicked dot (None before a click, and under AppTest)."""
    # Imported in a session only: the package declares its component on import (see _streamlit_folium).
    from streamlit_folium import st_folium

    # Only the click comes back: panning and zooming never rerun the script.
    got = st_folium(
        m,
        key=map_key(m),
        height=MAP_HEIGHT,
        use_container_width=True,
        returned_objects=["last_object_clicked_tooltip"],
    )
    value = got.get("last_object_clicked_tooltip") if isinstance(got, dict) else None
    return str(value) if value else None


def frame_script(m: folium.Map) -> str:
    """The exact text the map component's frame runs as its inline script for ``m``.

    The same steps as ``st_folium``: render the page, render the map, then its script, to which
    the frame appends the call that hands the map to the component.
    """
    with _streamlit_folium() as component:
        m.get_root().render()
        # folium's Map.render carries no annotations (folium 0.20).
        m.render()  # type: ignore[no-untyped-call, unused-ignore]
        script: str = component._get_map_string(m)
    return script + FRAME_SCRIPT_TAIL


@contextlib.contextmanager
def _streamlit_folium() -> Iterator[ModuleType]:
    """streamlit_folium, for its functions, without leaving it imported outside a session.

    The package declares its component when first imported, and Streamlit serves a component only
    if it was declared inside a session: imported at launch (to hash the map script for the
    security headers) and kept, the map component would answer 404 in every session.
    """
    imported = "streamlit_folium" in sys.modules
    module = importlib.import_module("streamlit_folium")
    try:
        yield module
    finally:
        if not imported and get_script_run_ctx(suppress_warning=True) is None:
            sys.modules.pop("streamlit_folium", None)


@functools.lru_cache(maxsize=1)
def frame_script_hashes() -> list[str]:
    """CSP source expressions of the map frame's inline script, for every kind of map the app draws.

    Computed from real maps (a township's persons, a county's villages): the map script is the
    same text for all of them, so this is one hash.
    """
    shape = AreaShape("000000000000", "-", "township", 26.4, 108.2, None)
    person = PersonDot(1, "-", "child", 26.4, 108.2, "never", "low")
    village = VillageDot("000000000001", "-", "-", 26.4, 108.2, 1, 0, {"child": 1})
    maps = [
        build_map(tiles=TileSource("none"), shapes=[shape], persons=[person], height=MAP_HEIGHT),
        build_map(tiles=TileSource("none"), shapes=[shape], villages=[village], height=MAP_HEIGHT),
    ]
    hashes: list[str] = []
    for m in maps:
        digest = hashlib.sha256(frame_script(m).encode("utf-8")).digest()
        source = f"'sha256-{base64.b64encode(digest).decode('ascii')}'"
        if source not in hashes:
            hashes.append(source)
    return hashes


def take_click(tooltip: str | None) -> None:
    """Turn a new click into the side panel's pick: ('person', id) or ('village', code)."""
    if not tooltip or tooltip == st.session_state.get(SEEN_KEY):
        return
    st.session_state[SEEN_KEY] = tooltip
    home = _HOME_CLICK.search(tooltip)
    person = _PERSON_CLICK.search(tooltip)
    village = _VILLAGE_CLICK.search(tooltip)
    if home:
        st.session_state[PICK_KEY] = ("household", int(home.group(1)))
    elif person:
        st.session_state[PICK_KEY] = ("person", int(person.group(1)))
    elif village:
        st.session_state[PICK_KEY] = ("village", village.group(1))


def person_panel(scope: Scope, person_id: int) -> None:
    """The clicked person's summary with a button to the person file."""
    with ui.read() as session:
        found = mapq.person_summary(session, scope, person_id, ui.today())
    if found is None:
        st.info(ui.t("map.not_found"))
        return
    st.subheader(ui.md(found.name))
    st.caption(ui.md(f"{found.township} {found.village}"))
    st.text(f"{ui.t('map.summary.id')}：{found.id_masked}")
    st.text(f"{ui.t('map.summary.place')}：{found.address}")
    if not found.has_location:
        st.warning(ui.t("map.summary.no_location"))
    rows = [
        {
            ui.t("map.summary.group"): ui.label("group", e["group"]),
            ui.t("column.risk"): ui.label("risk", e["risk"]),
            ui.t("map.col.state"): ui.t(f"map.state.{e['state']}"),
            ui.t("map.summary.last_visit"): e["last_visit_on"] or ui.t("map.summary.never"),
            ui.t("map.summary.next_due"): e["next_due_on"],
            ui.t("map.summary.worker"): e["worker"] or ui.t("map.summary.nobody"),
        }
        for e in found.enrollments
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    if st.button(ui.t("map.open_file"), type="primary", icon=":material/badge:", key=f"map_open_{found.id}"):
        ui.open_person(found.id)


def household_panel(scope: Scope, person_id: int) -> None:
    """A household marker's members (those the user may see): relation, groups, risk, worker, last visit."""
    with ui.read() as session:
        card = household_card(session, scope, person_id, ui.today())
    if card is None or not card.members:
        st.info(ui.t("map.not_found"))
        return
    st.subheader(ui.t("map.home.panel", village=ui.md(card.village)))
    st.text(f"{ui.t('household.hukou')}：{card.hukou_no or ui.t('household.no_hukou')}")
    st.text(f"{ui.t('household.address')}：{card.address or '—'}")
    for flag in card.flags:
        st.warning(ui.t(flag), icon=":material/family_restroom:")
    st.caption(ui.t("map.home.members", n=len(card.members)))
    members = list(card.members)
    view = pd.DataFrame(
        {
            ui.t("household.col_name"): [m.name for m in members],
            ui.t("household.col_relation"): [ui.label("relation", m.relation) for m in members],
            ui.t("household.col_age"): [f"{ui.label('sex', m.sex)} {m.age}" for m in members],
            ui.t("household.col_groups"): ["、".join(ui.label("group", g) for g in m.groups) or "—" for m in members],
            ui.t("household.col_risk"): [ui.label("risk", m.risk) or "—" for m in members],
            ui.t("household.col_worker"): ["、".join(m.workers) or "—" for m in members],
            ui.t("household.col_last_visit"): [str(m.last_visit_on or "—") for m in members],
        }
    )
    key = f"map_home_{card.id}"
    picked = st.dataframe(view, hide_index=True, on_select="rerun", selection_mode="single-row", key=key)
    if card.hidden_members:
        st.caption(ui.t("household.hidden", n=card.hidden_members))
    chosen = picked.selection.rows if picked else []
    if st.button(ui.t("map.open_file"), disabled=not chosen, icon=":material/badge:", key=f"{key}_open"):
        ui.open_person(members[chosen[0]].person_id)
    if not chosen:
        st.caption(ui.t("map.pick_row"))


def person_table(rows: pd.DataFrame, key: str) -> None:
    """A list of persons with single-row selection and the open-file button."""
    view = pd.DataFrame(
        {
            ui.t("column.name"): rows["name"],
            ui.t("column.id_number"): rows["id_masked"],
            ui.t("column.village"): rows["village"],
            ui.t("column.groups"): rows["groups"].map(lambda gs: "、".join(ui.label("group", g) for g in gs)),
            ui.t("column.risk"): rows["risk"].map(lambda r: ui.label("risk", r)),
            ui.t("map.col.state"): rows["state"].map(lambda s: ui.t(f"map.state.{s}") if s else ""),
            ui.t("map.col.worker"): rows["worker"],
        }
    )
    picked = st.dataframe(view, hide_index=True, on_select="rerun", selection_mode="single-row", key=key)
    chosen = picked.selection.rows if picked else []
    if st.button(ui.t("map.open_file"), disabled=not chosen, icon=":material/badge:", key=f"{key}_open"):
        ui.open_person(int(rows.iloc[chosen[0]]["person_id"]))
    if not chosen:
        st.caption(ui.t("map.pick_row"))


def village_panel(scope: Scope, flt: mapq.MapFilter, code: str, mode: str) -> None:
    """The clicked village's persons (in scope, under the same filters)."""
    if not scope.covers(code):
        st.info(ui.t("map.not_found"))
        return
    village_flt = mapq.MapFilter(code, flt.groups, flt.risk, flt.state, flt.worker_id, flt.unassigned)
    rows, total = listed(scope, village_flt, ui.today(), False)
    with ui.read() as session:
        name = area_name(session, code) or code
    st.subheader(ui.t("map.village_list", village=ui.md(name), total=total))
    label = ui.t("map.show_village") if areas.level_of(code) == "village" else ui.t("map.show_area")
    if mode == "villages" and st.button(label, icon=":material/zoom_in:"):
        st.session_state[PENDING_KEY] = code
        st.rerun(scope="app")
    if len(rows) < total:
        st.caption(ui.t("map.list_capped", shown=len(rows), total=total))
    person_table(rows, key=f"map_village_{code}")


def placement_notes(data: MapData) -> None:
    """Which village circles stand at an estimated place, which villages have none, and a map with no place at all."""
    if data.bounds is None and data.shown is not None:
        st.caption(ui.t("map.bounds.none"))
    if data.mode != "villages":
        return
    view = mapq.VillageView(data.villages, data.unplaced)
    parts = [
        ui.t(f"map.placement.{how}", n=view.placed_by(how)) for how in ("persons", "township") if view.placed_by(how)
    ]
    if parts:
        st.caption(" · ".join(parts))
    if not data.unplaced:
        return
    persons = sum(u.persons for u in data.unplaced)
    with st.expander(
        ui.t("map.placement.unplaced", n=len(data.unplaced), persons=persons), icon=":material/location_off:"
    ):
        rows = pd.DataFrame(
            {
                ui.t("column.village"): [u.name for u in data.unplaced],
                ui.t("column.township"): [u.township for u in data.unplaced],
                ui.t("map.col.persons"): [u.persons for u in data.unplaced],
                ui.t("map.col.overdue"): [u.overdue for u in data.unplaced],
            }
        )
        st.dataframe(rows, hide_index=True, width="stretch")


def missing_panel(scope: Scope, flt: mapq.MapFilter, missing: int) -> None:
    """'N 人未标注位置' with the list of those persons."""
    if not missing:
        st.caption(ui.t("map.missing_none"))
        return
    with st.expander(ui.t("map.missing", n=missing), icon=":material/location_off:"):
        rows, total = listed(scope, flt, ui.today(), True)
        if len(rows) < total:
            st.caption(ui.t("map.list_capped", shown=len(rows), total=total))
        person_table(rows, key="map_missing")


def export_file(scope: Scope, flt: mapq.MapFilter, data: MapData, groups: tuple[str, ...]) -> bytes:
    """The standalone HTML of the current view, built only when the user downloads it (audited)."""
    m = make_map(data, "status", groups)
    page = standalone_html(m).encode("utf-8")
    with ui.write(changes_data=False) as session:
        record_map_export(
            session,
            scope,
            area_code=data.shown.code if data.shown else "",
            detail={"groups": list(groups), "risk": flt.risk, "state": flt.state, "bytes": len(page)},
        )
    return page


FILTER_KEY = "map_filter_seen"


def forget_pick_on_change(flt: mapq.MapFilter) -> None:
    """A new filter clears the side panel: the person or village shown may no longer be on the map.

    A village chosen in the filter itself (e.g. "show this village on the map") stays shown.
    """
    seen = st.session_state.get(FILTER_KEY)
    st.session_state[FILTER_KEY] = flt
    if seen is None or seen == flt:
        return
    picked = pick()
    if picked is not None and not (picked[0] == "village" and picked[1] == flt.area_code):
        st.session_state.pop(PICK_KEY, None)


def pick() -> tuple[str, Any] | None:
    """What the side panel shows: ('person', id), ('village', code) or None."""
    value = st.session_state.get(PICK_KEY)
    return value if isinstance(value, tuple) else None

"""总览地图 Map: who is where, who is overdue; village aggregates for a county, persons below."""

from __future__ import annotations

import streamlit as st

import ui
from care.domain import enums
from care.domain.map_data import VISIT_STATES
from care.files.maps import circle_level
from care.queries.map import MapFilter, worker_options
from care.queries.registers import area_options
from ui import map_view

scope = ui.require_page("map")
st.title(ui.t("map.title"))

with ui.read() as session:
    areas = area_options(session, scope)
    workers = worker_options(session, scope)

names = dict(zip(areas["code"], areas["name"], strict=True))
parents = dict(zip(areas["code"], areas["parent_code"], strict=True))
pending = st.session_state.pop(map_view.PENDING_KEY, None)
levels = dict(zip(areas["code"], areas["level"], strict=True))
if pending in names:  # "show this village (township, county) on the map" from the side panel
    if levels[pending] == "county":
        st.session_state["map_county"], st.session_state["map_township"] = pending, None
        st.session_state["map_village"] = None
    elif levels[pending] == "township":
        st.session_state["map_county"] = parents.get(pending)
        st.session_state["map_township"], st.session_state["map_village"] = pending, None
    else:
        st.session_state["map_township"] = parents.get(pending)
        st.session_state["map_village"] = pending

# On a phone only the area choice stays out; the other filters fold into one expander so the
# map is on the first screen. On a wider screen they sit in two rows, each select wide enough
# to show its choice whole.
phone = ui.is_phone()
area_row = st.columns(ui.picker_columns(areas))
township, village = ui.area_picker(areas, "map", area_row)
more = st.expander(ui.t("map.more_filters"), expanded=False) if phone else st.container()
with more:
    top = st.columns([3, 2]) if not phone else [st.container(), st.container()]
    groups = top[0].pills(
        ui.t("map.groups"),
        enums.GROUPS,
        selection_mode="multi",
        default=list(enums.GROUPS),
        key="map_groups",
        format_func=lambda g: ui.label("group", g),
    )
    with top[1]:
        color_by = (
            st.segmented_control(
                ui.t("map.color_by"),
                ["status", "risk"],
                default="status",
                key="map_color_by",
                format_func=lambda c: ui.t(f"map.color.{c}"),
            )
            or "status"
        )
    row = st.columns([2, 2, 3]) if not phone else [st.container(), st.container(), st.container()]
    risk = row[0].selectbox(ui.t("map.risk"), [None, *enums.RISKS], key="map_risk", format_func=ui.labeller("risk"))
    state = row[1].selectbox(
        ui.t("map.state"),
        [None, *VISIT_STATES],
        key="map_state",
        format_func=lambda s: ui.t(f"map.state.{s}") if s else ui.t("map.all"),
    )
    worker_names = dict(zip(workers["id"], workers["name"] + "（" + workers["area"] + "）", strict=True))
    worker = row[2].selectbox(
        ui.t("map.worker"),
        [None, "none", *workers["id"]],
        key="map_worker",
        format_func=lambda w: (
            ui.t("map.all") if w is None else ui.t("map.worker_none") if w == "none" else worker_names.get(w, "")
        ),
    )

chosen_groups = tuple(g for g in enums.GROUPS if g in (groups or []))
flt = MapFilter(
    area_code=village or township,
    groups=chosen_groups or enums.GROUPS,
    risk=risk,
    state=state,
    worker_id=int(worker) if worker not in (None, "none") else None,
    unassigned=worker == "none",
)
map_view.forget_pick_on_change(flt)


@st.fragment
def map_and_panel() -> None:
    """The map and what a click on it shows; a click reruns only this part."""
    data = map_view.map_data(scope, flt, ui.today())
    if data.tiles.problem:
        st.warning(ui.t(f"map.tiles.{data.tiles.problem}"))
    persons, overdue = data.counts
    st.caption(
        ui.t("map.counts", persons=f"{persons:,}", overdue=f"{overdue:,}", day=ui.today().isoformat())
        + " · "
        + ui.t(f"map.mode.{data.mode}" if data.mode == "persons" else f"map.mode.{circle_level(data.villages)}")
    )
    map_view.placement_notes(data)
    left, right = st.columns([3, 2])
    with left:
        clicked = map_view.show_map(map_view.make_map(data, color_by, chosen_groups or enums.GROUPS))
        if data.mode == "persons":
            map_view.missing_panel(scope, flt, data.missing)
        st.download_button(
            ui.t("map.download"),
            data=lambda: map_view.export_file(scope, flt, data, chosen_groups or enums.GROUPS),
            file_name=f"caremap-{data.shown.code if data.shown else 'map'}.html",
            mime="text/html",
            on_click="ignore",
            icon=":material/download:",
        )
    map_view.take_click(clicked)
    with right:
        picked = map_view.pick()
        if picked is None:
            st.info(ui.t("map.pick_hint"))
        elif picked[0] == "person":
            map_view.person_panel(scope, picked[1])
        elif picked[0] == "household":
            map_view.household_panel(scope, picked[1])
        else:
            map_view.village_panel(scope, flt, picked[1], data.mode)


map_and_panel()

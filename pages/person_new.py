"""New person: identity first; the file then opens to enroll them in a group."""

from __future__ import annotations

import streamlit as st

import ui
from care import services
from care.domain.errors import CareError
from care.queries.registers import area_options
from care.services.persons import EDITABLE_BY_ROLE
from ui import forms, location_picker

scope = ui.require_page("person_new")
st.title(ui.t("nav.person_new"))

with ui.read() as session:
    villages = area_options(session, scope)
villages = ui.village_choices(villages)

with st.form("new_person"):
    values = forms.person_fields("new", {}, villages, EDITABLE_BY_ROLE.get(scope.role, ()))
    submitted = st.form_submit_button(ui.t("form.create"), type="primary")
location_picker.location_picker(scope, "new", villages, st.session_state.get("new_village"))

if submitted:
    try:
        with ui.write() as session:
            saved = services.create_person(session, scope, values=values)
    except CareError as error:
        ui.show_error(error)
    else:
        note = "".join(" " + ui.message(k, p) for k, p in saved.warnings)
        forms.flash("warning" if saved.warnings else "success", ui.t("form.created", name=ui.md(values["name"])) + note)
        ui.open_person(saved.id)

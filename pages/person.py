"""Person file (一人一档): identity, enrollments, risk and why, workers, visits, needs; and the edits."""

from __future__ import annotations

import streamlit as st

import ui
from care import services
from care.domain.errors import CareError
from care.queries.households import guardian_choices, household_card
from care.queries.person_file import full_id_number, person_file
from care.queries.registers import area_options
from ui import forms, plan_view
from ui import household_card as household_view
from ui import person_file as view
from ui.person_actions import actions

scope = ui.require_page("person")
if st.button(ui.t("person_file.back"), icon=":material/arrow_back:"):
    st.switch_page("pages/registers.py")
ref = st.query_params.get("ref")
if not ref:
    st.title(ui.t("person_file.title"))
    st.info(ui.t("person_file.none_selected"))
    st.stop()

pf = None
try:
    # Unknown, mistyped or outside the scope: one answer, and the attempt is audited as denied.
    with ui.write(changes_data=False) as session:
        person_id = services.person_for_ref(session, scope, ref=ref)
    with ui.read() as session:
        pf = person_file(session, scope, person_id, ui.today())
        household = household_card(session, scope, person_id, ui.today())
        guardians = guardian_choices(session, scope, person_id, ui.today())
        villages = area_options(session, scope)
except CareError:
    pass
if pf is None:
    st.title(ui.t("person_file.title"))
    st.error(ui.t("error.not_found"))
    st.stop()
if st.session_state.get("viewed_person") != person_id:
    with ui.write(changes_data=False) as session:
        services.record_person_view(session, scope, person_id=person_id)
    st.session_state["viewed_person"] = person_id

st.title(f"{ui.t('person_file.title')} · {ui.md(pf.name)}")
forms.show_flash()
if pf.deleted:
    st.warning(ui.t("person_file.deleted_banner"), icon=":material/delete:")

full_id = None
if scope.can("person.view_full_id") and st.toggle(ui.t("person_file.show_full_id"), key=f"full_id_{person_id}"):
    try:
        with ui.write(changes_data=False) as session:
            services.record_person_view(session, scope, person_id=person_id, full_id=True)
            full_id = full_id_number(session, scope, person_id)
        st.caption(ui.t("person_file.full_id_logged"))
    except CareError as error:
        ui.show_error(error)

view.identity(pf, full_id)
st.subheader(ui.t("person_file.enrollments"))
if not pf.enrollments:
    st.caption(ui.t("person_file.no_enrollments"))
for enrollment in pf.enrollments:
    view.enrollment(enrollment, ui.today(), full_ids=full_id is not None)
household_view.card(scope, household)
view.timeline(scope, person_id)
view.visits(pf)
view.needs(pf)
if not pf.deleted:
    plan_view.section(scope, person_id)
view.assignments(pf)
with forms.person_context(guardians=guardians, full_ids=full_id is not None):
    actions(scope, pf, ui.village_choices(villages))
if not pf.deleted:
    household_view.manage(scope, household)

"""The edits a role may make from a person file, each a short form carrying the version seen."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from care import services
from care.domain import enums
from care.queries.person_file import EnrollmentView, PersonFile
from care.scope import Scope
from care.services.persons import EDITABLE_BY_ROLE
from ui import forms, location_picker
from ui.needs import raise_form as raise_need_form


def actions(scope: Scope, pf: PersonFile, villages: pd.DataFrame) -> None:
    """Tabs with the actions this user's role allows on this person."""
    active = [e for e in pf.enrollments if e.end_date is None]
    tabs: list[tuple[str, object]] = []
    if pf.deleted:
        if scope.can("person.restore"):
            tabs.append(("person_file.restore", lambda: _restore(scope, pf)))
    else:
        if scope.can("person.edit"):
            tabs.append(("person_file.edit", lambda: _edit_person(scope, pf, villages)))
        if scope.can("enrollment.create") and pf.status not in ("deceased", "moved"):
            tabs.append(("person_file.enroll", lambda: _enroll(scope, pf)))
        if scope.can("enrollment.edit") and active:
            tabs.append(("person_file.edit_enrollment", lambda: _edit_enrollment(scope, active)))
        if scope.can("enrollment.exit") and active:
            tabs.append(("person_file.exit", lambda: _exit(scope, active)))
        if scope.can("need.create") and pf.status == "active":
            tabs.append(
                ("person_file.raise_need", lambda: raise_need_form(scope, pf.id, [(e.id, e.group) for e in active]))
            )
        if scope.can("person.delete"):
            tabs.append(("person_file.delete", lambda: _delete(scope, pf)))
    if not tabs:
        return
    st.subheader(ui.t("person_file.actions"))
    for tab, (_, render) in zip(st.tabs([ui.t(k) for k, _ in tabs]), tabs, strict=True):
        with tab:
            render()  # type: ignore[operator]


def _edit_person(scope: Scope, pf: PersonFile, villages: pd.DataFrame) -> None:
    key = f"person_{pf.id}"
    seen = forms.seen_version(key, pf.version)
    defaults = {
        "name": pf.name,
        # Masked: the whole number shows only through the audited toggle; a correction is typed anew.
        "id_number": pf.id_masked,
        "village_code": pf.village_code,
        "phone": pf.phone,
        "address": pf.address,
        "lat": pf.lat,
        "lon": pf.lon,
        "notes": pf.notes,
    }
    with st.form(f"edit_{key}_{seen}"):
        values = forms.person_fields(f"edit_{key}_{seen}", defaults, villages, EDITABLE_BY_ROLE.get(scope.role, ()))
        submitted = st.form_submit_button(ui.t("form.save"), type="primary")
    if "lat" in EDITABLE_BY_ROLE.get(scope.role, ()):
        location_picker.location_picker(scope, f"edit_{key}_{seen}", villages, pf.village_code, (pf.lat, pf.lon))
    if submitted:
        if values.get("id_number", "").strip() == pf.id_masked:
            values = {k: v for k, v in values.items() if k != "id_number"}

        def run() -> object:
            with ui.write() as session:
                return services.update_person(session, scope, person_id=pf.id, seen_version=seen, values=values)

        forms.save(key, run, ui.t("person_file.saved"))


def _enroll(scope: Scope, pf: PersonFile) -> None:
    taken = {e.group for e in pf.enrollments if e.end_date is None}
    free = [g for g in enums.GROUPS if g not in taken and enums.group_fits_age(g, pf.age)]
    if not free:
        return
    # The group is chosen, not guessed, unless only one fits the person.
    group = st.segmented_control(
        ui.t("form.group"),
        free,
        default=free[0] if len(free) == 1 else None,
        format_func=ui.labeller("group"),
        key=f"enroll_group_{pf.id}",
    )
    if group is None:
        st.caption(ui.t("form.choose_group"))
        return
    with st.form(f"enroll_{pf.id}_{group}"):
        subtype, facts = forms.facts_fields(group, f"enroll_{pf.id}_{group}", None, {})
        start = forms.date_input("form.start_date", f"enroll_start_{pf.id}_{group}", ui.today())
        override, reason = forms.risk_override_fields(f"enroll_{pf.id}_{group}", None, "")
        submitted = st.form_submit_button(ui.t("form.enroll_submit"), type="primary")
    if submitted:

        def run() -> object:
            with ui.write() as session:
                return services.enroll(
                    session,
                    scope,
                    person_id=pf.id,
                    group=group,
                    subtype=subtype,
                    start_date=start,
                    facts=facts,
                    risk_override=override,
                    risk_override_reason=reason,
                )

        forms.save(f"enroll_{pf.id}", run, ui.t("person_file.saved"))


def _pick(active: list[EnrollmentView], key: str) -> EnrollmentView:
    by_id = {e.id: e for e in active}
    chosen = st.selectbox(
        ui.t("form.enrollment"),
        list(by_id),
        key=key,
        format_func=lambda i: f"{ui.label('group', by_id[i].group)} · {ui.label('subtype', by_id[i].subtype)}",
        placeholder=forms.placeholder(),
    )
    return by_id[chosen]


def _edit_enrollment(scope: Scope, active: list[EnrollmentView]) -> None:
    e = _pick(active, "edit_enrollment_pick")
    key = f"enrollment_{e.id}"
    seen = forms.seen_version(key, e.version)
    if scope.can("risk.override") and e.end_date is None:
        moves = "；".join(f"{ui.label('risk', r)} {d.isoformat()}" for r, d in e.due_if_risk.items())
        st.caption(ui.t("person_file.due_if_risk", current=ui.label("risk", e.risk), moves=moves))
    with st.form(f"edit_{key}_{seen}"):
        subtype, facts = forms.facts_fields(e.group, f"edit_{key}_{seen}", e.subtype, e.facts)
        override, reason = (e.risk_override, e.risk_override_reason)
        if scope.can("risk.override"):
            override, reason = forms.risk_override_fields(f"edit_{key}_{seen}", e.risk_override, e.risk_override_reason)
        submitted = st.form_submit_button(ui.t("form.save"), type="primary")
    if submitted:

        def run() -> object:
            with ui.write() as session:
                return services.update_enrollment(
                    session,
                    scope,
                    enrollment_id=e.id,
                    seen_version=seen,
                    subtype=subtype,
                    facts=facts,
                    risk_override=override,
                    risk_override_reason=reason,
                )

        forms.save(key, run, ui.t("person_file.saved"))


def _exit(scope: Scope, active: list[EnrollmentView]) -> None:
    e = _pick(active, "exit_enrollment_pick")
    key = f"enrollment_{e.id}"
    seen = forms.seen_version(key, e.version)
    with st.form(f"exit_{key}_{seen}"):
        reason = st.selectbox(
            ui.t("form.exit_reason"),
            enums.EXIT_REASONS[e.group],
            index=None,
            format_func=ui.labeller("exit_reason"),
            placeholder=forms.placeholder(),
            key=f"exit_reason_{e.id}_{seen}",
        )
        end = forms.date_input("form.exit_date", f"exit_date_{e.id}_{seen}", ui.today())
        note = st.text_input(ui.t("form.exit_note"), max_chars=200, key=f"exit_note_{e.id}_{seen}")
        submitted = st.form_submit_button(ui.t("form.exit_submit"), type="primary")
    if submitted:

        def run() -> object:
            with ui.write() as session:
                return services.exit_enrollment(
                    session,
                    scope,
                    enrollment_id=e.id,
                    seen_version=seen,
                    reason=reason or "",
                    end_date=end,
                    note=note,
                )

        forms.save(key, run, ui.t("person_file.saved"))


def _delete(scope: Scope, pf: PersonFile) -> None:
    key = f"person_{pf.id}"
    seen = forms.seen_version(key, pf.version)
    with st.form(f"delete_{key}_{seen}"):
        reason = st.text_input(ui.t("person_file.delete_reason"), max_chars=200)
        submitted = st.form_submit_button(ui.t("person_file.delete_confirm"))
    if submitted:

        def run() -> object:
            with ui.write() as session:
                return services.soft_delete_person(session, scope, person_id=pf.id, seen_version=seen, reason=reason)

        forms.save(key, run, ui.t("person_file.deleted_done"))


def _restore(scope: Scope, pf: PersonFile) -> None:
    key = f"person_{pf.id}"
    seen = forms.seen_version(key, pf.version)
    if st.button(ui.t("person_file.restore"), type="primary", key=f"restore_{pf.id}_{seen}"):

        def run() -> object:
            with ui.write() as session:
                return services.restore_person(session, scope, person_id=pf.id, seen_version=seen)

        forms.save(key, run, ui.t("person_file.restored_done"))

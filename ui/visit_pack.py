"""The offline visit pack on 我的巡访: set a PIN and download the pack; upload its result file, resolve, import."""

from __future__ import annotations

import hashlib

import streamlit as st

import ui
from care.domain.errors import CareError, ValidationError
from care.files.visit_pack import PACK_DAYS, PIN_MAX
from care.scope import Scope
from care.services.visit_packs import (
    CONFLICT_CHOICES,
    PackCheck,
    apply_results,
    check_results,
    issue_pack,
    record_refused_upload,
)
from ui import forms

FILE_KEY = "visit_pack_file"
UPLOAD_ROUND = "visit_pack_upload_round"
REFUSED_KEY = "visit_pack_refused"


def pack_section(scope: Scope) -> None:
    """The pack's part of the page, folded away: most weeks have signal."""
    if scope.worker_id is None or not scope.can("visit.record"):
        return
    with st.expander(ui.t("pack.section"), icon=":material/signal_disconnected:", key="visit_pack_section"):
        st.caption(ui.t("pack.section_help", days=PACK_DAYS))
        _download(scope)
        st.divider()
        _upload(scope)


def _download(scope: Scope) -> None:
    with st.form("visit_pack_make", clear_on_submit=True):
        pin = st.text_input(ui.t("pack.pin_new"), type="password", max_chars=PIN_MAX, key="visit_pack_pin")
        again = st.text_input(ui.t("pack.pin_again"), type="password", max_chars=PIN_MAX, key="visit_pack_pin2")
        made = st.form_submit_button(ui.t("pack.make"), type="primary", width="stretch")
    if made:
        st.session_state.pop(FILE_KEY, None)
        if pin != again:
            ui.show_error(ValidationError("pack.pin_mismatch", field="pin"))
        else:
            try:
                with ui.write(changes_data=False) as session:
                    issued = issue_pack(session, scope, pin=pin, lang=ui.lang())
            except CareError as error:
                ui.show_error(error)
            else:
                day = issued.expires_at.date().isoformat()
                st.session_state[FILE_KEY] = (issued.html.encode("utf-8"), f"caremap-pack-{issued.pack_id[:8]}.html")
                st.session_state[FILE_KEY + "_note"] = ui.t("pack.made", n=len(issued.person_ids), day=day)
    kept = st.session_state.get(FILE_KEY)
    if kept:
        st.success(st.session_state.get(FILE_KEY + "_note", ""))
        st.download_button(
            ui.t("pack.download"),
            data=kept[0],
            file_name=kept[1],
            mime="text/html",
            icon=":material/download:",
            width="stretch",
            on_click="ignore",
            key="visit_pack_download",
        )


def _upload(scope: Scope) -> None:
    round_no = int(st.session_state.get(UPLOAD_ROUND, 0))
    uploaded = st.file_uploader(ui.t("pack.upload"), type=["json"], key=f"visit_pack_upload_{round_no}")
    if uploaded is None:
        return
    data = uploaded.getvalue()
    try:
        with ui.read() as session:
            checked = check_results(session, scope, data=data)
    except CareError as error:
        ui.show_error(error)
        _audit_refusal(scope, data, error.key)
        return
    _show_check(checked)
    choices: dict[str, str] = {}
    for v in checked.conflicts:
        assert v.conflict is not None
        choice = st.radio(
            ui.t("pack.resolve") + f"（{v.visit.number}）",
            CONFLICT_CHOICES[v.conflict],
            format_func=lambda c: ui.t(f"pack.resolve.{c}"),
            horizontal=True,
            index=None,
            key=f"visit_pack_resolve_{round_no}_{v.visit.client_token}",
        )
        if choice:
            choices[v.visit.client_token] = str(choice)
    if checked.problems:
        return
    if st.button(ui.t("pack.confirm"), type="primary", width="stretch", key=f"visit_pack_confirm_{round_no}"):
        try:
            with ui.write() as session:
                applied = apply_results(session, scope, data=data, resolutions=choices)
        except CareError as error:
            ui.show_error(error)
            return
        text = (
            ui.t("pack.applied", written=applied.written, already=applied.already, discarded=applied.discarded)
            if applied.written or applied.discarded
            else ui.t("pack.nothing_new")
        )
        forms.flash("success", text)
        st.session_state[UPLOAD_ROUND] = round_no + 1
        st.rerun()


def _show_check(checked: PackCheck) -> None:
    st.markdown(
        ui.t(
            "pack.check_counts",
            total=len(checked.visits),
            new=checked.count("new"),
            already=checked.count("already"),
            conflicts=checked.count("conflict"),
        )
    )
    if checked.problems:
        ui.show_error(ValidationError("pack.result_has_problems", field="file", n=len(checked.problems)))
        names = {v.visit.number: v.name for v in checked.visits}
        for p in checked.problems:
            reason = ui.message(p.key, p.params)
            name = ui.md(names.get(p.number, ""))
            st.markdown("- " + ui.t("pack.problem_line", n=p.number, name=name, reason=reason))
    for v in checked.conflicts:
        when = v.visit.visited_at.strftime("%Y-%m-%d %H:%M") if v.visit.visited_at else "—"
        reason = ui.t(f"pack.conflict.{v.conflict}")
        st.warning(ui.t("pack.conflict_line", n=v.visit.number, name=ui.md(v.name), when=when, reason=reason))
        if v.visit.notes:
            st.caption(ui.t("visit_form.notes") + "：" + ui.md(v.visit.notes))


def _audit_refusal(scope: Scope, data: bytes, key: str) -> None:
    """One audit event per refused file (a rerun of the page does not log it again)."""
    digest = hashlib.sha256(data).hexdigest()
    if st.session_state.get(REFUSED_KEY) == digest or key == "pack.foreign":
        return  # a foreign pack is audited as a denied access already
    with ui.write(changes_data=False) as session:
        record_refused_upload(session, scope, data=data, key=key)
    st.session_state[REFUSED_KEY] = digest

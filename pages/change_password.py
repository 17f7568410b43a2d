"""Change password (hidden from the menu): forced at first login and after an admin reset."""

from __future__ import annotations

import streamlit as st

import ui
from care.scope import Scope
from care.services.users import change_own_password
from ui import forms

scope = ui.current_scope()
if scope is None:
    st.warning(ui.t("shell.session_ended"))
    st.stop()
signed_in: Scope = scope

st.title(ui.t("user.change_title"))
forms.show_flash()
if scope.must_change_password:
    st.warning(ui.t("user.change_forced"))
st.caption(ui.t("user.change_rules"))
with st.form("change_password", border=True):
    current = st.text_input(
        ui.t("form.current_password"), type="password", max_chars=256, autocomplete="current-password", key="pw_current"
    )
    new = st.text_input(
        ui.t("form.new_password"), type="password", max_chars=256, autocomplete="new-password", key="pw_new"
    )
    repeat = st.text_input(
        ui.t("user.repeat_password"), type="password", max_chars=256, autocomplete="new-password", key="pw_repeat"
    )
    submitted = st.form_submit_button(ui.t("user.change_submit"), type="primary", key="pw_submit")

if submitted:

    def run() -> object:
        with ui.write(changes_data=False) as session:
            return change_own_password(session, signed_in, current=current, new=new, repeat=repeat)

    forms.save("own_password", run, ui.t("user.changed"))

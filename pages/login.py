"""Login: username and password, and the demo accounts while the database is the demo."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from care.domain.errors import LoginFailed
from care.queries.demo import demo_accounts
from ui import sso

st.title(ui.t("login.title"))
st.caption(ui.t("login.subtitle"))

left, right = st.columns([1, 1], gap="large")
with left, st.form("login", border=True):
    username = st.text_input(ui.t("login.username"), max_chars=64, autocomplete="username", key="login_username")
    password = st.text_input(
        ui.t("login.password"), type="password", max_chars=256, autocomplete="current-password", key="login_password"
    )
    submitted = st.form_submit_button(ui.t("login.submit"), type="primary", width="stretch")

if submitted:
    if ui.login(username, password):
        st.rerun()
    left.error(LoginFailed().message(ui.lang()))
# Single sign-on (ui/sso.py): the unified identity service's button, when it is configured.
sso.login_button(left)

with ui.read() as session:
    accounts = demo_accounts(session)
if accounts:
    with right:
        st.subheader(ui.t("login.demo_title"))
        st.caption(ui.t("login.demo_note"))
        table = pd.DataFrame(accounts)
        table["role"] = table["role"].map(lambda r: ui.label("role", r))
        st.dataframe(
            table[["role", "username", "password"]].rename(
                columns={
                    "role": ui.t("login.role"),
                    "username": ui.t("login.username"),
                    "password": ui.t("login.password"),
                }
            ),
            hide_index=True,
            width="stretch",
        )

"""First run on an empty database: build the demo county, or set up the real county's admin."""

from __future__ import annotations

import streamlit as st

import ui
from care.demo import build_demo
from care.errors import CareError
from care.services.setup import has_users, initialise_county

st.title(ui.t("setup.title"))
st.write(ui.t("setup.empty"))
demo, real = st.columns(2, gap="large")

with demo, st.form("demo"):
    st.subheader(ui.t("setup.demo_header"))
    st.caption(ui.t("setup.demo_help"))
    residents = st.select_slider(ui.t("setup.demo_residents"), options=[500, 2000, 10000, 100000], value=2000)
    if st.form_submit_button(ui.t("setup.demo_button"), type="primary"):
        with ui.read() as session:
            taken = has_users(session)
        if taken:
            st.info(ui.t("setup.already_done"))
        else:
            with st.spinner(ui.t("setup.demo_running")):
                summary = build_demo(ui.engine(), residents=int(residents), seed=2026)
            st.success(ui.t("setup.demo_done", persons=summary["persons"], villages=summary["villages"]))
            st.rerun()

with real, st.form("real"):
    st.subheader(ui.t("setup.real_header"))
    code = st.text_input(ui.t("setup.county_code"), max_chars=12, placeholder="522699000000")
    name = st.text_input(ui.t("setup.county_name"), max_chars=64)
    username = st.text_input(ui.t("setup.admin_username"), max_chars=64)
    password = st.text_input(ui.t("setup.admin_password"), type="password", max_chars=256)
    password2 = st.text_input(ui.t("setup.admin_password2"), type="password", max_chars=256)
    if st.form_submit_button(ui.t("setup.real_button")):
        if password != password2:
            st.error(ui.t("setup.passwords_differ"))
        else:
            try:
                with ui.write() as session:
                    initialise_county(session, county_code=code, county_name=name, username=username, password=password)
            except CareError as error:
                ui.show_error(error)
            else:
                st.success(ui.t("setup.real_done"))
                st.rerun()

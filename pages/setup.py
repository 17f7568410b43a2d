"""First run on an empty database: build the demo county, or set up the real county's admin."""

from __future__ import annotations

import streamlit as st

import ui
from care.demo.build import build_demo
from care.demo.common import BUILD_STEPS
from care.domain.errors import CareError
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
            with st.status(ui.t("setup.demo_running"), expanded=True) as status:
                bar = st.progress(0.0)

                def _step(step: str) -> None:
                    done, label = BUILD_STEPS.index(step), ui.t(f"setup.step.{step}")
                    bar.progress(done / len(BUILD_STEPS), text=label)
                    st.write(ui.t("setup.step_line", n=done + 1, total=len(BUILD_STEPS), step=label))

                summary = build_demo(ui.engine(), residents=int(residents), seed=2026, progress=_step)
                bar.progress(1.0)
                status.update(label=ui.t("setup.demo_built"), state="complete")
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

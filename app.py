"""CareMap entry point: page config, language, login gate and role-based navigation."""

from __future__ import annotations

import streamlit as st

import ui
from care import logs
from care.queries.registers import area_name
from care.services.setup import has_users

# No ID or phone number reaches the console, even in the traceback of an unexpected error.
logs.install()
st.set_page_config(page_title=ui.t("app.title"), page_icon="🏡", layout="wide")

PAGES = {
    "home": ("pages/home.py", "nav.home", ":material/home:"),
    "map": ("pages/map.py", "nav.map", ":material/map:"),
    "registers": ("pages/registers.py", "nav.registers", ":material/folder_shared:"),
    "person_new": ("pages/person_new.py", "nav.person_new", ":material/person_add:"),
    "person": ("pages/person.py", "nav.person", ":material/badge:"),
    "my_visits": ("pages/my_visits.py", "nav.my_visits", ":material/directions_walk:"),
    "schedule": ("pages/schedule.py", "nav.schedule", ":material/calendar_month:"),
    "assignments": ("pages/assignments.py", "nav.assignments", ":material/group_work:"),
    "needs": ("pages/needs.py", "nav.needs", ":material/support_agent:"),
    "imports": ("pages/imports.py", "nav.imports", ":material/upload_file:"),
    "reports": ("pages/reports.py", "nav.reports", ":material/bar_chart:"),
    "policy": ("pages/policy.py", "nav.policy", ":material/rule:"),
    "admin": ("pages/admin.py", "nav.admin", ":material/admin_panel_settings:"),
    "audit": ("pages/audit.py", "nav.audit", ":material/policy:"),
}
# Reached from a register row, not from the menu.
HIDDEN = {"person"}
# Every logged-in user may open it (from the sidebar); after a reset it is the only page.
PASSWORD_PAGE = "pages/change_password.py"  # noqa: S105 - a page path, not a secret


def language_switch() -> None:
    choice = st.sidebar.segmented_control(
        ui.t("app.language"),
        options=["zh", "en"],
        format_func={"zh": "中文", "en": "English"}.get,
        default=ui.lang(),
        key="lang_choice",
    )
    if choice and choice != ui.lang():
        st.session_state[ui.LANG_KEY] = choice
        st.rerun()


def sidebar_user(scope: ui.Scope) -> None:
    st.sidebar.caption(ui.t("shell.signed_in_as", name=ui.md(scope.username), role=ui.label("role", scope.role)))
    with ui.read() as session:
        area = area_name(session, scope.area_code)
    st.sidebar.caption(ui.t("shell.area", area=ui.md(area) if area else ui.t("shell.no_area")))
    if st.sidebar.button(ui.t("shell.change_password"), icon=":material/key:"):
        st.switch_page(PASSWORD_PAGE)
    if st.sidebar.button(ui.t("shell.logout"), icon=":material/logout:"):
        ui.logout()
        st.rerun()


language_switch()
ui.daily_upkeep()
with ui.read() as session:
    ready = has_users(session)
scope = ui.current_scope() if ready else None
if scope is None:
    entry = "pages/login.py" if ready else "pages/setup.py"
    title = "nav.login" if ready else "nav.setup"
    navigation = st.navigation([st.Page(entry, title=ui.t(title), default=True)], position="hidden")
elif scope.must_change_password:
    sidebar_user(scope)
    page = st.Page(PASSWORD_PAGE, title=ui.t("nav.change_password"), default=True)
    navigation = st.navigation([page], position="hidden")
else:
    sidebar_user(scope)
    pages = [
        st.Page(
            path,
            title=ui.t(title),
            icon=icon,
            default=(name == "home"),
            visibility="hidden" if name in HIDDEN else "visible",
        )
        for name, (path, title, icon) in PAGES.items()
        if scope.may_open(name)
    ]
    pages.append(st.Page(PASSWORD_PAGE, title=ui.t("nav.change_password"), visibility="hidden"))
    navigation = st.navigation(pages)
navigation.run()

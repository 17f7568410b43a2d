"""CareMap entry point: page config, language, login gate and role-based navigation.

``streamlit run app.py`` finds the ``st.App`` at the bottom and serves it: Streamlit plus the
login cookie's routes and the security headers (care/web.py). Streamlit then runs this file as
``__main__`` for every browser session, which draws the app.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

import ui
from care import logs
from care.queries.registers import area_name
from care.scope import Scope
from care.services.setup import has_users

# name: (page file, title key, icon). The name is the page's URL: /map, /person?ref=…
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
    "services": ("pages/services.py", "nav.services", ":material/volunteer_activism:"),
    "diary": ("pages/diary.py", "nav.diary", ":material/menu_book:"),
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
PASSWORD_URL = "change_password"  # noqa: S105 - a URL path, not a secret


def language_switch() -> None:
    choice = st.sidebar.segmented_control(
        ui.t("app.language"),
        options=["zh", "en"],
        format_func=ui.shown_as({"zh": "中文", "en": "English"}),
        default=ui.lang(),
        key="lang_choice",
    )
    if choice and choice != ui.lang():
        st.session_state[ui.LANG_KEY] = choice
        st.rerun()


def sidebar_user(scope: Scope) -> None:
    st.sidebar.caption(ui.t("shell.signed_in_as", name=ui.md(scope.username), role=ui.label("role", scope.role)))
    with ui.read() as session:
        area = area_name(session, scope.area_code)
    st.sidebar.caption(ui.t("shell.area", area=ui.md(area) if area else ui.t("shell.no_area")))
    if st.sidebar.button(ui.t("shell.change_password"), icon=":material/key:"):
        st.switch_page(PASSWORD_PAGE)
    if st.sidebar.button(ui.t("shell.logout"), icon=":material/logout:"):
        ui.logout()
        st.rerun()


def gate(path: str, title: str) -> StreamlitPage:
    """Every page URL shows ``path`` (login, first-run setup, forced password change).

    The address stays as typed, so a deep link such as /map or /person?ref=… opens once the
    user has logged in, with no "page not found" on the way.
    """
    # The default page keeps the URL its file gives it ("/" in the browser): a custom one there
    # would not be found again on the next run.
    others = [name for name in (*PAGES, PASSWORD_URL) if name not in ("home", Path(path).stem)]
    pages = [st.Page(path, title=ui.t(title), default=True)]
    pages += [st.Page(path, title=ui.t(title), url_path=name) for name in others]
    return st.navigation(pages, position="hidden")


def menu(scope: Scope) -> StreamlitPage:
    """The role's pages in the sidebar; the others still have their URL, where the page refuses and audits."""
    pages = [
        st.Page(
            path,
            title=ui.t(title),
            icon=icon,
            url_path=name,
            default=(name == "home"),
            visibility="visible" if scope.may_open(name) and name not in HIDDEN else "hidden",
        )
        for name, (path, title, icon) in PAGES.items()
    ]
    pages.append(st.Page(PASSWORD_PAGE, title=ui.t("nav.change_password"), url_path=PASSWORD_URL, visibility="hidden"))
    # Every page of the role listed: the administrator has more than the ten shown before "view more".
    return st.navigation(pages, expanded=True)


# Set once a signed-in session has shown its first page.
LANDED_KEY = "landed"
# Where a role's day starts when the address names no page: a coordinator's work is 我的巡访.
LANDING = {"coordinator": "my_visits"}


def land(scope: Scope, navigation: StreamlitPage) -> None:
    """Open the role's own first page once per sign-in, unless the address asked for another page."""
    if st.session_state.get(LANDED_KEY):
        return
    st.session_state[LANDED_KEY] = True
    landing = LANDING.get(scope.role)
    asked = navigation.url_path != "" or bool(st.query_params.to_dict())
    if landing and not asked and scope.may_open(landing):
        st.switch_page(PAGES[landing][0])


def main() -> None:
    # No ID or phone number reaches the console, even in the traceback of an unexpected error.
    logs.install()
    st.set_page_config(page_title=ui.t("app.title"), page_icon="🏡", layout="wide")
    language_switch()
    ui.daily_upkeep()
    with ui.read() as session:
        ready = has_users(session)
    scope = ui.current_scope() if ready else None
    ui.cookie_frames()
    if not ready:
        navigation = gate("pages/setup.py", "nav.setup")
    elif scope is None:
        navigation = gate("pages/login.py", "nav.login")
    elif scope.must_change_password:
        sidebar_user(scope)
        navigation = gate(PASSWORD_PAGE, "nav.change_password")
    else:
        sidebar_user(scope)
        navigation = menu(scope)
        land(scope, navigation)
    navigation.run()


if __name__ == "__main__":
    main()
else:
    from starlette.middleware import Middleware
    from streamlit.runtime.pages_manager import PagesManager

    from care import web
    from ui import map_view

    # The pages are listed by st.navigation; without this, the first session after a start
    # would list pages/ as raw file names before the app's own menu arrives.
    PagesManager.uses_pages_directory = False
    # The map frame's one inline script, allowed by its hash (ui/map_view.py).
    scripts = {"/component/streamlit_folium.st_folium/": map_view.frame_script_hashes()}
    app = st.App(__file__, routes=web.routes(), middleware=[Middleware(web.SecurityHeaders, frame_scripts=scripts)])

"""System administration (系统管理): users, areas, re-division, visit policy and backups."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

import ui
from ui import admin_areas, admin_backup, forms

try:
    from ui import admin_users
except ImportError:  # the users tab ships in its own module
    admin_users = None  # type: ignore[assignment]

scope = ui.require_page("admin")
st.title(ui.t("admin.title"))
forms.show_flash()

users, areas, redivision, policy, backups = st.tabs(
    [ui.t(f"admin.tab.{name}") for name in ("users", "areas", "redivision", "policy", "backup")]
)
with users:
    if admin_users is None:
        st.info(ui.t("admin.users_missing"))
    else:
        admin_users.render(scope)
with areas:
    admin_areas.render_areas(scope)
with redivision:
    admin_areas.render_redivision(scope)
with policy:
    st.caption(ui.t("admin.policy_intro"))
    if (Path(__file__).parent / "policy.py").is_file():
        st.page_link("pages/policy.py", label=ui.t("admin.policy_link"), icon=":material/rule:")
    else:
        st.info(ui.t("admin.policy_missing"))
with backups:
    admin_backup.render(scope)

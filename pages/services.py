"""服务清单: the county's basic service list with its adjustments, the providers, the pairings (结对帮扶),
the service orders and the care plans waiting for a decision or a review."""

from __future__ import annotations

import streamlit as st

import ui
from ui import forms, plan_view, services_view

scope = ui.require_page("services")
st.title(ui.t("svc.title"))
st.caption(ui.t("svc.help"))
forms.show_flash()

list_tab, providers_tab, pairings_tab, orders_tab, plans_tab = st.tabs(
    [
        ui.t("svc.tab_list"),
        ui.t("svc.tab_providers"),
        ui.t("svc.tab_pairings"),
        ui.t("svc.tab_orders"),
        ui.t("svc.tab_plans"),
    ]
)
with list_tab:
    services_view.service_list_tab(scope)
with providers_tab:
    services_view.providers_tab(scope)
with pairings_tab:
    services_view.pairings_tab(scope)
with orders_tab:
    plan_view.orders_tab(scope)
with plans_tab:
    plan_view.plans_tab(scope)

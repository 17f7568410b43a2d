"""服务清单: the county's basic service list with its adjustments, the providers, the pairings (结对帮扶),
the service orders and the care plans waiting for a decision or a review."""

from __future__ import annotations

import streamlit as st

import ui
from ui import forms, plan_view, services_view

scope = ui.require_page("services")
st.title(ui.t("service.title"))
st.caption(ui.t("service.help"))
forms.show_flash()

list_tab, providers_tab, pairings_tab, orders_tab, plans_tab = st.tabs(
    [
        ui.t("service.tab_list"),
        ui.t("service.tab_providers"),
        ui.t("service.tab_pairings"),
        ui.t("service.tab_orders"),
        ui.t("service.tab_plans"),
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

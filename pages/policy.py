"""County settings: the visit policy (巡访规则) and the child age limits; each previewed, then saved."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from care.domain import enums
from care.domain.errors import CareError
from care.queries.settings import scope_county
from care.services.visit_policy import policy_settings, preview_policy, save_policy
from ui import age_limits_view, forms

scope = ui.require_page("policy")
st.title(ui.t("policy.title"))
forms.show_flash()

visits_tab, ages_tab = st.tabs([ui.t("policy.tab_visits"), ui.t("age_limit.title")])
with ages_tab:
    age_limits_view.render(scope)

with visits_tab:
    st.caption(ui.t("policy.help"))
    with ui.read() as session:
        current = policy_settings(session, scope_county(scope))
    seen = forms.seen_version("policy", current.version)

    grid = pd.DataFrame(
        {ui.label("risk", r): [current.intervals[(g, r)] for g in enums.GROUPS] for r in enums.RISKS},
        index=[ui.label("group", g) for g in enums.GROUPS],
    )
    edited = st.data_editor(
        grid,
        key=f"policy_grid_{seen}",
        column_config={
            ui.label("risk", r): st.column_config.NumberColumn(min_value=1, max_value=366, step=1, format="%d")
            for r in enums.RISKS
        },
        disabled=False,
    )
    st.caption(ui.t("policy.elderly_note"))
    phone = st.toggle(ui.t("policy.phone_counts"), value=current.phone_counts, key=f"policy_phone_{seen}")
    limit = st.number_input(
        ui.t("policy.daily_limit"), 1, 40, value=current.daily_limit, step=1, key=f"policy_limit_{seen}"
    )
    intervals = {
        (g, r): int(edited.iloc[i][ui.label("risk", r)]) if pd.notna(edited.iloc[i][ui.label("risk", r)]) else 0
        for i, g in enumerate(enums.GROUPS)
        for r in enums.RISKS
    }
    changed = intervals != current.intervals or phone != current.phone_counts or int(limit) != current.daily_limit
    if not changed:
        st.info(ui.t("policy.unchanged"))
        st.stop()

    try:
        with ui.read() as session:
            preview = preview_policy(session, scope, intervals=intervals, phone=phone, today=ui.today())
    except CareError as error:
        ui.show_error(error)
        st.stop()

    st.subheader(ui.t("policy.preview"))
    st.markdown(
        ui.t(
            "policy.preview_text",
            moved=f"{preview.moved:,}",
            total=f"{preview.enrollments:,}",
            earlier=f"{preview.earlier:,}",
            later=f"{preview.later:,}",
            overdue=f"{preview.newly_overdue:,}",
            cleared=f"{preview.no_longer_overdue:,}",
        )
    )
    table = preview.by_group.assign(group=preview.by_group["group"].map(lambda g: ui.label("group", g)))
    st.dataframe(
        table.rename(columns={c: ui.t(f"policy.col_{c}") for c in table.columns}),
        hide_index=True,
    )
    if st.button(ui.t("policy.save"), type="primary", key="policy_save"):
        county = scope_county(scope) or ""

        def action() -> int:
            with ui.write() as session:
                return save_policy(
                    session,
                    scope,
                    county_code=county,
                    intervals=intervals,
                    phone=phone,
                    limit=int(limit),
                    seen_version=seen,
                )

        forms.save("policy", action, ui.t("policy.saved", moved=f"{preview.moved:,}"))

"""The child age limits section of the settings page: one limit per child sub-type; preview, then save."""

from __future__ import annotations

import streamlit as st

import ui
from care.domain import enums
from care.domain.errors import CareError
from care.queries.settings import scope_county
from care.scope import Scope
from care.services.age_limits import CHILD_SUBTYPES, age_limit_settings, preview_age_limits, save_age_limits
from ui import forms

FORM_KEY = "age_limits"


def render(scope: Scope) -> None:
    """Edit the county's child age limits; shows how many enrolled children a change moves out first."""
    st.caption(ui.t("age_limit.help"))
    with ui.read() as session:
        current = age_limit_settings(session, scope_county(scope))
    seen = forms.seen_version(FORM_KEY, current.version)
    limits: dict[str, int] = {}
    for column, subtype in zip(st.columns(len(CHILD_SUBTYPES)), CHILD_SUBTYPES, strict=True):
        limits[subtype] = int(
            column.number_input(
                ui.t("age_limit.field", group=ui.label("subtype", subtype)),
                min_value=enums.CHILD_AGE_LIMIT_MIN,
                max_value=enums.CHILD_AGE_LIMIT_MAX,
                value=current.limits[subtype],
                step=1,
                key=f"age_limit_{subtype}_{seen}",
                help=ui.t("age_limit.national", limit=enums.CHILD_AGE_LIMITS[subtype]),
            )
        )
    if limits == current.limits:
        st.info(ui.t("age_limit.unchanged"))
        return
    try:
        with ui.read() as session:
            preview = preview_age_limits(session, scope, limits=limits, today=ui.today())
    except CareError as error:
        ui.show_error(error)
        return
    st.markdown(
        ui.t(
            "age_limit.preview_text",
            moved=f"{preview.moved_out:,}",
            back=f"{preview.back_in:,}",
            total=f"{preview.enrolled:,}",
        )
    )
    table = preview.by_subtype.assign(subtype=preview.by_subtype["subtype"].map(lambda s: ui.label("subtype", s)))
    st.dataframe(table.rename(columns={c: ui.t(f"age_limit.col_{c}") for c in table.columns}), hide_index=True)
    if st.button(ui.t("age_limit.save"), type="primary", key="age_limits_save"):

        def action() -> int:
            with ui.write() as session:
                return save_age_limits(session, scope, limits=limits, seen_version=seen, today=ui.today())

        forms.save(FORM_KEY, action, ui.t("age_limit.saved", moved=f"{preview.moved_out:,}"))

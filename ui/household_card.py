"""The household card (户) of a person file: every member at a glance, and the household's edits."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from care.domain.enums import HOUSEHOLD_RELATIONS
from care.queries.households import Choice, HouseholdCard, addable_persons, other_households
from care.scope import Scope
from care.services import households
from ui import forms


def card(scope: Scope, hc: HouseholdCard | None) -> None:
    """The household: 户号, address, the family flags and each member with groups, risk, worker, visit."""
    st.subheader(ui.t("household.title"))
    if hc is None:
        st.caption(ui.t("household.none"))
        return
    with st.container(border=True):
        st.text(
            f"{ui.t('household.hukou')}：{hc.hukou_no or ui.t('household.no_hukou')}"
            f"　{ui.t('household.address')}：{hc.address or '—'}"
        )
        home = (
            f"{hc.lat:.6f}, {hc.lon:.6f}"
            if hc.lat is not None and hc.lon is not None
            else ui.t("household.no_location")
        )
        st.text(f"{ui.t('household.location')}：{home}")
        for flag in hc.flags:
            st.warning(ui.t(flag), icon=":material/family_restroom:")
        _members_table(hc)
        if hc.hidden_members:
            st.caption(ui.t("household.hidden", n=hc.hidden_members))
        _open_member(hc)
        if hc.former:
            _former_members(hc)


def _members_table(hc: HouseholdCard) -> None:
    """Each member (★ the person of this file): relation, age, groups, risk, worker, last visit, location."""
    st.dataframe(
        pd.DataFrame(
            {
                ui.t("household.col_name"): [m.name + (" ★" if m.is_self else "") for m in hc.members],
                ui.t("household.col_relation"): [ui.label("relation", m.relation) for m in hc.members],
                ui.t("household.col_age"): [f"{ui.label('sex', m.sex)} {m.age}" for m in hc.members],
                ui.t("household.col_groups"): [
                    "、".join(ui.label("group", g) for g in m.groups) or "—" for m in hc.members
                ],
                ui.t("household.col_risk"): [ui.label("risk", m.risk) or "—" for m in hc.members],
                ui.t("household.col_worker"): ["、".join(m.workers) or "—" for m in hc.members],
                ui.t("household.col_last_visit"): [str(m.last_visit_on or "—") for m in hc.members],
                ui.t("household.col_location"): [ui.t(f"household.location_{m.location}") for m in hc.members],
            }
        ),
        hide_index=True,
        width="stretch",
    )


def _open_member(hc: HouseholdCard) -> None:
    """A choice of the other members, and a button that opens the one chosen."""
    others = [m for m in hc.members if not m.is_self]
    if not others:
        return
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    chosen = c1.selectbox(
        ui.t("household.open_member"),
        [m.person_id for m in others],
        format_func=ui.shown_as({m.person_id: m.name for m in others}),
        key=f"hh_open_{hc.id}",
    )
    if c2.button(ui.t("household.open"), key=f"hh_open_go_{hc.id}") and chosen is not None:
        ui.open_person(chosen)


def _former_members(hc: HouseholdCard) -> None:
    """The members who have left, folded away: relation, when they joined and when they left."""
    with st.expander(ui.t("household.former")):
        st.dataframe(
            pd.DataFrame(
                {
                    ui.t("household.col_name"): [f["name"] for f in hc.former],
                    ui.t("household.col_relation"): [ui.label("relation", f["relation"]) for f in hc.former],
                    ui.t("household.col_joined"): [f["start_date"] for f in hc.former],
                    ui.t("household.col_left"): [f["end_date"] for f in hc.former],
                }
            ),
            hide_index=True,
            width="stretch",
        )


def manage(scope: Scope, hc: HouseholdCard | None) -> None:
    """Tabs to edit the household, add a member, change a relation, split and merge."""
    if hc is None or not scope.can("person.edit"):
        return
    key = f"household_{hc.id}"
    seen = forms.seen_version(key, hc.version)
    with ui.read() as session:
        people = addable_persons(session, scope, hc, ui.today())
        others = other_households(session, scope, hc)
    with st.expander(ui.t("household.manage"), icon=":material/family_restroom:"):
        details, add, relation, split, merge = st.tabs(
            [
                ui.t(k)
                for k in (
                    "household.tab_edit",
                    "household.tab_add",
                    "household.tab_relation",
                    "household.tab_split",
                    "household.tab_merge",
                )
            ]
        )
        with details:
            _details(scope, hc, key, seen)
        with add:
            _add(scope, hc, key, seen, people)
        with relation:
            _relation(scope, hc, key, seen)
        with split:
            _split(scope, hc, key, seen)
        with merge:
            _merge(scope, hc, key, seen, others)


def _details(scope: Scope, hc: HouseholdCard, key: str, seen: int) -> None:
    with st.form(f"hh_edit_{hc.id}_{seen}"):
        hukou = st.text_input(ui.t("form.hukou_no"), hc.hukou_no, max_chars=32)
        address = st.text_input(ui.t("household.address"), hc.address, max_chars=200)
        # Number boxes as on the person form (the map picker draws an expander, and this is one already).
        c1, c2 = st.columns(2)
        lat = c1.number_input(
            ui.t("form.lat"),
            value=hc.lat,
            min_value=-90.0,
            max_value=90.0,
            format="%.6f",
            key=f"hh_lat_{hc.id}_{seen}",
            help=ui.t("form.coords_help"),
        )
        lon = c2.number_input(
            ui.t("form.lon"),
            value=hc.lon,
            min_value=-180.0,
            max_value=180.0,
            format="%.6f",
            key=f"hh_lon_{hc.id}_{seen}",
        )
        st.caption(ui.t("household.location_help"))
        submitted = st.form_submit_button(ui.t("form.save"), type="primary")
    if submitted:

        def run() -> object:
            with ui.write() as session:
                return households.update_household(
                    session,
                    scope,
                    household_id=hc.id,
                    seen_version=seen,
                    values={"hukou_no": hukou, "address": address, "lat": lat, "lon": lon},
                )

        forms.save(key, run, ui.t("household.saved"))


def _pick(label_key: str, choices: list[Choice], key: str) -> Choice | None:
    by_id = {c.id: c for c in choices}
    chosen = st.selectbox(
        ui.t(label_key),
        list(by_id),
        index=None,
        format_func=lambda i: by_id[i].label,
        placeholder=forms.placeholder(),
        key=key,
    )
    return by_id.get(chosen) if chosen is not None else None


def _relation_choice(key: str, allow_head: bool) -> str | None:
    options = [r for r in HOUSEHOLD_RELATIONS if allow_head or r != "head"]
    return st.selectbox(
        ui.t("form.relation"),
        options,
        index=None,
        format_func=ui.labeller("relation"),
        placeholder=forms.placeholder(),
        key=key,
    )


def _add(scope: Scope, hc: HouseholdCard, key: str, seen: int, people: list[Choice]) -> None:
    st.caption(ui.t("household.add_help"))
    if people:
        _add_existing(scope, hc, key, seen, people)
    else:
        st.caption(ui.t("household.nobody"))
    if scope.can("person.create"):
        _add_new(scope, hc, key, seen)


def _add_new(scope: Scope, hc: HouseholdCard, key: str, seen: int) -> None:
    st.markdown(f"**{ui.t('household.new_member')}**")
    with st.form(f"hh_new_{hc.id}_{seen}"):
        c1, c2 = st.columns(2)
        name = c1.text_input(ui.t("form.name"), max_chars=64, key=f"hh_new_name_{hc.id}")
        number = c2.text_input(
            ui.t("form.id_number"), max_chars=24, help=ui.t("form.id_help"), key=f"hh_new_id_{hc.id}"
        )
        relation = _relation_choice(f"hh_new_relation_{hc.id}", allow_head=False)
        submitted = st.form_submit_button(ui.t("household.new_submit"), type="primary")
    if submitted:
        if relation is None:
            st.error(ui.t("household.choose_both"))
            return

        def run() -> object:
            with ui.write() as session:
                return households.add_new_member(
                    session,
                    scope,
                    household_id=hc.id,
                    seen_version=seen,
                    values={"name": name, "id_number": number},
                    relation=relation,
                )

        forms.save(key, run, ui.t("household.saved"))


def _add_existing(scope: Scope, hc: HouseholdCard, key: str, seen: int, people: list[Choice]) -> None:
    person = _pick("form.person", people, f"hh_add_person_{hc.id}")
    relation = _relation_choice(f"hh_add_relation_{hc.id}", allow_head=False)
    if st.button(ui.t("household.add_submit"), type="primary", key=f"hh_add_go_{hc.id}"):
        if person is None or relation is None:
            st.error(ui.t("household.choose_both"))
            return

        def run() -> object:
            with ui.write() as session:
                return households.add_member(
                    session, scope, household_id=hc.id, seen_version=seen, person_id=person.id, relation=relation
                )

        forms.save(key, run, ui.t("household.saved"))


def _members(hc: HouseholdCard) -> list[Choice]:
    return [Choice(m.person_id, f"{m.name}（{ui.label('relation', m.relation)}）") for m in hc.members]


def _relation(scope: Scope, hc: HouseholdCard, key: str, seen: int) -> None:
    member = _pick("form.person", _members(hc), f"hh_rel_person_{hc.id}")
    relation = _relation_choice(f"hh_rel_relation_{hc.id}", allow_head=True)
    st.caption(ui.t("household.relation_help"))
    if st.button(ui.t("household.relation_submit"), type="primary", key=f"hh_rel_go_{hc.id}"):
        if member is None or relation is None:
            st.error(ui.t("household.choose_both"))
            return

        def run() -> object:
            with ui.write() as session:
                return households.set_relation(
                    session, scope, household_id=hc.id, seen_version=seen, person_id=member.id, relation=relation
                )

        forms.save(key, run, ui.t("household.saved"))


def _split(scope: Scope, hc: HouseholdCard, key: str, seen: int) -> None:
    st.caption(ui.t("household.split_help"))
    choices = {c.id: c.label for c in _members(hc)}
    chosen = st.multiselect(
        ui.t("form.members"),
        list(choices),
        format_func=ui.shown_as(choices),
        placeholder=forms.placeholder(),
        key=f"hh_split_{hc.id}",
    )
    if st.button(ui.t("household.split_submit"), type="primary", key=f"hh_split_go_{hc.id}"):

        def run() -> object:
            with ui.write() as session:
                return households.split_household(
                    session, scope, household_id=hc.id, seen_version=seen, person_ids=list(chosen)
                )

        forms.save(key, run, ui.t("household.saved"))


def _merge(scope: Scope, hc: HouseholdCard, key: str, seen: int, others: list[Choice]) -> None:
    st.caption(ui.t("household.merge_help"))
    if not others:
        st.caption(ui.t("household.no_other"))
        return
    other = _pick("form.household", others, f"hh_merge_{hc.id}")
    if st.button(ui.t("household.merge_submit"), type="primary", key=f"hh_merge_go_{hc.id}"):
        if other is None:
            st.error(ui.t("household.choose_household"))
            return

        def run() -> object:
            with ui.write() as session:
                return households.merge_households(
                    session,
                    scope,
                    household_id=hc.id,
                    seen_version=seen,
                    other_id=other.id,
                    other_version=other.version,
                )

        forms.save(key, run, ui.t("household.saved"))

"""The 服务清单 page's tabs: the county's service list (previewed, then saved), providers, pairings."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

import ui
from care.domain import enums
from care.domain.errors import CareError
from care.domain.service_rules import GROUP_CONDITIONS, Eligibility
from care.queries import service_list as q
from care.queries.registers import area_options
from care.queries.settings import scope_county
from care.scope import Scope
from care.services import service_list as services
from ui import forms

NEW = "__new__"


def _rule_text(group: str, rule: Eligibility) -> str:
    """An eligibility rule in words: 'any' when it has no condition."""
    parts = []
    if rule.subtypes:
        parts.append("、".join(ui.label("subtype", s) for s in rule.subtypes))
    if rule.risks:
        parts.append(ui.t("service.rule.risks", risks="、".join(ui.label("risk", r) for r in rule.risks)))
    if rule.min_age is not None or rule.max_age is not None:
        parts.append(
            ui.t(
                "service.rule.ages",
                low=rule.min_age if rule.min_age is not None else 0,
                high=rule.max_age if rule.max_age is not None else "—",
            )
        )
    if rule.guardianship:
        parts.append("、".join(ui.label("guardianship", g) for g in rule.guardianship))
    if rule.self_care:
        parts.append(ui.t("service.rule.self_care", v="、".join(ui.label("self_care", v) for v in rule.self_care)))
    if rule.living:
        parts.append("、".join(ui.label("living_arrangement", v) for v in rule.living))
    if rule.categories:
        parts.append("、".join(ui.label("category", c) for c in rule.categories))
    if rule.max_grade is not None:
        parts.append(ui.t("service.rule.grade", grade=rule.max_grade))
    return "；".join(parts) or ui.t("service.rule.any")


def _table(rows: list[q.ServiceRow]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            ui.t("service.col.name"): [r.name for r in rows],
            ui.t("service.col.group"): [ui.label("group", r.group) for r in rows],
            ui.t("service.col.frequency"): [
                ui.t("service.frequency", times=r.times, period=ui.label("period", r.period)) for r in rows
            ],
            ui.t("service.col.providers"): [
                "、".join(ui.label("provider_kind", k) for k in r.provider_kinds) for r in rows
            ],
            ui.t("service.col.eligibility"): [_rule_text(r.group, r.eligibility) for r in rows],
            ui.t("service.col.from"): [r.valid_from for r in rows],
            ui.t("service.col.to"): [r.valid_to or "—" for r in rows],
            ui.t("service.col.note"): [r.note for r in rows],
        }
    )


def service_list_tab(scope: Scope) -> None:
    """The list in force on a chosen day; for the admin, a change previewed and then saved."""
    day = st.date_input(ui.t("service.as_of"), value=ui.today(), key="svc_day")
    with ui.read() as session:
        rows = q.service_list(session, day, scope_county(scope))
        latest = q.latest_services(session, scope_county(scope))
    if rows:
        st.dataframe(_table(rows), hide_index=True, width="stretch")
    else:
        st.info(ui.t("service.empty"))
    if not scope.can("service.manage"):
        return
    if not latest and st.button(ui.t("service.use_default"), icon=":material/playlist_add:", key="svc_default"):
        forms.save("service_default", lambda: _seed(scope), ui.t("service.default_done"))
    _editor(scope, latest)


def _seed(scope: Scope) -> object:
    with ui.write() as session:
        return services.use_default_services(session, scope, today=ui.today())


def _editor(scope: Scope, latest: list[q.ServiceRow]) -> None:
    st.subheader(ui.t("service.edit"))
    by_code = {r.code: r for r in latest}
    choice = st.selectbox(
        ui.t("service.choose"),
        [NEW, *by_code],
        format_func=lambda c: (
            ui.t("service.new") if c == NEW else f"{by_code[c].name}（{ui.label('group', by_code[c].group)}）"
        ),
        key="svc_choice",
    )
    row = by_code.get(choice)
    key = f"service_{choice}"
    seen = forms.seen_version(key, row.version if row else 0)
    k = f"{choice}_{seen}"
    values = _service_fields(row, k)
    effective = st.date_input(ui.t("service.effective"), value=ui.today(), min_value=ui.today(), key=f"svc_eff_{k}")
    if _unchanged(row, values):
        st.info(ui.t("service.unchanged"))
        if row is not None and row.valid_to is None:
            _end(scope, row, key, seen, effective)
        return
    if row is None and not values.code.strip() and not values.name.strip():
        # A new service not yet begun: nothing to check or save.
        st.info(ui.t("service.new_empty"))
        return
    if _preview(scope, values.code or (row.code if row else ""), values) and st.button(
        ui.t("service.save"), type="primary", key=f"svc_save_{k}"
    ):
        forms.save(
            key,
            lambda: _save(scope, values, effective, row.version if row else None),
            ui.t("service.saved", name=ui.md(values.name), day=effective.isoformat()),
        )


def _service_fields(row: q.ServiceRow | None, k: str) -> services.ServiceInput:
    """The service's code, name, group, providers, frequency, eligibility and note (a new one's empty)."""
    c1, c2, c3 = st.columns(3)
    code = row.code if row else c1.text_input(ui.t("service.code"), key=f"svc_code_{k}", help=ui.t("service.code_help"))
    if row:
        c1.text_input(ui.t("service.code"), value=row.code, disabled=True, key=f"svc_code_{k}")
    name = c2.text_input(ui.t("service.col.name"), value=row.name if row else "", key=f"svc_name_{k}")
    group = c3.selectbox(
        ui.t("service.col.group"),
        enums.GROUPS,
        index=enums.GROUPS.index(row.group) if row else 0,
        format_func=ui.labeller("group"),
        key=f"svc_group_{k}",
    )
    kinds = st.multiselect(
        ui.t("service.col.providers"),
        enums.PROVIDER_KINDS,
        default=list(row.provider_kinds) if row else [],
        format_func=ui.labeller("provider_kind"),
        key=f"svc_kinds_{k}",
        placeholder=forms.placeholder(required=False),
    )
    f1, f2 = st.columns(2)
    times = f1.number_input(ui.t("service.times"), 1, 31, value=row.times if row else 1, step=1, key=f"svc_times_{k}")
    period = f2.selectbox(
        ui.t("service.period"),
        enums.SERVICE_PERIODS,
        index=enums.SERVICE_PERIODS.index(row.period) if row else 1,
        format_func=ui.labeller("period"),
        key=f"svc_period_{k}",
    )
    rule = _rule_inputs(group, row.eligibility if row and row.group == group else Eligibility(), f"{k}_{group}")
    note = st.text_input(ui.t("service.col.note"), value=row.note if row else "", key=f"svc_note_{k}")
    return services.ServiceInput(
        code=(code or "").strip(),
        name=name,
        group=group,
        provider_kinds=tuple(kinds),
        times=int(times),
        period=period,
        eligibility=rule,
        note=note,
    )


def _unchanged(row: q.ServiceRow | None, values: services.ServiceInput) -> bool:
    """Whether the form holds the service exactly as it is in force (nothing to save)."""
    return row is not None and (
        row.name,
        row.group,
        row.provider_kinds,
        row.times,
        row.period,
        row.eligibility,
        row.note,
    ) == (
        values.name.strip(),
        values.group,
        values.provider_kinds,
        values.times,
        values.period,
        values.eligibility,
        values.note.strip(),
    )


def _save(scope: Scope, values: services.ServiceInput, effective: dt.date, seen: int | None) -> object:
    with ui.write() as session:
        return services.save_service(
            session, scope, values=values, effective=effective, seen_version=seen, today=ui.today()
        )


def _end(scope: Scope, row: q.ServiceRow, key: str, seen: int, effective: dt.date) -> None:
    with st.expander(ui.t("service.end")):
        if _preview(scope, row.code, None) and st.button(
            ui.t("service.end_confirm", day=effective.isoformat()), key=f"svc_end_{row.code}"
        ):

            def end() -> object:
                with ui.write() as session:
                    return services.end_service(
                        session, scope, code=row.code, effective=effective, seen_version=seen, today=ui.today()
                    )

            forms.save(key, end, ui.t("service.ended", name=ui.md(row.name), day=effective.isoformat()))


def _preview(scope: Scope, code: str, values: services.ServiceInput | None) -> bool:
    """Who gains or loses eligibility; False when the values are refused (the message is shown)."""
    try:
        with ui.read() as session:
            preview = services.preview_service(session, scope, code=code, values=values, today=ui.today())
    except CareError as error:
        ui.show_error(error)
        return False
    st.markdown(
        ui.t(
            "service.preview",
            before=f"{preview.before:,}",
            after=f"{preview.after:,}",
            gained=f"{preview.gained:,}",
            lost=f"{preview.lost:,}",
        )
    )
    if preview.by_township:
        st.dataframe(
            pd.DataFrame(
                preview.by_township,
                columns=[ui.t("service.col.township"), ui.t("service.col.gained"), ui.t("service.col.lost")],
            ),
            hide_index=True,
        )
    for names, label in ((preview.gained_names, "service.gained_names"), (preview.lost_names, "service.lost_names")):
        if names:
            st.caption(ui.t(label, names=ui.md("、".join(names))))
    return True


def _rule_inputs(group: str, rule: Eligibility, k: str) -> Eligibility:
    """The eligibility conditions for ``group`` (the other groups' conditions are not offered)."""
    st.caption(ui.t("service.rule.help"))
    a, b = st.columns(2)
    subtypes = a.multiselect(
        ui.t("service.rule.subtypes"),
        enums.SUBTYPES[group],
        default=list(rule.subtypes),
        format_func=ui.labeller("subtype"),
        key=f"svc_sub_{k}",
        placeholder=forms.placeholder(required=False),
    )
    risks = b.multiselect(
        ui.t("service.rule.risk"),
        enums.RISKS,
        default=list(rule.risks),
        format_func=ui.labeller("risk"),
        key=f"svc_risk_{k}",
        placeholder=forms.placeholder(required=False),
    )
    c, d = st.columns(2)
    low = c.number_input(ui.t("service.rule.min_age"), 0, 120, value=rule.min_age, step=1, key=f"svc_min_{k}")
    high = d.number_input(ui.t("service.rule.max_age"), 0, 120, value=rule.max_age, step=1, key=f"svc_max_{k}")
    extra: dict[str, object] = {}
    if "guardianship" in GROUP_CONDITIONS[group]:
        extra["guardianship"] = _guardianship_rule(rule, k)
    if "self_care" in GROUP_CONDITIONS[group]:
        extra.update(_elderly_rule(rule, k))
    if "categories" in GROUP_CONDITIONS[group]:
        extra.update(_disability_rule(rule, k))
    return Eligibility(
        subtypes=tuple(subtypes),
        risks=tuple(risks),
        min_age=int(low) if low is not None else None,
        max_age=int(high) if high is not None else None,
        **extra,  # type: ignore[arg-type]
    )


def _guardianship_rule(rule: Eligibility, k: str) -> tuple[str, ...]:
    """A child's condition: the guardianships the service is for."""
    return tuple(
        st.multiselect(
            ui.t("service.rule.guardianship"),
            enums.GUARDIANSHIP,
            default=list(rule.guardianship),
            format_func=ui.labeller("guardianship"),
            key=f"svc_g_{k}",
            placeholder=forms.placeholder(required=False),
        )
    )


def _elderly_rule(rule: Eligibility, k: str) -> dict[str, object]:
    """An elderly person's conditions: how far they care for themselves, how they live."""
    e, f = st.columns(2)
    self_care = e.multiselect(
        ui.t("service.rule.self_care_label"),
        enums.SELF_CARE,
        default=list(rule.self_care),
        format_func=ui.labeller("self_care"),
        key=f"svc_sc_{k}",
        placeholder=forms.placeholder(required=False),
    )
    living = f.multiselect(
        ui.t("service.rule.living"),
        enums.LIVING,
        default=list(rule.living),
        format_func=ui.labeller("living_arrangement"),
        key=f"svc_l_{k}",
        placeholder=forms.placeholder(required=False),
    )
    return {"self_care": tuple(self_care), "living": tuple(living)}


def _disability_rule(rule: Eligibility, k: str) -> dict[str, object]:
    """A disabled person's conditions: the categories, and the mildest grade the service is for."""
    e, f = st.columns(2)
    categories = e.multiselect(
        ui.t("service.rule.categories"),
        enums.DISABILITY_CATEGORIES,
        default=list(rule.categories),
        format_func=ui.labeller("category"),
        key=f"svc_c_{k}",
        placeholder=forms.placeholder(required=False),
    )
    grade = f.selectbox(
        ui.t("service.rule.max_grade"),
        [None, *enums.DISABILITY_GRADES],
        index=[None, *enums.DISABILITY_GRADES].index(rule.max_grade),
        format_func=lambda g: ui.t("service.rule.any") if g is None else ui.t("service.rule.grade", grade=g),
        key=f"svc_gr_{k}",
    )
    return {"categories": tuple(categories), "max_grade": grade}


def providers_tab(scope: Scope) -> None:
    """Who delivers services in the user's area; add or change one."""
    with ui.read() as session:
        table = q.providers(session, scope)
        names = {r.code: r.name for r in q.latest_services(session, scope_county(scope))}
        places = area_options(session, scope)
        county = scope_county(scope) or ""
    if table.empty:
        st.info(ui.t("service.providers_empty"))
    else:
        _providers_table(table, names)
    if not scope.can("provider.manage"):
        return
    mine = table[table["area_code"].map(scope.covers)] if not table.empty else table
    options = [None, *mine["id"].tolist()]
    chosen = st.selectbox(
        ui.t("service.provider_choose"),
        options,
        format_func=lambda i: (
            ui.t("service.provider_new") if i is None else str(mine.loc[mine["id"] == i, "name"].iloc[0])
        ),
        key="svc_provider_choice",
    )
    current = mine[mine["id"] == chosen].iloc[0] if chosen is not None else None
    key = f"provider_{chosen}"
    seen = forms.seen_version(key, int(current["version"]) if current is not None else 0)
    codes = list(places["code"])
    if county and scope.covers(county):
        codes = [county, *codes]
    area_names = {county: ui.t("service.whole_county"), **dict(zip(places["code"], places["name"], strict=True))}
    with st.form(f"provider_form_{chosen}_{seen}"):
        values = _provider_fields(current, codes, area_names, names)
        submitted = st.form_submit_button(ui.t("service.provider_save"), type="primary")
    if submitted:

        def save() -> object:
            with ui.write() as session:
                return services.save_provider(
                    session,
                    scope,
                    values=values,
                    provider_id=int(chosen) if chosen is not None else None,
                    seen_version=seen,
                )

        forms.save(key, save, ui.t("service.provider_saved", name=ui.md(values.name)))


def _providers_table(table: pd.DataFrame, names: dict[str, str]) -> None:
    """The providers: kind, area, phone, the services they deliver and whether they are active."""
    st.dataframe(
        pd.DataFrame(
            {
                ui.t("service.col.provider"): table["name"],
                ui.t("service.col.kind"): table["kind"].map(ui.labeller("provider_kind")),
                ui.t("service.col.area"): table["area"],
                ui.t("service.col.phone"): table["phone"],
                ui.t("service.col.services"): table["services"].map(lambda cs: "、".join(names.get(c, c) for c in cs)),
                ui.t("service.col.active"): table["active"].map(
                    lambda a: ui.t("service.yes") if a else ui.t("service.no")
                ),
            }
        ),
        hide_index=True,
        width="stretch",
    )


def _provider_fields(
    current: pd.Series | None, codes: list[str], area_names: dict[str, str], names: dict[str, str]
) -> services.ProviderInput:
    """Inside the form: the provider's kind, name, area, phone, services, note and whether it is active."""
    kind = st.selectbox(
        ui.t("service.col.kind"),
        enums.PROVIDER_KINDS,
        index=enums.PROVIDER_KINDS.index(current["kind"]) if current is not None else 0,
        format_func=ui.labeller("provider_kind"),
    )
    name = st.text_input(ui.t("service.col.provider"), value=current["name"] if current is not None else "")
    area = st.selectbox(
        ui.t("service.col.area"),
        codes,
        index=codes.index(current["area_code"]) if current is not None and current["area_code"] in codes else 0,
        format_func=lambda c: area_names.get(c, c),
    )
    phone = st.text_input(ui.t("service.col.phone"), value=current["phone"] if current is not None else "")
    offered = st.multiselect(
        ui.t("service.col.services"),
        list(names),
        default=[c for c in (current["services"] if current is not None else ()) if c in names],
        format_func=lambda c: names.get(c, c),
        placeholder=forms.placeholder(required=False),
    )
    note = st.text_input(ui.t("service.col.note"), value=current["note"] if current is not None else "")
    active = st.checkbox(ui.t("service.col.active"), value=bool(current["active"]) if current is not None else True)
    return services.ProviderInput(kind, name, area, phone, tuple(offered), note, active)


def pairings_tab(scope: Scope) -> None:
    """Current pairings (结对帮扶), a new one, and ending one."""
    with ui.read() as session:
        table = q.pairings(session, scope, ui.today())
        partners = q.providers(session, scope, active_only=True)
    partners = partners[partners["kind"].isin(enums.PAIRING_KINDS)]
    if table.empty:
        st.info(ui.t("service.pairings_empty"))
    else:
        _pairings_table(table)
    if not scope.can("pairing.edit"):
        return
    st.subheader(ui.t("service.pair_new"))
    if partners.empty:
        st.info(ui.t("service.no_partners"))
        return
    _new_pairing(scope, partners)
    if not table.empty:
        _end_pairing(scope, table)


def _pairings_table(table: pd.DataFrame) -> None:
    """The pairings: person, village, partner and its kind, from and to, note."""
    st.dataframe(
        pd.DataFrame(
            {
                ui.t("service.col.person"): table["person"],
                ui.t("service.col.village"): table["village"],
                ui.t("service.col.partner"): table["provider"],
                ui.t("service.col.kind"): table["provider_kind"].map(ui.labeller("provider_kind")),
                ui.t("service.col.from"): table["start_date"],
                ui.t("service.col.to"): table["end_date"].map(lambda d: d or "—"),
                ui.t("service.col.note"): table["note"],
            }
        ),
        hide_index=True,
        width="stretch",
    )


def _new_pairing(scope: Scope, partners: pd.DataFrame) -> None:
    """Pair a person found by name with a partner, from a day, with a note."""
    text = st.text_input(ui.t("service.find_person"), key="svc_pair_find")
    with ui.read() as session:
        found = q.pairable_persons(session, scope, text)
    labels = dict(found)
    person = st.selectbox(
        ui.t("service.col.person"),
        list(labels),
        format_func=ui.shown_as(labels),
        index=None,
        placeholder=ui.t("form.choose"),
        key="svc_pair_person",
    )
    partner_names = dict(zip(partners["id"], partners["name"], strict=True))
    partner = st.selectbox(
        ui.t("service.col.partner"), list(partner_names), format_func=ui.shown_as(partner_names), key="svc_pair_partner"
    )
    start = st.date_input(ui.t("service.col.from"), value=ui.today(), key="svc_pair_start")
    note = st.text_input(ui.t("service.col.note"), key="svc_pair_note")
    if (
        st.button(ui.t("service.pair_save"), type="primary", disabled=person is None, key="svc_pair_save")
        and person is not None
    ):
        person_id: int = person

        def save() -> object:
            with ui.write() as session:
                return services.pair(
                    session,
                    scope,
                    person_id=int(person_id),
                    provider_id=int(partner),
                    start_date=start,
                    note=note,
                    today=ui.today(),
                )

        forms.save(
            "pairing_new",
            save,
            ui.t(
                "service.paired", person=ui.md(labels.get(person_id, "")), partner=ui.md(partner_names.get(partner, ""))
            ),
        )


def _end_pairing(scope: Scope, table: pd.DataFrame) -> None:
    st.subheader(ui.t("service.pair_end"))
    texts = {int(r.id): f"{r.person} · {r.provider}" for r in table.itertuples()}
    chosen = st.selectbox(
        ui.t("service.pair_choose"), list(texts), format_func=ui.shown_as(texts), key="svc_pair_end_choice"
    )
    row = table[table["id"] == chosen].iloc[0]
    key = f"pairing_{chosen}"
    seen = forms.seen_version(key, int(row["version"]))
    end = st.date_input(ui.t("service.col.to"), value=ui.today(), key=f"svc_pair_end_{chosen}_{seen}")
    if st.button(ui.t("service.pair_end_save"), key=f"svc_pair_end_go_{chosen}"):

        def save() -> object:
            with ui.write() as session:
                return services.end_pairing(session, scope, pairing_id=int(chosen), end_date=end, seen_version=seen)

        forms.save(key, save, ui.t("service.pair_ended", text=ui.md(texts[int(chosen)])))

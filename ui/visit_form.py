"""The visit card and short visit form of 我的巡访, sized for a phone (one column, wide buttons)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import streamlit as st

import ui
from care.domain import clock, enums
from care.domain.errors import CareError, StaleRecord
from care.domain.visits import FINDING_CHOICES, NOTE_SUFFIX, SITUATIONS, areas_for
from care.queries.visits import DueEnrollment, HouseholdItem, VisitItem, WeekVisit
from care.scope import Scope
from care.services.persons import open_contact
from care.services.visits import MemberVisit, NeedInput, record_household_visit, record_visit, update_visit
from ui import forms

BadgeColour = Literal["green", "orange", "red", "blue"]
STATE_BADGE: dict[str, BadgeColour] = {"done": "green", "not_met": "orange", "overdue": "red", "due": "blue"}
FACTS_SHOWN = {
    "child": (("guardianship", "guardianship"), ("schooling", "schooling")),
    "elderly": (("living_arrangement", "living_arrangement"), ("self_care", "self_care")),
    "disabled": (("category", "category"), ("grade", "grade")),
}


def show_flash() -> None:
    """The kept message at the top, and as a toast too: after a save the phone may be scrolled far down."""
    kept = st.session_state.get(forms.FLASH_KEY)
    if kept and kept[0] in ("success", "warning"):
        st.toast(kept[1], icon=":material/check_circle:" if kept[0] == "success" else ":material/info:")
    forms.show_flash()


def _token_key(person_id: int) -> str:
    return f"visit_token_{person_id}"


def client_token(person_id: int) -> str:
    """The client token of this person's open form: one per form instance, new after a save."""
    return str(st.session_state.setdefault(_token_key(person_id), uuid.uuid4().hex))


def _facts_line(e: DueEnrollment) -> str:
    parts = [f"{ui.label('group', e.group)}·{ui.label('subtype', e.subtype)}"]
    parts += [ui.label(name, e.facts.get(fact)) for fact, name in FACTS_SHOWN[e.group] if e.facts.get(fact)]
    return " · ".join(p for p in parts if p)


def _checks(item: VisitItem) -> list[str]:
    found = [ui.t(r) for r in item.risk_reasons]
    found += [ui.t("my_visits.check_concern", area=ui.t(f"visit.area.{a}")) for a in item.concerns]
    found += [ui.t("my_visits.check_need", kind=ui.label("need_kind", k)) for k in item.open_needs]
    return found


def card(scope: Scope, item: VisitItem, today: dt.date) -> None:
    """One person to visit: who, where, key facts, what to check, and the visit form."""
    with st.container(border=True, key=f"visit_card_{item.person_id}"):
        st.markdown(
            f"**{ui.md(item.name)}** · {ui.label('sex', item.sex)} · {ui.t('person_file.age_value', age=item.age)}"
        )
        st.badge(ui.t(f"my_visits.state.{item.state}"), color=STATE_BADGE[item.state])
        st.caption(f"{ui.md(item.village)} · {ui.md(item.address) or '—'} · {ui.md(item.phone_masked) or '—'}")
        for e in item.enrollments:
            st.caption(f"{_facts_line(e)} · {ui.t('person_file.risk')}：{ui.label('risk', e.risk)}")
        due = item.next_due_on.isoformat() if item.next_due_on else "—"
        st.markdown(f"{ui.t('my_visits.next_due')}：**{due}**")
        if item.planned_day is not None:
            st.caption(ui.t("my_visits.planned_day", day=item.planned_day.isoformat()))
        checks = _checks(item)
        if checks:
            st.caption(ui.t("my_visits.what_to_check") + "：" + "；".join(checks))
        _contact(scope, item)
        _actions(scope, item, today)


def _contact_key(person_id: int, what: str) -> str:
    return f"contact_{what}_{person_id}"


def _open_contact(scope: Scope, person_id: int, what: str) -> None:
    """Read (and audit) the number or location once; it stays on the card for this session."""
    try:
        with ui.write(changes_data=False) as session:
            value = open_contact(session, scope, person_id=person_id, what=what)
    except CareError as error:
        forms.flash("error", error.message(ui.lang()))
        return
    st.session_state[_contact_key(person_id, what)] = value


# The phone's map app: geo: (Android and most apps), and AMap's web link, which opens the AMap
# app where it is installed; both take the stored WGS-84 position as it is.
AMAP_LINK = "https://uri.amap.com/marker?position={lon},{lat}&coordinate=wgs84&callnative=1"


def _contact(scope: Scope, item: VisitItem) -> None:
    """Tap to call and tap to navigate, each opened (and audited) only when asked for."""
    if not scope.can("visit.record"):
        return
    pid = item.person_id
    # One row on a phone too (columns would stack): the two taps sit side by side.
    row = st.container(horizontal=True, gap="small")
    call, where = row.container(width="stretch"), row.container(width="stretch")
    # No number in the file: said at once, never a button that can only say so after a tap.
    number = st.session_state.get(_contact_key(pid, "call"), None if item.phone_masked else "")
    if number is None:
        call.button(
            ui.t("my_visits.call"),
            key=f"call_{pid}",
            icon=":material/call:",
            width="stretch",
            on_click=_open_contact,
            args=(scope, pid, "call"),
            help=ui.t("my_visits.contact_help"),
        )
    elif number:
        call.link_button(
            ui.t("my_visits.call_number", phone=number), f"tel:{number}", icon=":material/call:", width="stretch"
        )
    else:
        call.caption(ui.t("my_visits.no_phone"))
    position = st.session_state.get(_contact_key(pid, "navigate"))
    if position is None:
        where.button(
            ui.t("my_visits.navigate"),
            key=f"navigate_{pid}",
            icon=":material/directions:",
            width="stretch",
            on_click=_open_contact,
            args=(scope, pid, "navigate"),
            help=ui.t("my_visits.contact_help"),
        )
    elif position:
        lat, lon = position.split(",")
        where.link_button(ui.t("my_visits.navigate_app"), f"geo:{lat},{lon}?q={lat},{lon}", width="stretch")
        where.link_button(ui.t("my_visits.navigate_amap"), AMAP_LINK.format(lat=lat, lon=lon), width="stretch")
    else:
        where.caption(ui.t("my_visits.no_location"))


OPEN_KEY = "my_visits_open"


def _toggle(what: tuple[str, int] | None) -> None:
    st.session_state[OPEN_KEY] = what


def _actions(scope: Scope, item: VisitItem, today: dt.date) -> None:
    """Only the form the user opened is drawn: a week of cards stays light on a phone."""
    opened = st.session_state.get(OPEN_KEY)
    pid = item.person_id
    if opened == ("record", pid):
        record_form(scope, item, today)
    elif opened == ("edit", pid) and item.this_week is not None:
        edit_form(scope, item.this_week, [e.group for e in item.enrollments], key=f"edit_visit_{pid}")
    if opened in (("record", pid), ("edit", pid)):
        st.button(ui.t("my_visits.close"), key=f"close_{pid}", width="stretch", on_click=_toggle, args=(None,))
        return
    st.button(
        ui.t("my_visits.record"),
        key=f"record_{pid}",
        icon=":material/edit_note:",
        type="primary" if item.state != "done" else "secondary",
        width="stretch",
        on_click=_toggle,
        args=(("record", pid),),
    )
    if item.this_week is not None and scope.can("visit.edit"):
        st.button(
            ui.t("my_visits.edit_this_week"),
            key=f"edit_{pid}",
            icon=":material/history:",
            width="stretch",
            on_click=_toggle,
            args=(("edit", pid),),
        )


def findings_fields(prefix: str, groups: Sequence[str], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """A short choice and a note per findings area of these groups (inside a form)."""
    findings: dict[str, Any] = {}
    for area in areas_for(groups):
        options: tuple[str | None, ...] = (None, *FINDING_CHOICES[area])
        current = defaults.get(area)
        findings[area] = st.selectbox(
            ui.t(f"visit.area.{area}"),
            options,
            index=options.index(current) if current in options else 0,
            format_func=lambda v: ui.t("visit_form.not_checked") if v is None else ui.t(f"enum.finding.{v}"),
            key=f"{prefix}_{area}",
        )
        findings[area + NOTE_SUFFIX] = st.text_input(
            ui.t("visit_form.area_note"),
            value=str(defaults.get(area + NOTE_SUFFIX, "")),
            max_chars=200,
            key=f"{prefix}_{area}_note",
            label_visibility="collapsed",
            placeholder=ui.t("visit_form.area_note"),
        )
    return findings


def _when(prefix: str, default: dt.datetime) -> dt.datetime:
    day = forms.date_input("form.visited_at", f"{prefix}_day", default.date())
    time = st.time_input(
        ui.t("visit_form.time"), value=default.time().replace(second=0), key=f"{prefix}_time", step=300
    )
    return dt.datetime.combine(day, time)


STATUSES = ("done", "not_met", "cancelled")


def _status(prefix: str, status: str) -> str:
    """The visit's outcome, chosen before the form: the form then shows only the fields that apply."""
    return str(
        st.radio(
            ui.t("form.status"),
            STATUSES,
            index=STATUSES.index(status) if status in STATUSES else 0,
            format_func=ui.labeller("visit_status"),
            horizontal=True,
            key=f"{prefix}_status",
        )
    )


def _mode(prefix: str, mode: str | None) -> str:
    modes = enums.VISIT_MODES
    return str(
        st.radio(
            ui.t("form.mode"),
            modes,
            index=modes.index(mode) if mode in modes else 0,
            format_func=ui.labeller("mode"),
            horizontal=True,
            key=f"{prefix}_mode",
        )
    )


@dataclass
class _Outcome:
    """What the form holds for the chosen status (the fields that do not apply stay empty)."""

    mode: str | None = None
    visited_at: dt.datetime | None = None
    cancel_reason: str = ""
    findings: dict[str, Any] = field(default_factory=dict)
    notes: str = ""


def _outcome_fields(prefix: str, status: str, groups: Sequence[str], visit: WeekVisit | None = None) -> _Outcome:
    """Inside the form: how and when for a visit made, the reason for one cancelled, findings when met."""
    if status == "cancelled":
        reason = visit.cancel_reason if visit is not None else ""
        return _Outcome(
            cancel_reason=st.text_input(ui.t("form.cancel_reason"), value=reason, max_chars=200, key=f"{prefix}_cancel")
        )
    mode = _mode(prefix, visit.mode if visit is not None else "home")
    visited_at = _when(prefix, (visit.visited_at if visit is not None else None) or clock.now())
    findings: dict[str, Any] = {}
    if status == "done":
        st.markdown(f"**{ui.t('form.findings')}**")
        findings = findings_fields(prefix, groups, visit.findings if visit is not None else {})
    return _Outcome(mode=mode, visited_at=visited_at, findings=findings)


def _notes(prefix: str, value: str = "") -> str:
    """The visit's notes (inside a form)."""
    return st.text_area(ui.t("visit_form.notes"), value=value, max_chars=2000, key=f"{prefix}_notes", height=80)


def _visit_fields(prefix: str, status: str, groups: Sequence[str], visit: WeekVisit | None = None) -> _Outcome:
    """Inside the form, what the record and the edit form both ask: the outcome's own fields, then the notes."""
    outcome = _outcome_fields(prefix, status, groups, visit)
    outcome.notes = _notes(prefix, visit.notes if visit is not None else "")
    return outcome


def record_form(scope: Scope, item: VisitItem, today: dt.date) -> None:
    """The short visit form: status first, then only what applies to it; notes, a need, a situation change."""
    token = client_token(item.person_id)
    prefix = f"visit_{item.person_id}_{token[:8]}"
    by_id = {e.id: e for e in item.enrollments}
    groups = [e.group for e in item.enrollments]
    status = _status(prefix, "done")
    with st.form(prefix):
        chosen = list(by_id)
        if len(by_id) > 1:
            chosen = st.multiselect(
                ui.t("form.enrollment_ids"),
                list(by_id),
                default=list(by_id),
                format_func=lambda i: ui.label("group", by_id[i].group),
                key=f"{prefix}_enrollments",
                placeholder=forms.placeholder(required=False),
            )
        outcome = _visit_fields(prefix, status, groups)
        need = _need_fields(prefix) if status != "cancelled" else None
        situation = _situation_field(prefix, groups) if status == "done" else None
        submitted = st.form_submit_button(ui.t("visit_form.save"), type="primary", width="stretch")
    if submitted:

        def run() -> Any:
            with ui.write() as session:
                return record_visit(
                    session,
                    scope,
                    person_id=item.person_id,
                    enrollment_ids=chosen,
                    status=status,
                    mode=outcome.mode,
                    visited_at=outcome.visited_at,
                    findings=outcome.findings,
                    notes=outcome.notes,
                    cancel_reason=outcome.cancel_reason,
                    needs=[need] if need else (),
                    situation=situation,
                    client_token=token,
                )

        _save_new(item, run)


def _need_fields(prefix: str) -> NeedInput | None:
    st.markdown(f"**{ui.t('visit_form.need')}**")
    kind = st.selectbox(
        ui.t("form.kind"),
        (None, *enums.NEED_KINDS),
        format_func=lambda k: ui.t("visit_form.no_need") if k is None else ui.label("need_kind", k),
        key=f"{prefix}_need_kind",
    )
    department = st.text_input(ui.t("form.department"), max_chars=64, key=f"{prefix}_need_dept")
    description = st.text_input(ui.t("form.description"), max_chars=1000, key=f"{prefix}_need_text")
    return NeedInput(kind, department, description) if kind else None


def _situation_field(prefix: str, groups: Sequence[str]) -> str | None:
    options: tuple[str | None, ...] = (None, *(s for s in SITUATIONS if s != "parent_returned" or "child" in groups))
    return st.selectbox(
        ui.t("form.situation"),
        options,
        format_func=lambda s: ui.t("visit_form.no_change") if s is None else ui.t(f"enum.situation.{s}"),
        key=f"{prefix}_situation",
    )


def _save_new(item: VisitItem, run: Any) -> None:
    try:
        saved = run()
    except CareError as error:
        ui.show_error(error)
        return
    st.session_state.pop(_token_key(item.person_id), None)
    st.session_state[OPEN_KEY] = None
    extra = "".join(" " + ui.message(k, p) for k, p in saved.warnings)
    forms.flash("warning" if saved.warnings else "success", ui.t("visit_form.saved", name=ui.md(item.name)) + extra)
    st.rerun()


def edit_form(scope: Scope, visit: WeekVisit, groups: Sequence[str], *, key: str) -> None:
    """Correct a recorded visit; the form carries the version it was loaded from."""
    seen = forms.seen_version(f"visit_{visit.id}", visit.version)
    prefix = f"{key}_{visit.id}_{seen}"
    status = _status(prefix, visit.status)
    with st.form(prefix):
        outcome = _visit_fields(prefix, status, groups, visit)
        submitted = st.form_submit_button(ui.t("form.save"), type="primary", width="stretch")
    if submitted:

        def run() -> Any:
            with ui.write() as session:
                return update_visit(
                    session,
                    scope,
                    visit_id=visit.id,
                    seen_version=seen,
                    status=status,
                    mode=outcome.mode,
                    visited_at=outcome.visited_at,
                    findings=outcome.findings,
                    notes=outcome.notes,
                    cancel_reason=outcome.cancel_reason,
                )

        _save_edit(f"visit_{visit.id}", run)


def readable_visit(values: Mapping[str, Any]) -> dict[str, Any]:
    """A visit's values labelled for the user (shown when their save met a newer version)."""
    visited = values.get("visited_at")
    return {
        ui.t("form.status"): ui.label("visit_status", values.get("status")),
        ui.t("form.mode"): ui.label("mode", values.get("mode")) or "—",
        ui.t("form.visited_at"): visited.strftime("%Y-%m-%d %H:%M") if visited else "—",
        ui.t("visit_form.notes"): values.get("notes") or "—",
        ui.t("form.cancel_reason"): values.get("cancel_reason") or "—",
    }


def _save_edit(key: str, run: Any) -> None:
    try:
        saved = run()
    except StaleRecord as stale:
        st.session_state[f"seen_{key}"] = stale.params.get("now", 0)
        forms.flash("error", stale.message(ui.lang()), readable_visit(stale.current))
        st.rerun()
    except CareError as error:
        ui.show_error(error)
        return
    st.session_state.pop(f"seen_{key}", None)
    st.session_state[OPEN_KEY] = None
    extra = "".join(" " + ui.message(k, p) for k, p in saved.warnings)
    forms.flash("warning" if saved.warnings else "success", ui.t("visit_form.updated") + extra)
    st.rerun()


def household_card(scope: Scope, item: HouseholdItem, today: dt.date) -> None:
    """One household to visit: its address, each member due (relation, groups, risk, due) and one form."""
    with st.container(border=True, key=f"household_card_{item.household_id}"):
        st.markdown(
            f"**{ui.t('household_visit.title', n=len(item.members))}** · {ui.md(item.village)}"
            f" · {ui.md(item.address) or '—'}"
        )
        st.badge(ui.t(f"my_visits.state.{item.state}"), color=STATE_BADGE[item.state])
        for relation, member in item.members:
            due = member.next_due_on.isoformat() if member.next_due_on else "—"
            st.markdown(
                f"**{ui.md(member.name)}**（{ui.label('relation', relation)}）· {ui.label('sex', member.sex)} · "
                f"{ui.t('person_file.age_value', age=member.age)} · {ui.t(f'my_visits.state.{member.state}')}"
            )
            for e in member.enrollments:
                st.caption(f"{_facts_line(e)} · {ui.t('person_file.risk')}：{ui.label('risk', e.risk)}")
            st.caption(f"{ui.t('my_visits.next_due')}：{due}")
            checks = _checks(member)
            if checks:
                st.caption(ui.t("my_visits.what_to_check") + "：" + "；".join(checks))
        if item.others:
            st.caption(ui.t("household_visit.others", n=item.others))
        if item.planned_day is not None:
            st.caption(ui.t("my_visits.planned_day", day=item.planned_day.isoformat()))
        _contact(scope, item.members[0][1])
        _household_actions(scope, item, today)


def _household_actions(scope: Scope, item: HouseholdItem, today: dt.date) -> None:
    opened = st.session_state.get(OPEN_KEY)
    hid = item.household_id
    if opened == ("household", hid):
        household_form(scope, item)
        st.button(
            ui.t("my_visits.close"), key=f"close_household_{hid}", width="stretch", on_click=_toggle, args=(None,)
        )
        return
    for _, member in item.members:
        if opened == ("edit", member.person_id) and member.this_week is not None:
            edit_form(
                scope, member.this_week, [e.group for e in member.enrollments], key=f"edit_visit_{member.person_id}"
            )
            st.button(
                ui.t("my_visits.close"),
                key=f"close_{member.person_id}",
                width="stretch",
                on_click=_toggle,
                args=(None,),
            )
            return
    st.button(
        ui.t("household_visit.record"),
        key=f"record_household_{hid}",
        icon=":material/edit_note:",
        type="primary" if item.state != "done" else "secondary",
        width="stretch",
        on_click=_toggle,
        args=(("household", hid),),
    )
    if scope.can("visit.edit"):
        for _, member in item.members:
            if member.this_week is not None:
                st.button(
                    ui.t("household_visit.edit_member", name=ui.md(member.name)),
                    key=f"edit_{member.person_id}",
                    icon=":material/history:",
                    width="stretch",
                    on_click=_toggle,
                    args=(("edit", member.person_id),),
                )


def _household_token_key(household_id: int) -> str:
    return f"household_visit_token_{household_id}"


def household_form(scope: Scope, item: HouseholdItem) -> None:
    """One form for the household: when, how and notes once; per member met or 未见到 and their findings."""
    token = str(st.session_state.setdefault(_household_token_key(item.household_id), uuid.uuid4().hex))
    prefix = f"household_{item.household_id}_{item.version}_{token[:8]}"
    with st.form(prefix):
        mode = _mode(prefix, "home")
        visited_at = _when(prefix, clock.now())
        members: list[tuple[VisitItem, bool, dict[str, Any], NeedInput | None]] = []
        for relation, member in item.members:
            st.markdown(f"**{ui.md(member.name)}**（{ui.label('relation', relation)}）")
            missed = st.checkbox(ui.t("household_visit.not_met"), key=f"{prefix}_{member.person_id}_missed")
            findings = findings_fields(f"{prefix}_{member.person_id}", [e.group for e in member.enrollments], {})
            need = _need_fields(f"{prefix}_{member.person_id}")
            members.append((member, missed, findings, need))
        notes = _notes(prefix)
        submitted = st.form_submit_button(ui.t("household_visit.save"), type="primary", width="stretch")
    if not submitted:
        return
    visits = [
        MemberVisit(
            person_id=member.person_id,
            enrollment_ids=[e.id for e in member.enrollments],
            status="not_met" if missed else "done",
            findings={} if missed else findings,
            need=need,
        )
        for member, missed, findings, need in members
    ]
    try:
        with ui.write() as session:
            saved = record_household_visit(
                session,
                scope,
                household_id=item.household_id,
                seen_version=item.version,
                members=visits,
                mode=mode,
                visited_at=visited_at,
                notes=notes,
                client_token=token,
            )
    except StaleRecord as stale:
        forms.flash("error", stale.message(ui.lang()))
        st.rerun()
    except CareError as error:
        ui.show_error(error)
        return
    st.session_state.pop(_household_token_key(item.household_id), None)
    st.session_state[OPEN_KEY] = None
    extra = "".join(" " + ui.message(k, p) for k, p in saved.warnings)
    forms.flash(
        "warning" if saved.warnings else "success", ui.t("household_visit.saved", names=ui.md(item.name)) + extra
    )
    st.rerun()

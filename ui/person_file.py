"""Rendering the sections of a person file (一人一档) from the plain data care/ returns."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
import streamlit as st

import ui
from care.domain.facts import FIELDS
from care.domain.ids import mask_certificate, mask_phone
from care.queries.person_file import EnrollmentView, GuardianView, PersonFile
from care.queries.timeline import Event, person_timeline
from care.scope import Scope
from ui import diary_view

LABELLED_FACTS = {
    "guardianship": "guardianship",
    "schooling": "schooling",
    "living_arrangement": "living_arrangement",
    "self_care": "self_care",
    "category": "category",
    "grade": "grade",
}


# Facts shown by a block of their own, not as a row of the facts table.
OWN_BLOCK_FACTS = ("guardian_person_id",)


RISK_BADGE: dict[str, Literal["red", "orange", "green"]] = {"high": "red", "medium": "orange", "low": "green"}


def _fact_text(name: str, value: Any, full_ids: bool = False) -> str:
    if name == "guardian_phone":
        return mask_phone(value) or "—"
    if name == "certificate_no":
        # Masked like the ID number; in full only while the audited whole-ID toggle is on.
        return (value if full_ids else mask_certificate(value)) or "—"
    if name in LABELLED_FACTS:
        return ui.label(LABELLED_FACTS[name], value)
    if isinstance(value, bool):
        return "✓" if value else "—"
    return str(value) if value not in (None, "") else "—"


def identity(pf: PersonFile, full_id: str | None) -> None:
    """The identity block: masked ID (or the full one when asked for and allowed) and contact."""
    st.subheader(ui.t("person_file.identity"))
    c1, c2, c3 = st.columns(3)
    c1.markdown(f"**{ui.t('person_file.id_number')}**")
    c1.code(full_id or pf.id_masked, language=None)
    c2.markdown(f"**{ui.t('person_file.sex')}** · {ui.label('sex', pf.sex)}")
    c2.markdown(
        f"**{ui.t('person_file.birth_date')}** · {pf.birth_date:%Y-%m-%d}"
        f"（{ui.t('person_file.age_value', age=pf.age)}）"
    )
    c3.markdown(f"**{ui.t('person_file.phone')}** · {ui.md(pf.phone_masked) if pf.phone_masked else '—'}")
    c3.markdown(f"**{ui.t('person_file.status')}** · {ui.label('status', pf.status)}")
    st.text(f"{ui.t('person_file.village')}：{pf.township} {pf.village}")
    st.text(f"{ui.t('person_file.address')}：{pf.address or '—'}")
    location = (
        f"{pf.lat:.6f}, {pf.lon:.6f}" if pf.lat is not None and pf.lon is not None else ui.t("person_file.no_location")
    )
    st.text(f"{ui.t('person_file.location')}：{location}")
    if pf.notes:
        st.text(f"{ui.t('person_file.notes')}：{pf.notes}")


def enrollment(e: EnrollmentView, today: Any, *, full_ids: bool = False) -> None:
    """One enrollment: group, risk and why, worker, due date, and the group's facts (the certificate
    number in full only with ``full_ids``, the audited whole-ID view)."""
    title = f"{ui.label('group', e.group)} · {ui.label('subtype', e.subtype)}"
    with st.container(border=True):
        head, risk = st.columns([3, 1])
        head.markdown(f"**{title}**")
        if e.end_date is not None:
            head.caption(
                ui.t("person_file.exited", end=e.end_date, reason=ui.label("exit_reason", e.exit_reason))
                + (f"（{ui.md(e.exit_note)}）" if e.exit_note else "")
            )
            return
        head.caption(ui.t("person_file.enrolled_since", start=e.start_date))
        colour = RISK_BADGE[e.risk]
        risk.badge(f"{ui.t('person_file.risk')}：{ui.label('risk', e.risk)}", color=colour)
        reasons = "、".join(ui.t(r) for r in e.risk_reasons)
        st.caption(
            f"{ui.t('person_file.risk_why')}：{reasons}"
            f"（{ui.t('person_file.risk_auto', risk=ui.label('risk', e.risk_auto))}）"
        )
        if e.risk_override:
            st.caption(
                ui.t(
                    "person_file.risk_override",
                    risk=ui.label("risk", e.risk_override),
                    reason=ui.md(e.risk_override_reason),
                )
            )
        c1, c2, c3 = st.columns(3)
        c1.markdown(
            f"**{ui.t('person_file.worker')}** · {ui.md(e.worker) if e.worker else ui.t('person_file.no_worker')}"
        )
        c2.markdown(f"**{ui.t('person_file.last_visit')}** · {e.last_visit_on or ui.t('person_file.never')}")
        due = f"{e.next_due_on}" if e.next_due_on else "—"
        if e.next_due_on and e.next_due_on < today:
            due += f" :red[{ui.t('person_file.overdue_badge')}]"
        c3.markdown(f"**{ui.t('person_file.next_due')}** · {due}")
        names = [n for n in FIELDS[e.group] if n not in OWN_BLOCK_FACTS]
        facts = pd.DataFrame(
            {
                ui.t("person_file.col_item"): [ui.t(f"fact.{n}") for n in names],
                ui.t("person_file.col_value"): [_fact_text(n, e.facts.get(n), full_ids) for n in names],
            }
        )
        st.dataframe(facts, hide_index=True, width="stretch")
        if e.guardian is not None:
            _guardian(e.id, e.guardian)


def _guardian(enrollment_id: int, g: GuardianView) -> None:
    """The guardian who is a household member: name, age, 70+ or disabled, and a button to their file."""
    notes = [ui.t("person_file.age_value", age=g.age)]
    if g.aged:
        notes.append(ui.t("person_file.guardian_aged"))
    if g.disabled:
        notes.append(ui.t("person_file.guardian_disabled"))
    text, button = st.columns([3, 1], vertical_alignment="center")
    text.markdown(f"**{ui.t('person_file.guardian_member')}** · {ui.md(g.name)}（{'，'.join(notes)}）")
    if not g.at_home:
        text.caption(ui.t("person_file.guardian_left"))
    if button.button(ui.t("person_file.guardian_open"), key=f"pf_guardian_{enrollment_id}", icon=":material/person:"):
        ui.open_person(g.person_id)


def _areas(names: tuple[str, ...]) -> str:
    return "、".join(ui.t(f"visit.area.{a}") for a in names)


def visits(pf: PersonFile) -> None:
    """The visit history, newest first."""
    st.subheader(ui.t("person_file.visits"))
    if not pf.visits:
        st.caption(ui.t("person_file.no_visits"))
        return
    rows = pd.DataFrame(pf.visits)
    st.dataframe(
        pd.DataFrame(
            {
                ui.t("person_file.col_visited_at"): rows["visited_at"],
                ui.t("person_file.col_status"): rows["status"].map(lambda s: ui.label("visit_status", s)),
                ui.t("person_file.col_mode"): rows["mode"].map(lambda m: ui.label("mode", m)),
                ui.t("person_file.col_groups"): rows["groups"].map(
                    lambda gs: "、".join(ui.label("group", g) for g in gs)
                ),
                ui.t("person_file.col_worker"): rows["worker"],
                ui.t("person_file.col_concerns"): rows["concerns"].map(
                    lambda cs: "、".join(ui.t(f"visit.area.{a}") for a in cs)
                ),
                ui.t("person_file.col_notes"): rows["notes"],
            }
        ),
        hide_index=True,
        width="stretch",
    )


def needs(pf: PersonFile) -> None:
    """Needs and referrals, open first."""
    st.subheader(ui.t("person_file.needs"))
    if not pf.needs:
        st.caption(ui.t("person_file.no_needs"))
        return
    rows = pd.DataFrame(pf.needs)
    st.dataframe(
        pd.DataFrame(
            {
                ui.t("person_file.col_kind"): rows["kind"].map(lambda k: ui.label("need_kind", k)),
                ui.t("person_file.col_status"): rows["status"].map(lambda s: ui.label("need_status", s)),
                ui.t("person_file.col_department"): rows["department"],
                ui.t("person_file.col_description"): rows["description"],
                ui.t("person_file.col_opened"): rows["opened_on"],
                ui.t("person_file.col_resolved"): rows["resolved_on"],
            }
        ),
        hide_index=True,
        width="stretch",
    )


def diary(pf: PersonFile) -> None:
    """The diary entries (民情日记) naming the person that the user may see."""
    diary_view.person_section(ui.current_scope(), pf.id)


def assignments(pf: PersonFile) -> None:
    """Who was responsible for which enrollment, and when (after the diary entries naming the person)."""
    diary(pf)
    if not pf.assignment_history:
        return
    groups = {e.id: e.group for e in pf.enrollments}
    with st.expander(ui.t("person_file.assignments")):
        rows = pd.DataFrame(pf.assignment_history)
        st.dataframe(
            pd.DataFrame(
                {
                    ui.t("person_file.col_groups"): rows["enrollment_id"].map(
                        lambda i: ui.label("group", groups.get(i))
                    ),
                    ui.t("person_file.col_worker"): rows["worker"],
                    ui.t("person_file.col_kind_worker"): rows["kind"].map(lambda k: ui.label("worker_kind", k)),
                    ui.t("person_file.col_start"): rows["start_date"],
                    ui.t("person_file.col_end"): rows["end_date"],
                }
            ),
            hide_index=True,
            width="stretch",
        )


def _event_text(event: Event) -> str:
    """One event in words: its coded facts labelled, its free text as it was typed."""
    codes = event.codes
    if event.kind == "visit":
        words = f"{ui.label('visit_status', codes[0])} · {ui.label('mode', codes[1]) or '—'}"
        return f"{words} · {event.text}" if event.text else words
    if event.kind in ("need", "need_resolved"):
        return f"{ui.label('need_kind', codes[0])} · {event.text}" if event.text else ui.label("need_kind", codes[0])
    if event.kind == "order":
        return f"{event.text} · {ui.label('order_source', codes[0])}"
    if event.kind == "plan":
        return ui.t("timeline.plan", revision=codes[1], status=ui.label("plan_status", codes[0]))
    if event.kind == "risk":
        old = ui.label("risk", codes[0]) if codes[0] else "—"
        return ui.t("timeline.risk", old=old, new=ui.label("risk", codes[1]), cause=ui.t(f"timeline.cause.{codes[2]}"))
    return event.text


def timeline(scope: Scope, person_id: int) -> None:
    """Visits, needs, services, plans and risk changes together, newest first."""
    with ui.read() as session:
        events = person_timeline(session, scope, person_id, ui.today())
    st.subheader(ui.t("timeline.title"))
    if not events:
        st.caption(ui.t("timeline.none"))
        return
    st.dataframe(
        pd.DataFrame(
            {
                ui.t("timeline.col_day"): [e.day for e in events],
                ui.t("timeline.col_kind"): [ui.t(f"timeline.kind.{e.kind}") for e in events],
                ui.t("timeline.col_what"): [_event_text(e) for e in events],
            }
        ),
        hide_index=True,
        width="stretch",
        height=min(420, 38 + 35 * len(events)),
    )

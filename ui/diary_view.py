"""The 民情日记 page's tabs: write an entry, list or search entries (and change one), a worker's timeline.

Entry texts and person names are typed by users: they are shown in tables and plain text only,
or through ``ui.md`` where Markdown reads them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

import ui
from care.domain import enums
from care.domain.errors import CareError, StaleRecord
from care.queries import diary as q
from care.scope import Scope
from care.services import diary as services
from ui import forms

FORM_KEY = "diary_form_n"
TIMELINE_DAYS = 30


def workers(scope: Scope) -> list[tuple[int, str]]:
    """The workers the user may write for or look at: (id, label)."""
    with ui.read() as session:
        return q.writable_workers(session, scope)


def _persons_text(persons: Sequence[q.PersonName], hidden: int) -> str:
    names = [p.name for p in persons]
    if hidden:
        names.append(ui.t("diary.hidden_persons", n=hidden))
    return "、".join(names) or "—"


def _save(key: str, action: Callable[[], Any], done_text: str) -> None:
    """Run a save; a stale version shows the newer entry, any other refusal its reason."""
    try:
        action()
    except StaleRecord as stale:
        st.session_state[f"seen_{key}"] = stale.params.get("now", 0)
        current = stale.current
        details = {
            ui.t("diary.col.day"): current.get("day", ""),
            ui.t("diary.col.kind"): ui.label("diary_kind", current.get("kind")),
            ui.t("diary.col.text"): current.get("text", ""),
        }
        forms.flash("error", stale.message(ui.lang()), details)
        st.rerun()
    except CareError as error:
        ui.show_error(error)
        return
    st.session_state.pop(f"seen_{key}", None)
    forms.flash("success", done_text)
    st.rerun()


def _person_picker(scope: Scope, key: str, chosen: Sequence[int] = ()) -> list[int]:
    """Persons to link: the user's own (a coordinator) or found by name; those already chosen stay listed."""
    text = st.text_input(ui.t("diary.find_person"), key=f"{key}_find")
    keep = [int(p) for p in st.session_state.get(key, chosen)]
    with ui.read() as session:
        found = q.person_choices(session, scope, text, include=keep, limit=200 if scope.assigned_only else 50)
    labels = dict(found)
    picked = st.multiselect(
        ui.t("diary.persons"),
        list(labels),
        default=[p for p in chosen if p in labels],
        format_func=lambda pid: labels.get(pid, str(pid)),
        key=key,
        placeholder=forms.placeholder(required=False),
    )
    return [int(p) for p in picked]


def _entry_fields(key: str, day: dt.date, kind: str, text: str) -> tuple[dt.date, str, str]:
    c1, c2 = st.columns(2)
    chosen_day = c1.date_input(ui.t("diary.day"), value=day, max_value=ui.today(), key=f"{key}_day")
    chosen_kind = c2.radio(
        ui.t("diary.kind"),
        enums.DIARY_KINDS,
        index=enums.DIARY_KINDS.index(kind),
        format_func=ui.labeller("diary_kind"),
        horizontal=True,
        key=f"{key}_kind",
    )
    body = st.text_area(
        ui.t("diary.text"), value=text, max_chars=services.TEXT_MAX, help=ui.t("diary.text_help"), key=f"{key}_text"
    )
    return chosen_day, str(chosen_kind), body


def write_tab(scope: Scope, staff: list[tuple[int, str]]) -> None:
    """The form for a new entry: a coordinator writes as their worker, a supervisor chooses one."""
    labels = dict(staff)
    n = st.session_state.setdefault(FORM_KEY, 0)
    key = f"diary_new_{n}"
    if scope.assigned_only:
        worker_id = scope.worker_id
        st.caption(ui.t("diary.writing_as", name=ui.md(labels.get(worker_id or 0, ""))))
    elif not staff:
        st.info(ui.t("diary.no_workers"))
        return
    else:
        worker_id = st.selectbox(
            ui.t("diary.worker"),
            list(labels),
            format_func=ui.shown_as(labels),
            index=None,
            key=f"{key}_worker",
            placeholder=forms.placeholder(),
        )
    day, kind, text = _entry_fields(key, ui.today(), "heard", "")
    persons = _person_picker(scope, f"{key}_persons")
    if st.button(ui.t("diary.save"), type="primary", key=f"{key}_save"):

        def add() -> object:
            with ui.write() as session:
                saved = services.add_entry(
                    session,
                    scope,
                    day=day,
                    kind=kind,
                    text=text,
                    worker_id=worker_id,
                    person_ids=persons,
                    today=ui.today(),
                )
            st.session_state[FORM_KEY] = n + 1
            return saved

        _save(key, add, ui.t("diary.saved"))


def _table(rows: list[q.DiaryRow], *, with_worker: bool) -> pd.DataFrame:
    columns: dict[str, list[Any]] = {
        ui.t("diary.col.day"): [r.day for r in rows],
        ui.t("diary.col.kind"): [ui.label("diary_kind", r.kind) for r in rows],
    }
    if with_worker:
        columns[ui.t("diary.col.worker")] = [r.worker for r in rows]
    columns[ui.t("diary.col.text")] = [r.text for r in rows]
    columns[ui.t("diary.col.persons")] = [_persons_text(r.persons, r.hidden_persons) for r in rows]
    columns[ui.t("diary.col.author")] = [r.author for r in rows]
    columns[ui.t("diary.col.updated")] = [f"{r.updated_at:%Y-%m-%d %H:%M}" for r in rows]
    return pd.DataFrame(columns)


def _filters(scope: Scope, staff: list[tuple[int, str]]) -> dict[str, Any]:
    labels = dict(staff)
    c1, c2 = st.columns(2)
    filters: dict[str, Any] = {"text": c1.text_input(ui.t("diary.search_text"), key="diary_q_text")}
    if not scope.assigned_only:
        filters["worker_id"] = c2.selectbox(
            ui.t("diary.worker"),
            [None, *labels],
            format_func=lambda w: labels.get(w, ui.t("register.all")),
            key="diary_q_worker",
        )
        find = c1.text_input(ui.t("diary.find_person"), key="diary_q_find")
        with ui.read() as session:
            found = dict(q.person_choices(session, scope, find))
        filters["person_id"] = c2.selectbox(
            ui.t("diary.search_person"),
            [None, *found],
            format_func=lambda p: found.get(p, ui.t("register.all")),
            key="diary_q_person",
        )
    d1, d2 = st.columns(2)
    filters["start"] = d1.date_input(ui.t("diary.start"), value=None, key="diary_q_start")
    filters["end"] = d2.date_input(ui.t("diary.end"), value=None, key="diary_q_end")
    return filters


def entries_tab(scope: Scope, staff: list[tuple[int, str]]) -> None:
    """The entries the user may see, narrowed by the filters; an entry of theirs can be changed."""
    filters = _filters(scope, staff)
    with ui.read() as session:
        rows = q.search(session, scope, **filters)
    if not rows:
        st.info(ui.t("diary.empty"))
        return
    st.caption(ui.t("diary.count", n=len(rows)))
    st.dataframe(_table(rows, with_worker=not scope.assigned_only), hide_index=True, width="stretch")
    if scope.can("diary.write"):
        _editor(scope, rows)


def _editor(scope: Scope, rows: list[q.DiaryRow]) -> None:
    by_id = {r.id: r for r in rows}
    st.subheader(ui.t("diary.edit"))
    choice = st.selectbox(
        ui.t("diary.choose_entry"),
        list(by_id),
        format_func=lambda i: f"{by_id[i].day} · {ui.label('diary_kind', by_id[i].kind)} · {by_id[i].text[:30]}",
        index=None,
        placeholder=ui.t("form.choose"),
        key="diary_edit_choice",
    )
    row = by_id.get(choice) if choice is not None else None
    if row is None:
        return
    key = f"diary_{row.id}"
    seen = forms.seen_version(key, row.version)
    k = f"diary_edit_{row.id}_{seen}"
    day, kind, text = _entry_fields(k, row.day, row.kind, row.text)
    persons = _person_picker(scope, f"{k}_persons", [p.id for p in row.persons])
    if row.hidden_persons:
        st.caption(ui.t("diary.hidden_persons", n=row.hidden_persons))
    save, remove = st.columns(2)
    if save.button(ui.t("diary.save_changes"), type="primary", key=f"{k}_save"):

        def update() -> object:
            with ui.write() as session:
                return services.update_entry(
                    session,
                    scope,
                    entry_id=row.id,
                    seen_version=seen,
                    day=day,
                    kind=kind,
                    text=text,
                    person_ids=persons,
                    today=ui.today(),
                )

        _save(key, update, ui.t("diary.updated"))
    sure = remove.checkbox(ui.t("diary.delete_confirm"), key=f"{k}_sure")
    if remove.button(ui.t("diary.delete"), disabled=not sure, key=f"{k}_delete"):

        def delete() -> object:
            with ui.write() as session:
                return services.delete_entry(session, scope, entry_id=row.id, seen_version=seen)

        _save(key, delete, ui.t("diary.deleted"))


def timeline_tab(scope: Scope, staff: list[tuple[int, str]]) -> None:
    """A worker's visits and diary entries of a span of days, by day."""
    labels = dict(staff)
    if not staff:
        st.info(ui.t("diary.no_workers"))
        return
    c1, c2, c3 = st.columns(3)
    if scope.assigned_only:
        worker_id = scope.worker_id
    else:
        worker_id = c1.selectbox(
            ui.t("diary.worker"), list(labels), format_func=ui.shown_as(labels), key="diary_tl_worker"
        )
    start = c2.date_input(
        ui.t("diary.start"), value=ui.today() - dt.timedelta(days=TIMELINE_DAYS), key="diary_tl_start"
    )
    end = c3.date_input(ui.t("diary.end"), value=ui.today(), key="diary_tl_end")
    if worker_id is None:
        return
    with ui.read() as session:
        rows = q.timeline(session, scope, worker_id=int(worker_id), start=start, end=end)
    if not rows:
        st.info(ui.t("diary.timeline_empty"))
        return
    st.dataframe(_timeline_table(rows), hide_index=True, width="stretch")


def _what(row: q.TimelineRow) -> str:
    if row.kind == "diary":
        return ui.label("diary_kind", row.entry_kind)
    return " · ".join(x for x in (ui.label("visit_status", row.status), ui.label("mode", row.mode)) if x)


def _timeline_table(rows: list[q.TimelineRow]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            ui.t("diary.col.day"): [r.day for r in rows],
            ui.t("diary.col.type"): [ui.t(f"diary.row.{r.kind}") for r in rows],
            ui.t("diary.col.kind"): [_what(r) for r in rows],
            ui.t("diary.col.persons"): [_persons_text(r.persons, r.hidden_persons) for r in rows],
            ui.t("diary.col.text"): [r.summary for r in rows],
        }
    )


def person_section(scope: Scope | None, person_id: int) -> None:
    """The diary entries naming this person that the user may see, for the person file."""
    if scope is None or not q.may_read(scope):
        return
    with ui.read() as session:
        rows = q.person_diary(session, scope, person_id)
    with st.expander(ui.t("diary.pf_title") + f"（{len(rows)}）"):
        if not rows:
            st.caption(ui.t("diary.pf_empty"))
            return
        st.dataframe(_table(rows, with_worker=True), hide_index=True, width="stretch")

"""The person file's care plans (一人一案) and service orders: the plan in force and its progress,
the revision under way with its approval, the orders and a new one."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

import ui
from care.domain import areas, enums, plans
from care.queries.plans import (
    EnrollmentPlans,
    ItemView,
    OrderSources,
    PersonPlans,
    PlanView,
    order_sources,
    person_plans,
    plans_to_act_on,
)
from care.queries.plans import orders as orders_list
from care.queries.service_list import ServiceRow, providers, service_list
from care.scope import Scope
from care.services import orders as order_service
from care.services import plans as plan_service
from ui import forms


def section(scope: Scope, person_id: int) -> None:
    """The plans of each active enrollment and the person's orders, with the actions the user may take."""
    today = ui.today()
    with ui.read() as session:
        found = person_plans(session, scope, person_id, today)
        # The person's county's list (a city viewer looks at persons of several counties).
        offered = service_list(session, today, areas.county_of(found.village_code) if found.village_code else None)
        known = providers(session, scope, active_only=True)
    # Only providers whose area holds the person's village are offered (the services refuse others).
    known = known[[areas.contains(str(a), found.village_code) for a in known["area_code"]]]
    st.subheader(ui.t("plan.title"))
    if not found.plans:
        st.caption(ui.t("plan.no_enrollment"))
    for slot in found.plans:
        _enrollment_plans(scope, person_id, slot, offered, known, today)
    _orders(scope, person_id, found, offered, known, today)


def _items_table(plan: PlanView) -> pd.DataFrame:
    return pd.DataFrame(
        {
            ui.t("plan.col.service"): [i.service_name for i in plan.items],
            ui.t("plan.col.frequency"): [
                ui.t("service.frequency", times=i.times, period=ui.label("period", i.period)) for i in plan.items
            ],
            ui.t("plan.col.provider"): [i.provider or "—" for i in plan.items],
            ui.t("plan.col.progress"): [f"{i.delivered} / {i.times}" for i in plan.items],
            ui.t("plan.col.note"): [i.note for i in plan.items],
        }
    )


def _enrollment_plans(
    scope: Scope, person_id: int, slot: EnrollmentPlans, offered: list[Any], known: pd.DataFrame, today: dt.date
) -> None:
    with st.container(border=True, key=f"plan_{slot.enrollment_id}"):
        st.markdown(f"**{ui.label('group', slot.group)}** · {ui.t('plan.revisions', n=slot.revisions)}")
        current = slot.current
        if current is None:
            st.warning(ui.t("plan.none_in_force"), icon=":material/assignment_late:")
        else:
            st.markdown(
                ui.t(
                    "plan.in_force",
                    revision=current.revision,
                    by=ui.md(current.decided_by or "—"),
                    day=current.decided_at.date().isoformat() if current.decided_at else "—",
                    review=current.review_on.isoformat(),
                )
            )
            for reason in current.review_reasons:
                st.warning(ui.t(reason), icon=":material/update:")
            st.markdown(ui.md(current.goals))
            st.dataframe(_items_table(current), hide_index=True, width="stretch")
            st.download_button(
                ui.t("plan.print"),
                data=_printer(scope, current.id),
                file_name=f"plan_{slot.enrollment_id}_r{current.revision}.pdf",
                mime="application/pdf",
                on_click="ignore",
                icon=":material/print:",
                key=f"plan_print_{current.id}",
            )
        pending = slot.pending
        if pending is not None:
            _pending(scope, slot, pending)
        if scope.can("plan.draft") and (pending is None or pending.status in ("draft", "returned")):
            _draft_form(scope, slot, pending or current, pending, offered, known, today)


def _pending(scope: Scope, slot: EnrollmentPlans, plan: PlanView) -> None:
    st.markdown(
        ui.t(
            "plan.pending",
            revision=plan.revision,
            status=ui.label("plan_status", plan.status),
            by=ui.md(plan.drafted_by),
        )
    )
    if plan.status == "returned" and plan.return_reason:
        st.error(ui.t("plan.returned_because", reason=ui.md(plan.return_reason)))
    if plan.status != "approved":
        st.caption(ui.md(plan.goals))
        st.dataframe(_items_table(plan), hide_index=True, width="stretch")
    key = f"plan_{plan.id}"
    seen = forms.seen_version(key, plan.version)
    submit = plan.status == "draft" and scope.can("plan.draft")
    if submit and st.button(ui.t("plan.submit"), key=f"plan_submit_{plan.id}", icon=":material/send:"):
        forms.save(
            key,
            lambda: _run(plan_service.submit_plan, plan_id=plan.id, seen_version=seen, scope=scope),
            ui.t("plan.submitted"),
        )
    if plan.status == "submitted" and scope.can("plan.approve"):
        left, right = st.columns(2)
        with left:
            if st.button(ui.t("plan.approve"), key=f"plan_approve_{plan.id}", type="primary", icon=":material/check:"):
                forms.save(
                    key,
                    lambda: _run(
                        plan_service.approve_plan, plan_id=plan.id, seen_version=seen, scope=scope, today=ui.today()
                    ),
                    ui.t("plan.approved"),
                )
        with right:
            reason = st.text_input(ui.t("plan.return_reason"), max_chars=plans.REASON_MAX, key=f"plan_reason_{plan.id}")
            if st.button(ui.t("plan.return"), key=f"plan_return_{plan.id}", icon=":material/undo:"):
                forms.save(
                    key,
                    lambda: _run(
                        plan_service.return_plan, plan_id=plan.id, seen_version=seen, scope=scope, reason=reason
                    ),
                    ui.t("plan.returned"),
                )


def _printer(scope: Scope, plan_id: int) -> Any:
    def build() -> bytes:
        with ui.write(changes_data=False) as session:
            return plan_service.print_plan(session, scope, plan_id=plan_id, lang=ui.lang(), today=ui.today())

    return build


def _run(action: Any, *, scope: Scope, **params: Any) -> Any:
    with ui.write() as session:
        return action(session, scope, **params)


def _provider_choices(known: pd.DataFrame, code: str, kinds: tuple[str, ...]) -> dict[int | None, str]:
    choices: dict[int | None, str] = {None: ui.t("plan.no_provider")}
    for row in known.itertuples():
        if code in row.services and row.kind in kinds:
            choices[int(row.id)] = f"{row.name}（{ui.label('provider_kind', row.kind)} · {row.area}）"
    return choices


def _draft_form(
    scope: Scope,
    slot: EnrollmentPlans,
    start: PlanView | None,
    pending: PlanView | None,
    offered: list[Any],
    known: pd.DataFrame,
    today: dt.date,
) -> None:
    """Draft a revision (from the plan in force, if any) or change the draft or returned one."""
    services = {r.code: r for r in offered if r.group == slot.group}
    title = ui.t("plan.edit_draft") if pending is not None else ui.t("plan.new_revision")
    with st.expander(title, icon=":material/edit_note:"):
        if not services:
            st.info(ui.t("plan.no_services"))
            return
        key = f"plan_form_{slot.enrollment_id}_{pending.id if pending else 0}"
        planned = {i.service_code: i for i in start.items} if start is not None else {}
        goals = st.text_area(
            ui.t("plan.goals"), value=start.goals if start else "", max_chars=plans.GOALS_MAX, key=f"{key}_goals"
        )
        latest = plans.latest_review(today)
        default = start.review_on if pending is not None and start is not None else latest
        review_on = st.date_input(
            ui.t("plan.review_on"),
            value=min(max(default, today + dt.timedelta(days=1)), latest),
            min_value=today + dt.timedelta(days=1),
            max_value=latest,
            key=f"{key}_review",
        )
        chosen = st.multiselect(
            ui.t("plan.services"),
            list(services),
            default=[c for c in planned if c in services],
            format_func=lambda c: services[c].name,
            key=f"{key}_services",
            placeholder=forms.placeholder(required=False),
        )
        items = [_planned_service(key, services[code], planned.get(code), known) for code in chosen]
        if st.button(ui.t("plan.save_draft"), key=f"{key}_save", type="primary", icon=":material/save:"):
            seen = forms.seen_version(key, pending.version) if pending is not None else 0
            forms.save(
                key,
                lambda: _run(
                    plan_service.save_draft,
                    scope=scope,
                    enrollment_id=slot.enrollment_id,
                    goals=goals,
                    review_on=review_on,
                    items=items,
                    plan_id=pending.id if pending is not None else None,
                    seen_version=seen,
                    today=ui.today(),
                ),
                ui.t("plan.draft_saved"),
            )


def _planned_service(
    key: str, row: ServiceRow, before: ItemView | None, known: pd.DataFrame
) -> plan_service.PlannedService:
    """One service of the drafted plan: how often, by which provider, with a note."""
    code = row.code
    st.markdown(f"**{ui.md(row.name)}**")
    a, b, c = st.columns(3)
    times = a.number_input(
        ui.t("service.times"), 1, 31, value=before.times if before else row.times, key=f"{key}_{code}_times"
    )
    period = b.selectbox(
        ui.t("service.period"),
        enums.SERVICE_PERIODS,
        index=enums.SERVICE_PERIODS.index(before.period if before else row.period),
        format_func=ui.labeller("period"),
        key=f"{key}_{code}_period",
    )
    choices = _provider_choices(known, code, row.provider_kinds)
    provider = c.selectbox(
        ui.t("plan.col.provider"), list(choices), format_func=choices.__getitem__, key=f"{key}_{code}_provider"
    )
    note = st.text_input(
        ui.t("plan.col.note"),
        value=before.note if before else "",
        max_chars=plans.NOTE_MAX,
        key=f"{key}_{code}_note",
    )
    return plan_service.PlannedService(code, int(times), str(period), provider, note)


ORDER_SHOWN = (
    "service",
    "source",
    "provider",
    "status",
    "requested_on",
    "due_on",
    "delivered_on",
    "satisfaction",
    "note",
)


def order_table(frame: pd.DataFrame, *, with_person: bool = False) -> pd.DataFrame:
    """Orders as a readable table (labels in the user's language, user text as plain cells)."""
    shown = pd.DataFrame()
    if with_person:
        shown[ui.t("order.col.name")] = frame["name"]
        shown[ui.t("order.col.village")] = frame["village"]
    for column in ORDER_SHOWN:
        values = frame[column]
        if column == "source":
            values = values.map(ui.labeller("order_source"))
        elif column == "status":
            values = [
                ui.label("order_status", s) + (f"（{ui.t('order.overdue')}）" if late else "")
                for s, late in zip(frame["status"], frame["overdue"], strict=True)
            ]
        elif column == "satisfaction":
            values = values.map(lambda s: ui.label("satisfaction", s) if s else "")
        else:
            # An order not yet delivered has no delivery day: an empty cell, not "None".
            values = values.map(
                lambda v: "" if v is None or v is pd.NaT or (isinstance(v, float) and pd.isna(v)) else v
            )
        shown[ui.t(f"order.col.{column}")] = values
    return shown


def _orders(
    scope: Scope, person_id: int, found: PersonPlans, offered: list[Any], known: pd.DataFrame, today: dt.date
) -> None:
    st.subheader(ui.t("order.title"))
    frame = found.orders
    if frame.empty:
        st.caption(ui.t("order.none"))
    else:
        late = int(frame["overdue"].sum())
        if late:
            st.warning(ui.t("order.overdue_count", n=late), icon=":material/alarm:")
        st.dataframe(order_table(frame), hide_index=True, width="stretch")
    if scope.can("order.update") and not frame.empty:
        move_form(scope, frame, key=f"order_move_{person_id}", known=known)
    if scope.can("order.create"):
        groups = {s.group for s in found.plans}
        _new_order(scope, person_id, found, [r for r in offered if r.group in groups], known, today)


def _new_order(
    scope: Scope, person_id: int, found: PersonPlans, offered: list[Any], known: pd.DataFrame, today: dt.date
) -> None:
    with st.expander(ui.t("order.new"), icon=":material/add_task:"):
        if not offered:
            st.info(ui.t("plan.no_services"))
            return
        by_code = {r.code: r for r in offered}
        key = f"order_new_{person_id}"
        token = str(st.session_state.setdefault(f"{key}_token", uuid.uuid4().hex))
        code = st.selectbox(
            ui.t("order.col.service"), list(by_code), format_func=lambda c: by_code[c].name, key=f"{key}_service"
        )
        row = by_code[code]
        with ui.read() as session:
            sources = order_sources(session, scope, person_id)
        kinds = ["phone", "plan"] + (["need"] if sources.needs else []) + (["visit"] if sources.visits else [])
        source = st.radio(
            ui.t("order.col.source"),
            kinds,
            format_func=ui.labeller("order_source"),
            horizontal=True,
            key=f"{key}_source",
        )
        link = _source_link(key, source, sources, found, row)
        due = st.date_input(
            ui.t("order.col.due_on"),
            value=today + dt.timedelta(days=plans.ORDER_DUE_DAYS),
            min_value=today,
            key=f"{key}_due",
        )
        choices = _provider_choices(known, code, row.provider_kinds)
        provider = st.selectbox(
            ui.t("order.col.provider"), list(choices), format_func=choices.__getitem__, key=f"{key}_provider"
        )
        note = st.text_area(ui.t("order.col.note"), max_chars=1000, height=70, key=f"{key}_note")
        if st.button(ui.t("order.raise"), key=f"{key}_save", type="primary", icon=":material/add_task:"):
            values = order_service.OrderInput(
                service_code=code,
                source=source,
                plan_id=link.plan_id,
                need_id=link.need_id,
                visit_id=link.visit_id,
                requested_by=link.requested_by,
                due_on=due,
                provider_id=provider,
                note=note,
            )
            _raise_order(scope, person_id, key, token, row, values)


@dataclass(frozen=True)
class _SourceLink:
    """What a new order is raised from: at most one of the need, the visit and the plan, or who called."""

    plan_id: int | None = None
    need_id: int | None = None
    visit_id: int | None = None
    requested_by: str = ""


def _source_link(key: str, source: str, sources: OrderSources, found: PersonPlans, row: ServiceRow) -> _SourceLink:
    """The need or the visit the order answers, the plan in force that holds the service, or who called."""
    if source == "need":
        needs = {n[0]: n for n in sources.needs}
        need_id = st.selectbox(
            ui.t("order.need"),
            list(needs),
            format_func=lambda i: f"{needs[i][3].isoformat()} {ui.label('need_kind', needs[i][1])} {needs[i][2][:40]}",
            key=f"{key}_need",
        )
        return _SourceLink(need_id=need_id)
    if source == "visit":
        visits = dict(sources.visits)
        visit_id = st.selectbox(
            ui.t("order.visit"),
            list(visits),
            format_func=lambda i: visits[i].strftime("%Y-%m-%d %H:%M"),
            key=f"{key}_visit",
        )
        return _SourceLink(visit_id=visit_id)
    if source == "plan":
        plan_id = next(
            (
                s.current.id
                for s in found.plans
                if s.group == row.group
                and s.current is not None
                and row.code in {i.service_code for i in s.current.items}
            ),
            None,
        )
        if plan_id is None:
            st.caption(ui.t("order.not_in_plan"))
        return _SourceLink(plan_id=plan_id)
    return _SourceLink(requested_by=st.text_input(ui.t("order.requested_by"), max_chars=64, key=f"{key}_caller"))


def _raise_order(
    scope: Scope, person_id: int, key: str, token: str, row: ServiceRow, values: order_service.OrderInput
) -> None:
    """Raise the order once under this form's token; the next form is a new one."""
    st.session_state.pop(f"{key}_token", None)
    forms.save(
        key,
        lambda: _run(
            order_service.raise_order,
            scope=scope,
            person_id=person_id,
            values=values,
            client_token=token,
            today=ui.today(),
        ),
        ui.t("order.raised", service=ui.md(row.name)),
    )


def move_form(scope: Scope, frame: pd.DataFrame, *, key: str, known: pd.DataFrame) -> None:
    """Move one order of ``frame``: assign, schedule, deliver (with the family's satisfaction), decline, cancel."""
    movable = frame[frame["status"].isin([s for s, moves in plans.ORDER_MOVES.items() if moves])]
    if movable.empty:
        return
    with st.expander(ui.t("order.move"), icon=":material/published_with_changes:"):
        labels = {
            int(r.order_id): f"#{r.order_id} {r.name} · {r.service} · {ui.label('order_status', r.status)}"
            for r in movable.itertuples()
        }
        order_id = st.selectbox(ui.t("order.choose"), list(labels), format_func=labels.__getitem__, key=f"{key}_order")
        row = movable[movable["order_id"] == order_id].iloc[0]
        to = st.selectbox(
            ui.t("order.to"),
            plans.ORDER_MOVES[row["status"]],
            format_func=ui.labeller("order_status"),
            key=f"{key}_to_{order_id}",
        )
        move = _move_fields(row, str(to), known, f"{key}_{order_id}")
        if st.button(ui.t("order.save_move"), key=f"{key}_save", type="primary"):
            seen = forms.seen_version(f"order_{order_id}", int(row["version"]))
            forms.save(
                f"order_{order_id}",
                lambda: _run(
                    order_service.move_order,
                    scope=scope,
                    order_id=int(order_id),
                    seen_version=seen,
                    move=move,
                    today=ui.today(),
                ),
                ui.t("order.moved", status=ui.label("order_status", to)),
            )


def _move_fields(row: pd.Series, to: str, known: pd.DataFrame, key: str) -> order_service.OrderMove:
    if to in ("assigned", "scheduled"):
        choices = {
            int(r.id): f"{r.name}（{ui.label('provider_kind', r.kind)}）"
            for r in known.itertuples()
            if row["service_code"] in r.services
        }
        current = row["provider_id"]
        options = list(choices)
        index = options.index(int(current)) if pd.notna(current) and int(current) in choices else 0
        if not options:
            st.caption(ui.t("order.no_provider"))
            return order_service.OrderMove(to)
        provider = st.selectbox(
            ui.t("order.col.provider"), options, index=index, format_func=choices.__getitem__, key=f"{key}_provider"
        )
        day = (
            st.date_input(ui.t("order.col.scheduled_on"), value=ui.today(), key=f"{key}_day")
            if to == "scheduled"
            else None
        )
        return order_service.OrderMove(to, provider_id=provider, scheduled_on=day)
    if to == "delivered":
        day = st.date_input(
            ui.t("order.col.delivered_on"), value=ui.today(), max_value=ui.today(), key=f"{key}_delivered"
        )
        who = st.text_input(ui.t("order.col.delivered_by"), max_chars=64, key=f"{key}_who")
        minutes = st.number_input(ui.t("order.col.minutes"), 0, 1440, value=0, key=f"{key}_minutes")
        satisfaction = st.selectbox(
            ui.t("order.col.satisfaction"),
            (None, *enums.SATISFACTION),
            format_func=lambda s: ui.t("order.not_asked") if s is None else ui.label("satisfaction", s),
            key=f"{key}_satisfaction",
        )
        note = st.text_area(
            ui.t("order.col.note"), value=str(row["note"] or ""), max_chars=1000, height=70, key=f"{key}_note"
        )
        return order_service.OrderMove(
            to, delivered_on=day, delivered_by=who, minutes=int(minutes) or None, satisfaction=satisfaction, note=note
        )
    reason = st.text_input(ui.t("order.reason"), max_chars=200, key=f"{key}_reason")
    return order_service.OrderMove(to, reason=reason)


def orders_tab(scope: Scope) -> None:
    """Every order of the persons the user may see: filtered by status or overdue, and moved."""
    today = ui.today()
    a, b = st.columns([3, 1])
    status = a.multiselect(
        ui.t("order.col.status"),
        enums.ORDER_STATUSES,
        default=list(enums.ORDER_OPEN),
        format_func=ui.labeller("order_status"),
        key="orders_status",
        placeholder=forms.placeholder(required=False),
    )
    overdue = b.toggle(ui.t("order.overdue_only"), key="orders_overdue")
    with ui.read() as session:
        frame = orders_list(session, scope, today, status=status, overdue_only=overdue)
        known = providers(session, scope, active_only=True)
    if frame.empty:
        st.info(ui.t("order.none"))
        return
    late = int(frame["overdue"].sum())
    if late:
        st.warning(ui.t("order.overdue_count", n=late), icon=":material/alarm:")
    st.dataframe(order_table(frame, with_person=True), hide_index=True, width="stretch")
    if scope.can("order.update"):
        move_form(scope, frame, key="orders_move", known=known)


def plans_tab(scope: Scope) -> None:
    """Plans waiting for the supervisor's decision and plans in force due for a review."""
    with ui.read() as session:
        frame = plans_to_act_on(session, scope, ui.today())
    if frame.empty:
        st.success(ui.t("plan.todo.none"))
        return
    st.caption(ui.t("plan.todo.help"))
    shown = pd.DataFrame(
        {
            ui.t("order.col.name"): frame["name"],
            ui.t("order.col.village"): frame["village"],
            ui.t("plan.col.group"): frame["group"].map(ui.labeller("group")),
            ui.t("plan.col.revision"): frame["revision"],
            ui.t("plan.col.status"): frame["status"].map(ui.labeller("plan_status")),
            ui.t("plan.review_on"): frame["review_on"],
            ui.t("plan.col.why"): ["；".join(ui.t(r) for r in reasons) for reasons in frame["reasons"]],
        }
    )
    picked = st.dataframe(
        shown, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row", key="plans_todo"
    )
    rows = picked.selection.rows if picked else []
    if rows:
        ui.open_person(int(frame.iloc[rows[0]]["person_id"]))

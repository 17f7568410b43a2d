"""Reads for care plans and service orders: a person's plans with their progress, the plans waiting
for a decision or a review, the orders list, and the county's service figures for a month."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from care.domain import areas, clock, enums, plans
from care.domain.reports import Month, ServiceSheets, parse_month
from care.queries.reports import check_area
from care.queries.scoping import in_area, in_scope, person_conditions
from care.queries.service_list import service_list, service_names
from care.scope import Scope
from db.models import Area, Assignment, CarePlan, Enrollment, Need, Pairing, Person, Provider, ServiceOrder, User, Visit

_CHUNK = 900  # under SQLite's bound-parameter limit


def assigned_enrollments(session: Session, scope: Scope, enrollment_ids: Sequence[int]) -> set[int]:
    """Of these enrollments, those currently assigned to the coordinator's worker."""
    today = clock.today()
    return set(
        session.scalars(
            select(Assignment.enrollment_id).where(
                Assignment.enrollment_id.in_(list(enrollment_ids)),
                Assignment.worker_id == scope.worker_id,
                Assignment.start_date <= today,
                or_(Assignment.end_date.is_(None), Assignment.end_date >= today),
            )
        )
    )


@dataclass(frozen=True)
class ItemView:
    """A planned service with its provider and how far it has come this period."""

    service_code: str
    service_name: str
    times: int
    period: str
    provider: str
    note: str
    delivered: int

    @property
    def met(self) -> bool:
        """Delivered as often as planned this period."""
        return self.delivered >= self.times


@dataclass(frozen=True)
class PlanView:
    """One revision of a plan as the person file shows it."""

    id: int
    revision: int
    status: str
    goals: str
    review_on: dt.date
    return_reason: str
    drafted_by: str
    decided_by: str
    decided_at: dt.datetime | None
    version: int
    items: tuple[ItemView, ...]
    review_reasons: tuple[str, ...] = ()


@dataclass
class EnrollmentPlans:
    """An enrollment's plan in force, the revision under way and how many revisions there are."""

    enrollment_id: int
    group: str
    risk: str
    current: PlanView | None = None
    pending: PlanView | None = None
    revisions: int = 0


@dataclass
class PersonPlans:
    """The person's plans per active enrollment, and their orders newest first."""

    plans: list[EnrollmentPlans] = field(default_factory=list)
    orders: pd.DataFrame = field(default_factory=pd.DataFrame)
    village_code: str = ""


def _names(session: Session, ids: set[int], model: Any, column: Any) -> dict[int, str]:
    if not ids:
        return {}
    return {int(k): str(v) for k, v in session.execute(select(model.id, column).where(model.id.in_(list(ids))))}


def person_plans(session: Session, scope: Scope, person_id: int, today: dt.date) -> PersonPlans:
    """Plans and orders of a person the user may see (callers have checked; nothing for anyone else)."""
    found = PersonPlans()
    village = session.scalar(select(Person.village_code).where(Person.id == person_id, *person_conditions(scope)))
    if village is None:
        return found
    found.village_code = village
    enrollments = session.scalars(
        select(Enrollment)
        .where(Enrollment.person_id == person_id, Enrollment.end_date.is_(None))
        .order_by(Enrollment.id)
    ).all()
    rows = session.scalars(
        select(CarePlan)
        .where(CarePlan.person_id == person_id)
        .options(selectinload(CarePlan.items))
        .order_by(CarePlan.revision)
    ).all()
    names = {r.code: r.name for r in service_list(session, today, areas.county_of(village))}
    providers = _names(
        session, {i.provider_id for p in rows for i in p.items if i.provider_id}, Provider, Provider.name
    )
    users = _names(
        session, {u for p in rows for u in (p.drafted_by, p.decided_by) if u is not None}, User, User.display_name
    )
    delivered = _delivered(session, person_id, today)
    by_enrollment = {e.id: EnrollmentPlans(e.id, e.group, e.risk) for e in enrollments}
    for plan in rows:
        slot = by_enrollment.get(plan.enrollment_id)
        if slot is None:
            continue
        slot.revisions += 1
        view = _view(plan, names, providers, users, delivered, today)
        if plan.status == "approved":
            state = plans.review_state(
                review_on=plan.review_on, risk_at_approval=plan.risk_at_approval, risk_now=slot.risk, today=today
            )
            slot.current = PlanView(**{**view.__dict__, "review_reasons": state.reasons})
        elif plan.status in ("draft", "submitted", "returned"):
            slot.pending = view
    found.plans = list(by_enrollment.values())
    found.orders = orders(session, scope, today, person_id=person_id)
    return found


def _delivered(session: Session, person_id: int, today: dt.date) -> dict[tuple[int, str], list[dt.date]]:
    start = dt.date(today.year - 1, 1, 1)
    rows = session.execute(
        select(ServiceOrder.enrollment_id, ServiceOrder.service_code, ServiceOrder.delivered_on).where(
            ServiceOrder.person_id == person_id,
            ServiceOrder.status == "delivered",
            ServiceOrder.delivered_on >= start,
        )
    )
    found: dict[tuple[int, str], list[dt.date]] = {}
    for eid, code, day in rows:
        if eid is not None and day is not None:
            found.setdefault((eid, code), []).append(day)
    return found


def _view(
    plan: CarePlan,
    names: dict[str, str],
    providers: dict[int, str],
    users: dict[int, str],
    delivered: dict[tuple[int, str], list[dt.date]],
    today: dt.date,
) -> PlanView:
    items = tuple(
        ItemView(
            service_code=i.service_code,
            service_name=names.get(i.service_code, i.service_code),
            times=i.times,
            period=i.period,
            provider=providers.get(i.provider_id, "") if i.provider_id else "",
            note=i.note,
            delivered=plans.progress(
                delivered.get((plan.enrollment_id, i.service_code), []), times=i.times, period=i.period, today=today
            ).delivered,
        )
        for i in plan.items
    )
    return PlanView(
        id=plan.id,
        revision=plan.revision,
        status=plan.status,
        goals=plan.goals,
        review_on=plan.review_on,
        return_reason=plan.return_reason,
        drafted_by=users.get(plan.drafted_by, "") if plan.drafted_by else "",
        decided_by=users.get(plan.decided_by, "") if plan.decided_by else "",
        decided_at=plan.decided_at,
        version=plan.version,
        items=items,
    )


PLAN_COLUMNS = [
    "plan_id",
    "person_id",
    "name",
    "village",
    "village_code",
    "group",
    "revision",
    "status",
    "review_on",
    "reasons",
]


def plans_to_act_on(session: Session, scope: Scope, today: dt.date) -> pd.DataFrame:
    """Plans submitted for a decision, and plans in force due for a review (by date or a changed
    risk), of persons the user may see: the supervisor's list."""
    stmt = (
        select(CarePlan, Person.name, Area.name, Person.village_code, Enrollment.group, Enrollment.risk)
        .join(Enrollment, Enrollment.id == CarePlan.enrollment_id)
        .join(Person, Person.id == CarePlan.person_id)
        .join(Area, Area.code == Person.village_code)
        .where(
            Enrollment.end_date.is_(None),
            or_(
                CarePlan.status == "submitted",
                and_(
                    CarePlan.status == "approved",
                    or_(CarePlan.review_on <= today, CarePlan.risk_at_approval != Enrollment.risk),
                ),
            ),
            *person_conditions(scope),
        )
        .order_by(CarePlan.status.desc(), CarePlan.review_on, CarePlan.id)
    )
    rows = []
    for plan, name, village, village_code, group, risk in session.execute(stmt):
        reasons: tuple[str, ...] = ("plan.todo.decide",)
        if plan.status == "approved":
            reasons = plans.review_state(
                review_on=plan.review_on, risk_at_approval=plan.risk_at_approval, risk_now=risk, today=today
            ).reasons
        rows.append(
            (
                plan.id,
                plan.person_id,
                name,
                village,
                village_code,
                group,
                plan.revision,
                plan.status,
                plan.review_on,
                reasons,
            )
        )
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


ORDER_COLUMNS = [
    "order_id",
    "person_id",
    "name",
    "village",
    "service_code",
    "service",
    "source",
    "provider",
    "status",
    "requested_on",
    "due_on",
    "scheduled_on",
    "delivered_on",
    "delivered_by",
    "minutes",
    "satisfaction",
    "reason",
    "note",
    "overdue",
    "version",
    "provider_id",
    "need_id",
]


def orders(
    session: Session,
    scope: Scope,
    today: dt.date,
    *,
    person_id: int | None = None,
    status: Sequence[str] = (),
    overdue_only: bool = False,
    limit: int = 500,
) -> pd.DataFrame:
    """Orders of persons the user may see (a coordinator: their own persons), newest first."""
    names = service_names(session, today, scope.prefix or "")
    stmt = (
        select(ServiceOrder, Person.name, Area.name, Provider.name)
        .join(Person, Person.id == ServiceOrder.person_id)
        .join(Area, Area.code == Person.village_code)
        .outerjoin(Provider, Provider.id == ServiceOrder.provider_id)
        .where(*person_conditions(scope))
        .order_by(ServiceOrder.id.desc())
        .limit(limit)
    )
    if person_id is not None:
        stmt = stmt.where(ServiceOrder.person_id == person_id)
    if status:
        stmt = stmt.where(ServiceOrder.status.in_(list(status)))
    if overdue_only:
        stmt = stmt.where(ServiceOrder.status.in_(enums.ORDER_OPEN), ServiceOrder.due_on < today)
    rows = [
        (
            o.id,
            o.person_id,
            name,
            village,
            o.service_code,
            names.get(o.service_code, o.service_code),
            o.source,
            provider or "",
            o.status,
            o.requested_on,
            o.due_on,
            o.scheduled_on,
            o.delivered_on,
            o.delivered_by,
            o.minutes,
            o.satisfaction,
            o.decline_reason,
            o.note,
            plans.is_overdue(o.status, o.due_on, today),
            o.version,
            o.provider_id,
            o.need_id,
        )
        for o, name, village, provider in session.execute(stmt)
    ]
    return pd.DataFrame(rows, columns=ORDER_COLUMNS)


@dataclass(frozen=True)
class ServiceFigures:
    """The month's service figures of an area (every count over persons the user may see)."""

    enrollments: int
    with_plan: int
    reviews_overdue: int
    delivered: int
    delivered_minutes: int
    opened: int
    open_now: int
    overdue_now: int
    rated: int
    satisfied: int
    persons: int
    paired: int
    by_service: pd.DataFrame
    by_provider: pd.DataFrame

    @property
    def plan_share(self) -> float | None:
        """Share of active enrollments with a plan in force."""
        return self.with_plan / self.enrollments if self.enrollments else None

    @property
    def reviewed_on_time_share(self) -> float | None:
        """Share of plans in force not past their review date."""
        return (self.with_plan - self.reviews_overdue) / self.with_plan if self.with_plan else None

    @property
    def satisfied_share(self) -> float | None:
        """Share of rated deliveries the family was satisfied with."""
        return self.satisfied / self.rated if self.rated else None

    @property
    def paired_share(self) -> float | None:
        """Share of persons on a register with a current pairing (结对帮扶)."""
        return self.paired / self.persons if self.persons else None


Where = Sequence[ColumnElement[bool]]


def _on_register(session: Session, where: Where) -> tuple[int, int]:
    """Active enrollments and the persons they belong to."""
    enrollments, persons = session.execute(
        select(func.count(), func.count(func.distinct(Enrollment.person_id)))
        .select_from(Enrollment)
        .join(Person, Person.id == Enrollment.person_id)
        .where(Enrollment.end_date.is_(None), Person.status == "active", *where)
    ).one()
    return int(enrollments or 0), int(persons or 0)


def _plans_in_force(session: Session, where: Where, today: dt.date) -> tuple[int, int]:
    """Approved plans of active enrollments, and how many of them are past their review date."""
    in_force = (
        select(func.count(), func.sum(case((CarePlan.review_on < today, 1), else_=0)))
        .select_from(CarePlan)
        .join(Enrollment, Enrollment.id == CarePlan.enrollment_id)
        .join(Person, Person.id == CarePlan.person_id)
        .where(CarePlan.status == "approved", Enrollment.end_date.is_(None), Person.status == "active", *where)
    )
    with_plan, overdue_reviews = session.execute(in_force).one()
    return int(with_plan or 0), int(overdue_reviews or 0)


def _order_counts(session: Session, where: Where, month: Month, today: dt.date) -> Sequence[Any]:
    """By service and provider: delivered (count, minutes, rated, satisfied), raised, open and overdue orders."""
    # One pass over the orders that count: delivered this month, raised this month, or still open.
    delivered = and_(
        ServiceOrder.status == "delivered",
        ServiceOrder.delivered_on >= month.first,
        ServiceOrder.delivered_on <= month.last,
    )
    raised = and_(ServiceOrder.requested_on >= month.first, ServiceOrder.requested_on <= month.last)
    still_open = ServiceOrder.status.in_(enums.ORDER_OPEN)

    def total(condition: Any, value: Any = 1) -> Any:
        return func.sum(case((condition, value), else_=0))

    return session.execute(
        select(
            ServiceOrder.service_code,
            ServiceOrder.provider_id,
            total(delivered),
            total(delivered, func.coalesce(ServiceOrder.minutes, 0)),
            total(and_(delivered, ServiceOrder.satisfaction.is_not(None))),
            total(and_(delivered, ServiceOrder.satisfaction == "satisfied")),
            total(raised),
            total(still_open),
            total(and_(still_open, ServiceOrder.due_on < today)),
        )
        .join(Person, Person.id == ServiceOrder.person_id)
        .where(or_(delivered, raised, still_open), *where)
        .group_by(ServiceOrder.service_code, ServiceOrder.provider_id)
    ).all()


def _paired_persons(session: Session, where: Where, today: dt.date) -> int:
    """Active persons with a current pairing (结对帮扶)."""
    paired = session.scalar(
        select(func.count(func.distinct(Pairing.person_id)))
        .join(Person, Person.id == Pairing.person_id)
        .where(
            Pairing.start_date <= today,
            or_(Pairing.end_date.is_(None), Pairing.end_date >= today),
            Person.status == "active",
            *where,
        )
    )
    return int(paired or 0)


def _deliveries_by(groups: Sequence[Any], providers: dict[int, str]) -> tuple[Counter[str], Counter[str]]:
    """Deliveries counted by service code and by provider name ('' for none named)."""
    by_service: Counter[str] = Counter()
    by_provider: Counter[str] = Counter()
    for code, provider, count, *_ in groups:
        if count:
            by_service[code] += int(count)
            by_provider[providers.get(provider, "") if provider is not None else ""] += int(count)
    return by_service, by_provider


def service_figures(session: Session, scope: Scope, *, prefix: str, month: Month, today: dt.date) -> ServiceFigures:
    """Plans in place and reviewed on time (today), deliveries and orders of the month, satisfaction
    and pairing coverage, for the area with ``prefix`` within the user's scope."""
    where = [*person_conditions(scope), in_area(Person.village_code, prefix)]
    enrollments, persons = _on_register(session, where)
    with_plan, overdue_reviews = _plans_in_force(session, where, today)
    groups = _order_counts(session, where, month, today)
    paired = _paired_persons(session, where, today)
    names = service_names(session, month.last, prefix)
    providers = _names(session, {pid for _, pid, *_ in groups if pid is not None}, Provider, Provider.name)
    sums = [sum(int(g[k] or 0) for g in groups) for k in range(2, 9)]
    by_service, by_provider = _deliveries_by(groups, providers)
    return ServiceFigures(
        enrollments=enrollments,
        with_plan=with_plan,
        reviews_overdue=overdue_reviews,
        delivered=sums[0],
        delivered_minutes=sums[1],
        opened=sums[4],
        open_now=sums[5],
        overdue_now=sums[6],
        rated=sums[2],
        satisfied=sums[3],
        persons=persons,
        paired=paired,
        by_service=pd.DataFrame(
            [(code, names.get(code, code), n) for code, n in by_service.most_common()],
            columns=["service_code", "service", "delivered"],
        ),
        by_provider=pd.DataFrame(
            [(name, n) for name, n in by_provider.most_common()], columns=["provider", "delivered"]
        ),
    )


# The lists behind the service figures, as report frames (columns labelled by rpt.col.<name>).
SERVICE_LISTS = ("orders_overdue", "orders_delivered", "plans_review_due", "high_risk_no_plan")


@dataclass(frozen=True)
class ServiceReport:
    """The month's service figures of an area with the lists behind them."""

    area_code: str
    month: str
    figures: ServiceFigures
    lists: dict[str, pd.DataFrame]


def service_report(
    session: Session,
    scope: Scope,
    *,
    month: str,
    area_code: str | None,
    today: dt.date,
    lists: Sequence[str] = SERVICE_LISTS,
) -> ServiceReport:
    """The service figures and the ``lists`` named, for the month and area (default: the user's
    own), scope-checked."""

    code = check_area(session, scope, area_code)
    chosen = parse_month(month, today=today)
    prefix = areas.prefix_of(code)
    figures = service_figures(session, scope, prefix=prefix, month=chosen, today=today)
    build = _ServiceLists(session, scope, prefix, chosen, today)
    return ServiceReport(code, chosen.label, figures, {name: getattr(build, name)() for name in lists})


class _ServiceLists:
    """The lists behind the service figures, each built only when asked for."""

    def __init__(self, session: Session, scope: Scope, prefix: str, month: Month, today: dt.date) -> None:
        self.session, self.scope, self.prefix, self.month, self.today = session, scope, prefix, month, today
        self.where = [*person_conditions(scope), in_area(Person.village_code, prefix)]
        self.names = service_names(session, month.last, prefix)

    def _orders(self, columns: list[Any], *conditions: Any) -> list[tuple[Any, ...]]:
        # Plain columns (no ORM objects): a county's month holds tens of thousands of deliveries.
        stmt = (
            select(ServiceOrder.person_id, Person.name, Area.name, ServiceOrder.service_code, Provider.name, *columns)
            .join(Person, Person.id == ServiceOrder.person_id)
            .join(Area, Area.code == Person.village_code)
            .outerjoin(Provider, Provider.id == ServiceOrder.provider_id)
            .where(*self.where, *conditions)
            .order_by(columns[0], ServiceOrder.id)
        )
        return [
            (pid, name, village, self.names.get(code, code), provider or "", *rest)
            for pid, name, village, code, provider, *rest in self.session.execute(stmt)
        ]

    def orders_overdue(self) -> pd.DataFrame:
        rows = self._orders(
            [ServiceOrder.due_on, ServiceOrder.status, ServiceOrder.requested_on],
            ServiceOrder.status.in_(enums.ORDER_OPEN),
            ServiceOrder.due_on < self.today,
        )
        return pd.DataFrame(
            [(*head, status, requested, due) for *head, due, status, requested in rows],
            columns=["person_id", "name", "village", "service", "provider", "order_status", "requested_on", "due_on"],
        )

    def orders_delivered(self) -> pd.DataFrame:
        rows = self._orders(
            [ServiceOrder.delivered_on, ServiceOrder.delivered_by, ServiceOrder.minutes, ServiceOrder.satisfaction],
            ServiceOrder.status == "delivered",
            ServiceOrder.delivered_on >= self.month.first,
            ServiceOrder.delivered_on <= self.month.last,
        )
        columns = ["person_id", "name", "village", "service", "provider"]
        return pd.DataFrame(rows, columns=[*columns, "delivered_on", "delivered_by", "minutes", "satisfaction"])

    def plans_review_due(self) -> pd.DataFrame:
        reviews = plans_to_act_on(self.session, self.scope, self.today)
        reviews = reviews[(reviews["status"] == "approved") & reviews["village_code"].str.startswith(self.prefix)]
        return pd.DataFrame(
            {
                "person_id": reviews["person_id"],
                "name": reviews["name"],
                "village": reviews["village"],
                "group": reviews["group"],
                "review_on": reviews["review_on"],
                "review_reason": [_review_code(r) for r in reviews["reasons"]],
            }
        )

    def high_risk_no_plan(self) -> pd.DataFrame:
        in_force = select(CarePlan.id).where(CarePlan.enrollment_id == Enrollment.id, CarePlan.status == "approved")
        rows = self.session.execute(
            select(Person.id, Person.name, Area.name, Enrollment.group, Enrollment.risk)
            .join(Person, Person.id == Enrollment.person_id)
            .join(Area, Area.code == Person.village_code)
            .where(
                Enrollment.end_date.is_(None),
                Enrollment.risk == "high",
                Person.status == "active",
                ~in_force.exists(),
                *self.where,
            )
            .order_by(Area.name, Person.name)
        ).all()
        return pd.DataFrame(rows, columns=["person_id", "name", "village", "group", "risk"])


def _review_code(reasons: tuple[str, ...]) -> str:
    """Why a plan is due for review, as one code: its date, a changed risk, or both."""
    by_date, by_risk = "plan.review.date" in reasons, "plan.review.risk" in reasons
    return "both" if by_date and by_risk else ("date" if by_date else "risk")


def service_kpis(figures: ServiceFigures) -> list[tuple[str, Any]]:
    """The figures as (catalog key, value) pairs in report order; shares as fractions (None: no base)."""
    return [
        ("report.service.plan_share", figures.plan_share),
        ("report.service.with_plan", figures.with_plan),
        ("report.service.reviewed_on_time", figures.reviewed_on_time_share),
        ("report.service.delivered", figures.delivered),
        ("report.service.minutes", figures.delivered_minutes),
        ("report.service.opened", figures.opened),
        ("report.service.open_now", figures.open_now),
        ("report.service.overdue_now", figures.overdue_now),
        ("report.service.satisfied", figures.satisfied_share),
        ("report.service.paired", figures.paired_share),
    ]


def service_sheets(found: ServiceReport) -> ServiceSheets:
    """The report as the workbook's service sheets take it."""
    return ServiceSheets(
        kpis=service_kpis(found.figures),
        by_service=found.figures.by_service.drop(columns=["service_code"]),
        by_provider=found.figures.by_provider,
        lists=found.lists,
    )


def service_alerts(session: Session, scope: Scope, today: dt.date) -> tuple[int, int]:
    """Orders past their due date and plans waiting for a decision, of persons the user may see.

    Both read the few open orders (submitted plans) first and keep those of persons in scope:
    ``person_id + 0`` keeps the database from looking up every person's orders by its index
    instead (three times slower for a county, and no faster for a township)."""
    overdue = session.scalar(
        select(func.count())
        .select_from(ServiceOrder)
        .where(
            ServiceOrder.status.in_(enums.ORDER_OPEN),
            ServiceOrder.due_on < today,
            in_scope(ServiceOrder.person_id + 0, scope),
        )
    )
    waiting = session.scalar(
        select(func.count())
        .select_from(CarePlan)
        .where(CarePlan.status == "submitted", in_scope(CarePlan.person_id + 0, scope))
    )
    return int(overdue or 0), int(waiting or 0)


@dataclass(frozen=True)
class OrderSources:
    """What an order for a person may be raised from besides the plan and a call: their open needs
    and their latest visits."""

    needs: list[tuple[int, str, str, dt.date]] = field(default_factory=list)
    visits: list[tuple[int, dt.datetime]] = field(default_factory=list)


def order_sources(session: Session, scope: Scope, person_id: int, *, visits: int = 5) -> OrderSources:
    """The person's open needs (oldest first) and latest visits made; nothing for anyone hidden."""
    visible = session.scalar(select(Person.id).where(Person.id == person_id, *person_conditions(scope)))
    if visible is None:
        return OrderSources()
    needs = session.execute(
        select(Need.id, Need.kind, Need.description, Need.opened_on)
        .where(Need.person_id == person_id, Need.status != "resolved")
        .order_by(Need.opened_on, Need.id)
    ).all()
    made = session.execute(
        select(Visit.id, Visit.visited_at)
        .where(Visit.person_id == person_id, Visit.status == "done", Visit.visited_at.is_not(None))
        .order_by(Visit.visited_at.desc())
        .limit(visits)
    ).all()
    return OrderSources([tuple(r) for r in needs], [tuple(r) for r in made])  # type: ignore[misc]

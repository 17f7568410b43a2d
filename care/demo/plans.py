"""The demo county's care plans (一人一案) and service orders: plans for most high-risk and some
medium-risk enrollments, approved over the last seven months (so some reviews are due), a few
under way or returned; the services they plan delivered over the last three months by the
providers of the person's township, with the family's satisfaction; some orders still open,
some of them overdue, and a few declined."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from care.demo.rows import Writer, row_writer
from care.domain import areas, clock, plans
from care.domain.service_rules import EnrollmentFacts, is_eligible, provider_fits
from care.queries.service_list import ServiceRow, service_list
from db.models import (
    CarePlan,
    ChildDetails,
    DisabledDetails,
    ElderlyDetails,
    Enrollment,
    Person,
    PlanService,
    Provider,
    ServiceOrder,
    User,
)

PLAN_SHARE = {"high": 0.85, "medium": 0.35, "low": 0.03}
UNDER_WAY_SHARE = 0.04  # revisions drafted, submitted or returned on top of the plan in force
DELIVERY_RATE = 0.75  # of planned deliveries that happened
DELIVERED_MONTHS = 3
OPEN_SHARE = 0.06  # plans with an order still open
SATISFACTION = (("satisfied", 70), ("fair", 22), ("unsatisfied", 8))
RATED_SHARE = 0.7
CHUNK = 5000
GOALS = {
    "child": ("保障按时上学，监护人履责", "每月了解学习和心理状况，落实课业辅导", "落实监护责任，改善居住条件"),
    "elderly": ("保障日常饮食和就医", "每周有人探望，防范独居风险", "落实助餐和助医服务"),
    "disabled": ("坚持康复训练，提升自理能力", "适配辅具，方便出行", "落实康复和家庭支持"),
}
DELIVERERS = ("王志愿", "李社工", "张队长", "杨医生", "吴干部", "潘老师")


def _facts(session: Session, today: dt.date, county_code: str) -> list[tuple[EnrollmentFacts, int, str]]:
    stmt = (
        select(
            Enrollment.id,
            Enrollment.group,
            Enrollment.subtype,
            Enrollment.risk,
            Enrollment.start_date,
            Person.id,
            Person.birth_date,
            Person.village_code,
            ChildDetails.guardianship,
            ElderlyDetails.self_care,
            ElderlyDetails.living_arrangement,
            DisabledDetails.category,
            DisabledDetails.grade,
        )
        .join(Person, Person.id == Enrollment.person_id)
        .outerjoin(ChildDetails, ChildDetails.enrollment_id == Enrollment.id)
        .outerjoin(ElderlyDetails, ElderlyDetails.enrollment_id == Enrollment.id)
        .outerjoin(DisabledDetails, DisabledDetails.enrollment_id == Enrollment.id)
        .where(
            Enrollment.county_code == county_code,
            Enrollment.end_date.is_(None),
            Person.status == "active",
            Person.deleted.is_(False),
        )
        .order_by(Enrollment.id)
    )
    found = []
    for eid, group, subtype, risk, _start, pid, born, village, guard, care, living, category, grade in session.execute(
        stmt
    ):
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        found.append(
            (EnrollmentFacts(eid, group, subtype, risk, age, guard, care, living, category, grade), pid, village)
        )
    return found


def build_plans_and_orders(
    session: Session, *, seed: int, today: dt.date, county_code: str, write: Writer | None = None
) -> dict[str, int]:
    """Fill one county's plans, planned services and orders (ids after those already written, by
    the county's own providers and logins); how many of each were written. ``write`` takes the
    rows (default: Core inserts)."""
    rng = random.Random(f"{seed}:plans")
    services = list(service_list(session, today, county_code))
    if not services:
        return {"plans": 0, "orders": 0}
    rows = _PlanRows(session, rng=rng, today=today, county_code=county_code, write=write or row_writer(session))
    for facts, pid, village in _facts(session, today, county_code):
        if rng.random() >= PLAN_SHARE.get(facts.risk, 0):
            continue
        eligible = [s for s in services if s.group == facts.group and is_eligible(s.group, s.eligibility, facts)]
        if not eligible:
            continue
        rows.add_plan(facts, pid, village, eligible)
        rows.flush()
    rows.flush(force=True)
    return rows.counts()


class _PlanRows:
    """One county's plan, planned-service and order rows as they are drawn, written CHUNK at a time."""

    def __init__(
        self, session: Session, *, rng: random.Random, today: dt.date, county_code: str, write: Writer
    ) -> None:
        self.rng = rng
        self.today = today
        self.write = write
        low, high = areas.prefix_bounds(areas.prefix_of(county_code))
        in_county = (Provider.area_code >= low) & (Provider.area_code < high)
        self.providers = session.scalars(
            select(Provider).where(Provider.active.is_(True), in_county).order_by(Provider.id)
        ).all()
        users: dict[str, int] = dict(
            session.execute(
                select(User.role, User.id).where(User.area_code >= low, User.area_code < high).order_by(User.id.desc())
            ).all()
        )
        self.drafter, self.approver = users.get("coordinator"), users.get("township")
        self.now = clock.now()
        self.plan_rows: list[dict[str, Any]] = []
        self.item_rows: list[dict[str, Any]] = []
        self.order_rows: list[dict[str, Any]] = []
        self.next_plan, self.next_item, self.next_order = (
            (session.scalar(select(func.max(model.id))) or 0) + 1 for model in (CarePlan, PlanService, ServiceOrder)
        )
        self.first_plan, self.first_order = self.next_plan, self.next_order

    def counts(self) -> dict[str, int]:
        """How many plans and orders were drawn."""
        return {"plans": self.next_plan - self.first_plan, "orders": self.next_order - self.first_order}

    def flush(self, force: bool = False) -> None:
        """Write the rows drawn so far once a kind reaches CHUNK (all of them when ``force``)."""
        # Plans before their items and orders, all at once: the orders point at the plans.
        if not force and max(len(self.plan_rows), len(self.item_rows), len(self.order_rows)) < CHUNK:
            return
        for model, rows in ((CarePlan, self.plan_rows), (PlanService, self.item_rows), (ServiceOrder, self.order_rows)):
            if rows:
                self.write(model, rows)
                rows.clear()

    def add_plan(self, facts: EnrollmentFacts, pid: int, village: str, eligible: list[ServiceRow]) -> None:
        """An approved plan of some of the ``eligible`` services with their deliveries; sometimes a
        revision under way, sometimes an order still open."""
        rng = self.rng
        chosen = rng.sample(eligible, min(len(eligible), rng.choice((1, 2, 2, 3))))
        approved = self.today - dt.timedelta(days=rng.randint(5, 215))
        plan_id = self.next_plan
        self.next_plan += 1
        self.plan_rows.append(self._plan_row(plan_id, facts, pid, 1, "approved", approved))
        for row in chosen:
            self._planned_service(plan_id, row, facts, pid, village, approved)
        if rng.random() < UNDER_WAY_SHARE:
            self._revision_under_way(facts, pid, chosen[0])
        if rng.random() < OPEN_SHARE:
            self._open_order(facts, pid, village, chosen[0])

    def _planned_service(
        self, plan_id: int, row: ServiceRow, facts: EnrollmentFacts, pid: int, village: str, approved: dt.date
    ) -> None:
        rng = self.rng
        providers_here = self._reaching(row.code, row.provider_kinds, village)
        provider = rng.choice(providers_here) if providers_here else None
        times = min(row.times, 4) if row.period in ("week", "month") else row.times
        self._item(plan_id, row.code, times, row.period, provider)
        for day in _deliveries(rng, self.today, approved, row.period, times):
            self._order(pid, facts.enrollment_id, plan_id, row.code, provider, **_delivered(rng, day, provider))

    def _revision_under_way(self, facts: EnrollmentFacts, pid: int, first: ServiceRow) -> None:
        status = self.rng.choice(("draft", "submitted", "submitted", "returned"))
        self.plan_rows.append(self._plan_row(self.next_plan, facts, pid, 2, status, self.today))
        self._item(self.next_plan, first.code, 1, first.period, None)
        self.next_plan += 1

    def _open_order(self, facts: EnrollmentFacts, pid: int, village: str, row: ServiceRow) -> None:
        rng = self.rng
        raised = self.today - dt.timedelta(days=rng.randint(0, 30))
        here = self._reaching(row.code, row.provider_kinds, village)
        provider = rng.choice(here) if here and rng.random() < 0.6 else None
        due_on = raised + dt.timedelta(days=plans.ORDER_DUE_DAYS)
        if rng.random() < 0.15:
            self._order(
                pid,
                facts.enrollment_id,
                None,
                row.code,
                provider,
                status="declined",
                requested_on=raised,
                due_on=due_on,
                decline_reason="家属表示暂不需要",
            )
        else:
            status = "assigned" if provider else "open"
            self._order(
                pid, facts.enrollment_id, None, row.code, provider, status=status, requested_on=raised, due_on=due_on
            )

    def _reaching(self, code: str, kinds: tuple[str, ...], village: str) -> list[Provider]:
        return [p for p in self.providers if provider_fits(p, code, kinds, village)]

    def _item(self, plan_id: int, code: str, times: int, period: str, provider: Provider | None) -> None:
        self.item_rows.append(
            {
                "id": self.next_item,
                "plan_id": plan_id,
                "service_code": code,
                "times": times,
                "period": period,
                "provider_id": provider.id if provider else None,
                "note": "",
            }
        )
        self.next_item += 1

    def _order(
        self, pid: int, eid: int, plan_id: int | None, code: str, provider: Provider | None, **values: Any
    ) -> None:
        self.order_rows.append(
            {
                "id": self.next_order,
                "person_id": pid,
                "enrollment_id": eid,
                "service_code": code,
                "source": "plan" if plan_id else "phone",
                "visit_id": None,
                "need_id": None,
                "plan_id": plan_id,
                "requested_by": "" if plan_id else "家属来电",
                "provider_id": provider.id if provider else None,
                "scheduled_on": None,
                "delivered_on": None,
                "delivered_by": "",
                "minutes": None,
                "note": "",
                "decline_reason": "",
                "satisfaction": None,
                "client_token": None,
                "created_by": self.drafter,
                "updated_by": self.drafter,
                "version": 1,
                "created_at": self.now,
                "updated_at": self.now,
                **values,
            }
        )
        self.next_order += 1

    def _plan_row(
        self, plan_id: int, facts: EnrollmentFacts, pid: int, revision: int, status: str, day: dt.date
    ) -> dict[str, Any]:
        decided = status in ("approved", "returned")
        at = dt.datetime.combine(day, dt.time(10, 0))
        return {
            "id": plan_id,
            "enrollment_id": facts.enrollment_id,
            "person_id": pid,
            "revision": revision,
            "status": status,
            "goals": self.rng.choice(GOALS[facts.group]),
            "review_on": plans.latest_review(day),
            "risk_at_approval": facts.risk if status == "approved" else None,
            "return_reason": "请写明每项服务的具体频次" if status == "returned" else "",
            "drafted_by": self.drafter,
            "submitted_at": at if status != "draft" else None,
            "decided_by": self.approver if decided else None,
            "decided_at": at if decided else None,
            "version": 1,
            "created_at": self.now,
            "updated_at": self.now,
        }


def _deliveries(rng: random.Random, today: dt.date, since: dt.date, period: str, times: int) -> list[dt.date]:
    """About DELIVERY_RATE of the planned deliveries of the last months, on working days."""
    start = max(since, today - dt.timedelta(days=30 * DELIVERED_MONTHS))
    days = (today - start).days
    per_day = times / {"week": 7, "month": 30, "quarter": 91, "year": 365}[period]
    expected = per_day * days * DELIVERY_RATE
    count = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
    found = []
    for _ in range(count):
        day = start + dt.timedelta(days=rng.randint(0, max(days - 1, 0)))
        if day.weekday() >= 5:
            day -= dt.timedelta(days=day.weekday() - 4)
        found.append(max(day, start))
    return found


def _delivered(rng: random.Random, day: dt.date, provider: Provider | None) -> dict[str, Any]:
    rated = rng.random() < RATED_SHARE
    options = [s for s, _ in SATISFACTION]
    weights = [w for _, w in SATISFACTION]
    return {
        "status": "delivered",
        "requested_on": day - dt.timedelta(days=rng.randint(0, 6)),
        "due_on": day + dt.timedelta(days=7),
        "delivered_on": day,
        "delivered_by": rng.choice(DELIVERERS)
        if provider is None
        else f"{provider.name[:12]}·{rng.choice(DELIVERERS)}",
        "minutes": rng.choice((30, 45, 60, 90, 120)),
        "satisfaction": rng.choices(options, weights)[0] if rated else None,
    }

"""The register list (对象台账): search, filters, pagination, within the user's scope."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from care.domain import areas, ids
from care.domain.enums import RISK_ORDER
from care.queries.scoping import in_area, in_county_of, person_conditions
from care.scope import Scope
from db.models import Area, Assignment, CarePlan, Enrollment, Person

PAGE_SIZE = 50


@dataclass(frozen=True)
class RegisterFilter:
    """What the user chose on the register page; empty values do not filter."""

    area_code: str | None = None
    group: str | None = None
    risk: str | None = None
    status: str | None = None
    overdue: bool = False
    # One of WORKLISTS: the persons behind a figure of the home page's worklist.
    worklist: str | None = None
    text: str = ""
    deleted: bool = False
    page: int = 1
    page_size: int = PAGE_SIZE


@dataclass(frozen=True)
class RegisterPage:
    """One page of the register and the total behind it."""

    rows: pd.DataFrame
    total: int
    page: int
    pages: int
    columns: list[str] = field(default_factory=list)


COLUMNS = [
    "person_id",
    "name",
    "sex",
    "age",
    "id_masked",
    "township",
    "village",
    "groups",
    "risk",
    "next_due_on",
    "overdue",
    "status",
    "deleted",
    "version",
]


def _active_enrollment(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    # IN over an uncorrelated subquery: computed once, then probed; a correlated EXISTS let
    # SQLite's planner scan every overdue enrollment once per person.
    return Person.id.in_(select(Enrollment.person_id).where(Enrollment.end_date.is_(None), *conditions))


# The home page's worklist: each a list of the register (persons with an active enrollment that is ...).
WORKLISTS = ("overdue", "unassigned", "never_visited", "high_risk_unvisited", "high_risk_no_plan")


def worklist_conditions(name: str, today: dt.date) -> list[ColumnElement[bool]]:
    """The enrollment conditions of one worklist."""
    if name == "overdue":
        return [Enrollment.next_due_on < today]
    if name == "unassigned":
        assigned = select(Assignment.id).where(Assignment.enrollment_id == Enrollment.id, Assignment.end_date.is_(None))
        return [~assigned.exists()]
    if name == "never_visited":
        return [Enrollment.last_visit_on.is_(None)]
    if name == "high_risk_unvisited":
        month_start = today.replace(day=1)
        return [
            Enrollment.risk == "high",
            or_(Enrollment.last_visit_on.is_(None), Enrollment.last_visit_on < month_start),
        ]
    in_force = select(CarePlan.id).where(CarePlan.enrollment_id == Enrollment.id, CarePlan.status == "approved")
    return [Enrollment.risk == "high", ~in_force.exists()]


def _text_condition(text: str) -> ColumnElement[bool] | None:
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return None
    compact = re.sub(r"\s+", "", text).upper()
    if re.fullmatch(r"\d{4,17}[\dX]?", compact):
        if len(compact) == 18:
            return Person.id_number == compact
        return Person.id_number.contains(compact, autoescape=True)
    return Person.name.contains(text, autoescape=True)


def _area_prefix(scope: Scope, flt: RegisterFilter) -> str | None:
    """The code prefix of the area the register lists: the filter's, else the user's."""
    return areas.prefix_of(flt.area_code) if flt.area_code and areas.is_code(flt.area_code) else scope.prefix


def _conditions(scope: Scope, flt: RegisterFilter, today: dt.date) -> list[ColumnElement[bool]]:
    conditions = person_conditions(scope, include_deleted=flt.deleted)
    if flt.deleted:
        conditions.append(Person.deleted.is_(True))
    if flt.area_code and areas.is_code(flt.area_code):
        conditions.append(in_area(Person.village_code, areas.prefix_of(flt.area_code)))
    if flt.status:
        conditions.append(Person.status == flt.status)
    enrollment_conditions = []
    if flt.group:
        enrollment_conditions.append(Enrollment.group == flt.group)
    if flt.risk:
        enrollment_conditions.append(Enrollment.risk == flt.risk)
    if flt.overdue:
        enrollment_conditions.append(Enrollment.next_due_on < today)
    if flt.worklist in WORKLISTS:
        enrollment_conditions.extend(worklist_conditions(flt.worklist, today))
    if enrollment_conditions:
        area = _area_prefix(scope, flt)
        conditions.append(_active_enrollment(in_county_of(Enrollment.county_code, area), *enrollment_conditions))
    text = _text_condition(flt.text)
    if text is not None:
        conditions.append(text)
    return conditions


def register_count(session: Session, scope: Scope, flt: RegisterFilter, today: dt.date) -> int:
    """How many persons match (the same conditions as the list)."""
    stmt: Select[Any] = select(func.count()).select_from(Person).where(*_conditions(scope, flt, today))
    return int(session.scalar(stmt) or 0)


def register_status_counts(session: Session, scope: Scope, flt: RegisterFilter, today: dt.date) -> dict[str, int]:
    """The matching persons by person status (active, moved, deceased ...), for the count's label."""
    stmt = select(Person.status, func.count()).where(*_conditions(scope, flt, today)).group_by(Person.status)
    return {str(status): int(n) for status, n in session.execute(stmt)}


def register_page(session: Session, scope: Scope, flt: RegisterFilter, today: dt.date) -> RegisterPage:
    """One page of matching persons, ordered by village and name, with groups, risk and due date."""
    total = register_count(session, scope, flt, today)
    size = max(1, min(flt.page_size, 200))
    pages = max(1, -(-total // size))
    page = min(max(1, flt.page), pages)
    village = Area.__table__.alias("village")
    township = Area.__table__.alias("township")
    stmt = (
        select(
            Person.id,
            Person.name,
            Person.sex,
            Person.birth_date,
            Person.id_number,
            Person.status,
            Person.deleted,
            Person.version,
            village.c.name,
            township.c.name,
        )
        .join(village, village.c.code == Person.village_code)
        .outerjoin(township, township.c.code == village.c.parent_code)
        .where(*_conditions(scope, flt, today))
        # The villages of the area only: walking every area in code order for the sort, the
        # database otherwise probes each of a city's thousands of villages against the page's persons.
        .where(in_area(village.c.code, _area_prefix(scope, flt) or ""))
        .order_by(Person.village_code, Person.name, Person.id)
        .limit(size)
        .offset((page - 1) * size)
    )
    people = session.execute(stmt).all()
    enrollments = _enrollments_of(session, [row[0] for row in people])
    records = []
    for pid, name, sex, birth, id_number, status, deleted, version, village_name, township_name in people:
        mine = enrollments.get(pid, [])
        due = min((e[2] for e in mine if e[2] is not None), default=None)
        records.append(
            {
                "person_id": pid,
                "name": name,
                "sex": sex,
                "age": ids.age_on(birth, today),
                "id_masked": ids.mask_id_number(id_number),
                "township": township_name or "",
                "village": village_name,
                "groups": [e[0] for e in mine],
                "risk": min((e[1] for e in mine), key=RISK_ORDER.__getitem__, default=None),
                "next_due_on": due,
                "overdue": due is not None and due < today,
                "status": status,
                "deleted": bool(deleted),
                "version": version,
            }
        )
    return RegisterPage(pd.DataFrame.from_records(records, columns=COLUMNS), total, page, pages, COLUMNS)


def _enrollments_of(session: Session, person_ids: list[int]) -> dict[int, list[tuple[str, str, dt.date | None]]]:
    if not person_ids:
        return {}
    rows = session.execute(
        select(Enrollment.person_id, Enrollment.group, Enrollment.risk, Enrollment.next_due_on)
        .where(Enrollment.person_id.in_(person_ids), Enrollment.end_date.is_(None))
        .order_by(Enrollment.person_id, Enrollment.group)
    )
    found: dict[int, list[tuple[str, str, dt.date | None]]] = {}
    for pid, group, risk, due in rows:
        found.setdefault(pid, []).append((group, risk, due))
    return found


def area_options(session: Session, scope: Scope) -> pd.DataFrame:
    """Townships and villages inside the user's area (current ones), for filters and forms; above a
    county, its counties too (a city's or a province's viewer picks the county first)."""
    if scope.sees_nothing or scope.prefix is None:
        return pd.DataFrame(columns=["code", "name", "level", "parent_code"])
    levels = ["county", "township", "village"] if areas.above_county(scope.area_code or "") else ["township", "village"]
    stmt = (
        select(Area.code, Area.name, Area.level, Area.parent_code)
        .where(in_area(Area.code, scope.prefix), Area.valid_to.is_(None), Area.level.in_(levels))
        .order_by(Area.code)
    )
    return pd.DataFrame(session.execute(stmt).all(), columns=["code", "name", "level", "parent_code"])


def area_name(session: Session, code: str | None) -> str | None:
    """The name of an area with its township for a village (e.g. '丹江镇 羊排村'), or None."""
    area = session.get(Area, code) if code else None
    if area is None:
        return None
    parent = session.get(Area, area.parent_code) if area.level == "village" and area.parent_code else None
    return f"{parent.name} {area.name}" if parent else area.name


def active_groups_condition(group: str) -> ColumnElement[bool]:
    """The person has an active enrollment in ``group`` (for callers building their own selects)."""
    return _active_enrollment(and_(Enrollment.group == group))

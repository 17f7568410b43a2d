"""The one place that turns a user's scope into SQL conditions. Every read goes through it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, and_, false, select
from sqlalchemy.orm import Session

from care.domain import areas, clock
from care.scope import Scope
from db.models import Assignment, Enrollment, Person, Worker


def in_area(column: Any, prefix: str) -> ColumnElement[bool]:
    """``column`` holds a code inside the area with this prefix (index-friendly range)."""
    low, high = areas.prefix_bounds(prefix)
    return and_(column >= low, column < high)


def in_county_of(column: Any, prefix: str | None) -> ColumnElement[bool]:
    """``column`` (a row's ``county_code``) is a county of the area with this prefix: the county
    itself for a township or village. One county's rows of enrollments and visits are one range of
    their county indexes, whatever else the database holds."""
    if not prefix:
        return false()
    county = prefix[: areas.PREFIX_LENGTH["county"]]
    if len(county) == areas.PREFIX_LENGTH["county"]:
        # One county: equality, which the planner estimates from the column's statistics (a range
        # looks far more selective to it than a tenth of the rows, and picks plans for a few rows).
        one_county: ColumnElement[bool] = column == county.ljust(12, "0")
        return one_county
    return in_area(column, county)


def assigned_to(worker_id: int, on: dt.date | None = None) -> ColumnElement[bool]:
    """The person has an active enrollment whose current assignment is this worker's."""
    on = on or clock.today()
    return Person.id.in_(
        select(Enrollment.person_id)
        .join(Assignment, Assignment.enrollment_id == Enrollment.id)
        .where(
            Enrollment.end_date.is_(None),
            Assignment.worker_id == worker_id,
            Assignment.start_date <= on,
            Assignment.end_date.is_(None) | (Assignment.end_date >= on),
        )
    )


def person_conditions(scope: Scope, *, include_deleted: bool = False) -> list[ColumnElement[bool]]:
    """WHERE conditions that keep exactly the persons this user may see (deny by default)."""
    if scope.sees_nothing or scope.prefix is None:
        return [false()]
    conditions: list[ColumnElement[bool]] = [in_area(Person.village_code, scope.prefix)]
    if not (include_deleted and scope.can("person.restore")):
        conditions.append(Person.deleted.is_(False))
    if scope.assigned_only and scope.worker_id is not None:
        conditions.append(assigned_to(scope.worker_id))
    return conditions


def in_scope(person_id: Any, scope: Scope) -> ColumnElement[bool]:
    """``person_id`` is a person this user may see, as a subquery on the persons: for a count over
    another table (enrollments, orders) the persons are then picked first, by the index on their
    village, instead of joining each row to its person."""
    visible: ColumnElement[bool] = person_id.in_(select(Person.id).where(*person_conditions(scope)))
    return visible


def visible_person(session: Session, scope: Scope, person_id: int, *, include_deleted: bool = False) -> Person | None:
    """The person with this id if the user may see it, else None (missing and hidden look alike)."""
    if not isinstance(person_id, int) or isinstance(person_id, bool):
        return None
    stmt = select(Person).where(Person.id == person_id, *person_conditions(scope, include_deleted=include_deleted))
    return session.scalar(stmt)


def visible_worker(session: Session, scope: Scope, worker_id: int) -> Worker | None:
    """The worker if it lies in the user's area (a coordinator: only their own), else None."""
    if scope.sees_nothing or scope.prefix is None or not isinstance(worker_id, int) or isinstance(worker_id, bool):
        return None
    if scope.assigned_only and worker_id != scope.worker_id:
        return None
    return session.scalar(select(Worker).where(Worker.id == worker_id, in_area(Worker.area_code, scope.prefix)))

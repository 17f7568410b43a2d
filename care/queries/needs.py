"""Needs and referrals as lists: the supervisor's open needs (oldest first) and one person's needs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from care.queries.scoping import in_scope, person_conditions, visible_person
from care.scope import Scope
from db.models import Area, Need, Person

OPEN_STATUSES = ("open", "in_progress")
LIST_LIMIT = 500
COLUMNS = [
    "id",
    "person_id",
    "name",
    "village",
    "kind",
    "department",
    "description",
    "status",
    "opened_on",
    "in_progress_on",
    "resolved_on",
    "days_open",
    "version",
]


def _frame(rows: list[tuple[Any, ...]], today: dt.date) -> pd.DataFrame:
    records = [
        {
            "id": nid,
            "person_id": pid,
            "name": name,
            "village": village,
            "kind": kind,
            "department": dept,
            "description": desc,
            "status": status,
            "opened_on": opened,
            "in_progress_on": started,
            "resolved_on": resolved,
            "days_open": ((resolved or today) - opened).days,
            "version": version,
        }
        for nid, pid, name, village, kind, dept, desc, status, opened, started, resolved, version in rows
    ]
    return pd.DataFrame(records, columns=COLUMNS)


def _select() -> Select[*tuple[Any, ...]]:
    return (
        select(
            Need.id,
            Need.person_id,
            Person.name,
            Area.name,
            Need.kind,
            Need.department,
            Need.description,
            Need.status,
            Need.opened_on,
            Need.in_progress_on,
            Need.resolved_on,
            Need.version,
        )
        .join(Person, Person.id == Need.person_id)
        .join(Area, Area.code == Person.village_code)
    )


def needs_list(
    session: Session,
    scope: Scope,
    today: dt.date,
    *,
    statuses: tuple[str, ...] = OPEN_STATUSES,
    kind: str | None = None,
    limit: int = LIST_LIMIT,
) -> pd.DataFrame:
    """Needs of the persons the user may see in these statuses, oldest first (at most ``limit``)."""
    stmt = _select().where(*person_conditions(scope), Need.status.in_(statuses))
    if kind:
        stmt = stmt.where(Need.kind == kind)
    rows = session.execute(stmt.order_by(Need.opened_on, Need.id).limit(limit)).all()
    return _frame([tuple(r) for r in rows], today)


def open_needs(session: Session, scope: Scope) -> int:
    """How many needs of the persons the user may see are open or in progress."""
    stmt = select(func.count()).select_from(Need).where(Need.status.in_(OPEN_STATUSES), in_scope(Need.person_id, scope))
    return int(session.scalar(stmt) or 0)


def person_needs(session: Session, scope: Scope, person_id: int, today: dt.date) -> pd.DataFrame:
    """One person's needs, open ones first then oldest first (empty when out of scope)."""
    if visible_person(session, scope, person_id) is None:
        return _frame([], today)
    stmt = _select().where(Need.person_id == person_id).order_by(Need.status == "resolved", Need.opened_on, Need.id)
    return _frame([tuple(r) for r in session.execute(stmt).all()], today)

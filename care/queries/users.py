"""Reads for the users tab: the logins an admin manages, and the areas and workers to give them."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from care.domain import clock
from care.queries.scoping import in_area
from care.scope import Scope
from db.models import Area, User, Worker

USER_COLUMNS = [
    "id",
    "username",
    "display_name",
    "role",
    "area_code",
    "area",
    "worker_id",
    "worker",
    "active",
    "must_change_password",
    "locked",
    "last_login_at",
    "version",
]


def users_table(session: Session, scope: Scope) -> pd.DataFrame:
    """Every login in the admin's area or with no area, by username (no password hashes)."""
    if not scope.can("user.manage") or scope.prefix is None:
        return pd.DataFrame(columns=USER_COLUMNS)
    area = aliased(Area)
    stmt = (
        select(
            User.id,
            User.username,
            User.display_name,
            User.role,
            User.area_code,
            area.name,
            User.worker_id,
            Worker.name,
            User.active,
            User.must_change_password,
            User.locked_until,
            User.last_login_at,
            User.version,
        )
        .outerjoin(area, area.code == User.area_code)
        .outerjoin(Worker, Worker.id == User.worker_id)
        .where(or_(User.area_code.is_(None), in_area(User.area_code, scope.prefix)))
        .order_by(User.username)
    )
    rows = session.execute(stmt).all()
    now = clock.now()
    table = pd.DataFrame(rows, columns=USER_COLUMNS)
    table["locked"] = [bool(until is not None and until > now) for until in table["locked"]]
    table["area"] = table["area"].fillna("")
    table["worker"] = table["worker"].fillna("")
    return table


def access_choices(session: Session, scope: Scope) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The current areas (county, townships, villages) and active workers an admin may give a login."""
    empty = pd.DataFrame(columns=["code", "name", "level"]), pd.DataFrame(columns=["id", "name", "kind", "area_code"])
    if not scope.can("user.manage") or scope.prefix is None:
        return empty
    area_rows = session.execute(
        select(Area.code, Area.name, Area.level)
        .where(in_area(Area.code, scope.prefix), Area.valid_to.is_(None))
        .order_by(Area.code)
    ).all()
    worker_rows = session.execute(
        select(Worker.id, Worker.name, Worker.kind, Worker.area_code)
        .where(in_area(Worker.area_code, scope.prefix), Worker.active.is_(True))
        .order_by(Worker.area_code, Worker.name)
    ).all()
    return (
        pd.DataFrame(area_rows, columns=["code", "name", "level"]),
        pd.DataFrame(worker_rows, columns=["id", "name", "kind", "area_code"]),
    )

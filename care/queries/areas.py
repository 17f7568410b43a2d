"""Reads about areas for the admin: the county's areas, past re-divisions, and persons' past villages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from care.queries.scoping import in_area
from care.scope import Scope
from db.models import Area, AreaChange, Person, PersonAreaHistory

AREA_COLUMNS = [
    "code",
    "name",
    "level",
    "parent_code",
    "lat",
    "lon",
    "has_boundary",
    "urban_rural",
    "persons",
    "valid_from",
    "valid_to",
    "replaced_by",
]
CHANGE_COLUMNS = [
    "id",
    "effective_on",
    "level",
    "target_code",
    "target_name",
    "old_codes",
    "persons",
    "workers",
    "users",
]


def county_areas(session: Session, scope: Scope, *, include_retired: bool = False) -> pd.DataFrame:
    """The areas in the user's area with persons on the registers (townships: their villages' sum)."""
    if scope.sees_nothing or scope.prefix is None:
        return pd.DataFrame(columns=AREA_COLUMNS)
    conditions = [in_area(Area.code, scope.prefix)]
    if not include_retired:
        conditions.append(Area.valid_to.is_(None))
    stmt = (
        select(
            Area.code,
            Area.name,
            Area.level,
            Area.parent_code,
            Area.lat,
            Area.lon,
            Area.boundary.is_not(None),
            Area.urban_rural,
            Area.valid_from,
            Area.valid_to,
            Area.replaced_by,
        )
        .where(*conditions)
        .order_by(Area.code)
    )
    rows = session.execute(stmt).all()
    counts = dict(
        session.execute(
            select(Person.village_code, func.count())
            .where(in_area(Person.village_code, scope.prefix), Person.deleted.is_(False))
            .group_by(Person.village_code)
        ).all()
    )
    records: list[dict[str, Any]] = []
    for code, name, level, parent, lat, lon, has_boundary, urban_rural, valid_from, valid_to, replaced_by in rows:
        if level == "village":
            persons = counts.get(code, 0)
        else:
            prefix = code[:9] if level == "township" else code[:6]
            persons = sum(n for village, n in counts.items() if village.startswith(prefix))
        records.append(
            {
                "code": code,
                "name": name,
                "level": level,
                "parent_code": parent,
                "lat": lat,
                "lon": lon,
                "has_boundary": bool(has_boundary),
                "urban_rural": urban_rural,
                "persons": int(persons),
                "valid_from": valid_from,
                "valid_to": valid_to,
                "replaced_by": replaced_by,
            }
        )
    return pd.DataFrame(records, columns=AREA_COLUMNS)


def area_changes(session: Session, scope: Scope) -> pd.DataFrame:
    """Past re-divisions inside the user's area, newest first."""
    if scope.sees_nothing or scope.prefix is None:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    stmt = (
        select(AreaChange, Area.name)
        .join(Area, Area.code == AreaChange.target_code)
        .where(in_area(AreaChange.target_code, scope.prefix))
        .order_by(AreaChange.id.desc())
    )
    records = [
        {
            "id": change.id,
            "effective_on": change.effective_on,
            "level": change.level,
            "target_code": change.target_code,
            "target_name": name,
            "old_codes": sorted(old for old, new in change.code_map.items() if new == change.target_code),
            "persons": int(change.counts.get("persons", 0)),
            "workers": int(change.counts.get("workers", 0)),
            "users": int(change.counts.get("users", 0)),
        }
        for change, name in session.execute(stmt)
    ]
    return pd.DataFrame(records, columns=CHANGE_COLUMNS)


def village_on(day: dt.date) -> ColumnElement[str]:
    """SQL for the village a person was registered in on ``day`` (their current one unless a merge moved them since).

    A history row says "in this village until that day"; the earliest one after ``day`` wins.
    """
    earlier = (
        select(PersonAreaHistory.village_code)
        .where(PersonAreaHistory.person_id == Person.id, PersonAreaHistory.until > day)
        .order_by(PersonAreaHistory.until, PersonAreaHistory.id)
        .limit(1)
        .correlate(Person)
        .scalar_subquery()
    )
    return func.coalesce(earlier, Person.village_code)


def successor(session: Session, code: str) -> str:
    """The current code an old code's records live under now (itself when it was never replaced)."""
    seen = {code}
    while True:
        replaced_by = session.scalar(select(Area.replaced_by).where(Area.code == code))
        if replaced_by is None or replaced_by in seen:
            return code
        seen.add(replaced_by)
        code = replaced_by

"""Reading settings: a county's own value, else the installation's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from care.domain import areas
from care.scope import Scope
from db.models import Area, CountySetting, Setting


def setting_value(session: Session, key: str, county_code: str | None) -> str | None:
    """The value of ``key`` for this county, else the installation's (None when neither is set).

    ``county_code`` None asks for the installation's value only (a city's or province's map).
    """
    if county_code:
        row = session.get(CountySetting, (county_code, key))
        if row is not None:
            return row.value
    found = session.get(Setting, key)
    return found.value if found is not None else None


def county_of_area(area_code: str | None) -> str | None:
    """The county whose settings apply to an area (None for a city, a province or no area)."""
    if area_code is None or not areas.is_code(area_code) or areas.above_county(area_code):
        return None
    return areas.county_of(area_code)


def scope_county(scope: Scope) -> str | None:
    """The county whose settings apply to this user's work (None above the counties)."""
    return county_of_area(scope.area_code)


def counties(session: Session, prefix: str = "") -> list[str]:
    """The current counties' codes inside the area with this prefix (all of them by default), in order."""
    low, high = areas.prefix_bounds(prefix)
    stmt = select(Area.code).where(Area.level == "county", Area.valid_to.is_(None), Area.code >= low, Area.code < high)
    return list(session.scalars(stmt.order_by(Area.code)))


def only_county(session: Session) -> str | None:
    """The county when the database holds exactly one (what a command line without --county means)."""
    found = counties(session)
    return found[0] if len(found) == 1 else None

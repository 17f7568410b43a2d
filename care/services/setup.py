"""First run of a real deployment: the county's own area and its first administrator."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from care import areas, audit, auth, clock
from care.errors import ValidationError
from care.services.due import ensure_default_policy
from db.models import Area, User


def has_users(session: Session) -> bool:
    """Whether anyone can log in yet (an empty database offers set-up instead of a login)."""
    return bool(session.scalar(select(func.count()).select_from(User)))


def initialise_county(session: Session, *, county_code: str, county_name: str, username: str, password: str) -> None:
    """Create the county area, its default visit policy and the first administrator."""
    if has_users(session):
        raise ValidationError("setup.already_done")
    county_code = county_code.strip()
    if not areas.is_code(county_code) or areas.level_of(county_code) != "county":
        raise ValidationError("setup.not_county_code", field="county_code")
    name = county_name.strip()
    if not name:
        raise ValidationError("person.name_required", field="county_name")
    if session.get(Area, county_code) is None:
        session.add(Area(code=county_code, name=name[:64], level="county", valid_from=clock.today()))
        session.flush()
    ensure_default_policy(session, county_code=county_code)
    user = auth.create_user(session, username=username, password=password, role="admin", area_code=county_code)
    audit.record(session, scope=auth.scope_of(user), action="setup", entity="area", entity_id=county_code)

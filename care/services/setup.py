"""First run of a real deployment: the county's own area and its first administrator."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from care import audit, auth
from care.domain import areas, clock
from care.domain.errors import ValidationError
from care.services.due import ensure_default_policy
from care.services.service_list import seed_default_services
from db.models import Area, User


def has_users(session: Session) -> bool:
    """Whether anyone can log in yet (an empty database offers set-up instead of a login)."""
    return bool(session.scalar(select(func.count()).select_from(User)))


def initialise_county(session: Session, *, county_code: str, county_name: str, username: str, password: str) -> None:
    """Create the county area, its default visit policy and the first administrator."""
    if has_users(session):
        raise ValidationError("setup.already_done")
    _county_with_admin(session, county_code=county_code, county_name=county_name, username=username, password=password)


def add_county(
    session: Session,
    *,
    county_code: str,
    county_name: str,
    username: str,
    password: str,
    city_name: str = "",
    province_name: str = "",
) -> None:
    """Another county in a database that already holds one (an operator's command): its area under
    its city and province (created with these names when missing), its default visit policy and
    service list, and its first administrator, who sees that county only. Audited."""
    county_code = county_code.strip()
    if not areas.is_code(county_code) or areas.level_of(county_code) != "county":
        raise ValidationError("setup.not_county_code", field="county_code")
    if session.get(Area, county_code) is not None:
        raise ValidationError("setup.county_exists", field="county_code", code=county_code)
    parents = [(areas.parent_of(county_code), city_name, "city")]
    parents.append((areas.parent_of(parents[0][0] or ""), province_name, "province"))
    for code, name, level in reversed(parents):
        if code is not None and session.get(Area, code) is None:
            if not name.strip():
                raise ValidationError("setup.parent_name", field="county_name", code=code)
            above = areas.parent_of(code)
            session.add(
                Area(code=code, name=name.strip()[:64], level=level, parent_code=above, valid_from=clock.today())
            )
            session.flush()
        if code is not None:
            # The areas already there (the first county, a city) now hang under it.
            low, high = areas.prefix_bounds(areas.prefix_of(code))
            below = areas.LEVEL_BELOW[level]
            session.execute(
                update(Area)
                .where(Area.code >= low, Area.code < high, Area.level == below, Area.parent_code.is_(None))
                .values(parent_code=code)
            )
    _county_with_admin(session, county_code=county_code, county_name=county_name, username=username, password=password)
    seed_default_services(session, valid_from=clock.today(), county_code=county_code)


def _county_with_admin(session: Session, *, county_code: str, county_name: str, username: str, password: str) -> None:
    county_code = county_code.strip()
    if not areas.is_code(county_code) or areas.level_of(county_code) != "county":
        raise ValidationError("setup.not_county_code", field="county_code")
    name = county_name.strip()
    if not name:
        raise ValidationError("person.name_required", field="county_name")
    if session.get(Area, county_code) is None:
        parent = areas.parent_of(county_code)
        above = parent if parent is not None and session.get(Area, parent) is not None else None
        session.add(Area(code=county_code, name=name[:64], level="county", parent_code=above, valid_from=clock.today()))
        session.flush()
    ensure_default_policy(session, county_code=county_code)
    user = auth.create_user(session, username=username, password=password, role="admin", area_code=county_code)
    audit.record(session, scope=auth.scope_of(user), action="setup", entity="area", entity_id=county_code)

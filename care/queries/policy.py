"""The county's rules in force, read from its settings: visit intervals, whether phone visits count,
and the age limits of child sub-types. Reads only: the services that change them write the settings."""

from __future__ import annotations

import json
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from care.domain import enums, policy
from care.queries.settings import setting_value
from db.models import VisitPolicy

SETTING_LIMITS = "child_age.limits"


def policy_intervals(session: Session, county_code: str | None) -> dict[tuple[str, str], int]:
    """The county's interval days by (group, risk); the defaults fill anything its table lacks."""
    return dict(county_intervals(session, [county_code] if county_code else []).get(county_code or "", {}))


def county_intervals(session: Session, county_codes: Collection[str]) -> dict[str, dict[tuple[str, str], int]]:
    """Each county's interval days by (group, risk), read in one query, the defaults filling gaps."""
    found = {code: dict(policy.DEFAULT_INTERVALS) for code in county_codes}
    if not found:
        return {"": dict(policy.DEFAULT_INTERVALS)}
    stmt = select(VisitPolicy.county_code, VisitPolicy.group, VisitPolicy.risk, VisitPolicy.interval_days).where(
        VisitPolicy.county_code.in_(list(found))
    )
    for county, group, risk, days in session.execute(stmt):
        found[county][(group, risk)] = days
    return found


def phone_counts(session: Session, county_code: str | None) -> bool:
    """Whether phone or video visits reset the clock in this county (a county setting)."""
    value = setting_value(session, policy.SETTING_PHONE_COUNTS, county_code)
    return policy.DEFAULT_PHONE_COUNTS if value is None else value == "1"


def valid_limit(value: object) -> bool:
    """Whether ``value`` is an age limit a child sub-type may have."""
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and enums.CHILD_AGE_LIMIT_MIN <= value <= enums.CHILD_AGE_LIMIT_MAX
    )


def child_age_limits(session: Session, county_code: str | None) -> dict[str, int]:
    """The county's age limit for each child sub-type; the national one where none is set."""
    limits = dict(enums.CHILD_AGE_LIMITS)
    value = setting_value(session, SETTING_LIMITS, county_code)
    if value is None:
        return limits
    try:
        stored = json.loads(value)
    except ValueError:
        return limits
    if isinstance(stored, dict):
        limits.update({k: v for k, v in stored.items() if k in limits and valid_limit(v)})
    return limits

"""Child age limits (儿童年龄上限): each child sub-type's own, a county's changes previewed and audited.

A child leaves the register at the limit of their sub-type: 农村留守儿童 under 16, 困境儿童 and
事实无人抚养儿童 under 18 (``enums.CHILD_AGE_LIMITS``); a county whose province differs sets its
own, 14 to 18 years. The exit itself is recorded by a person (动态调整): a lower limit moves
children into the home page's "ageing out" list and the reports' aged-out count, and the
settings page shows how many before saving.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from care import audit
from care.domain import clock, enums, ids, rules
from care.domain.errors import PermissionDenied, StaleRecord, ValidationError
from care.permissions import require
from care.queries.policy import SETTING_LIMITS, child_age_limits, valid_limit
from care.queries.scoping import person_conditions
from care.queries.settings import scope_county, setting_value
from care.scope import Scope
from care.services.settings import put_setting
from db.models import Enrollment, Person

SETTING_VERSION = "child_age.version"
CHILD_SUBTYPES = enums.SUBTYPES["child"]


@dataclass(frozen=True)
class AgeLimitSettings:
    """The limits in force by child sub-type, with the version the user saw."""

    limits: dict[str, int]
    version: int


@dataclass(frozen=True)
class AgeLimitPreview:
    """What new limits would do to the active child enrollments the user may see.

    ``moved_out``: under their limit now, at or over the new one (they join the age-out list);
    ``back_in``: over their limit now, under the new one. ``by_subtype`` has one row per sub-type.
    """

    enrolled: int
    aged_out_now: int
    aged_out_after: int
    moved_out: int
    back_in: int
    by_subtype: pd.DataFrame


def age_limit_settings(session: Session, county_code: str | None) -> AgeLimitSettings:
    """The county's limits in force and the version of the setting."""
    version = setting_value(session, SETTING_VERSION, county_code)
    return AgeLimitSettings(limits=child_age_limits(session, county_code), version=int(version or 1))


def check_age_limits(limits: Mapping[str, Any]) -> dict[str, int]:
    """Every child sub-type's limit, a whole number of years from 14 to 18; anything else refused."""
    for subtype in limits:
        enums.check("subtype", subtype, CHILD_SUBTYPES)
    for subtype in CHILD_SUBTYPES:
        if not valid_limit(limits.get(subtype)):
            raise ValidationError(
                f"age_limit.bad.{subtype}",
                field=subtype,
                low=enums.CHILD_AGE_LIMIT_MIN,
                high=enums.CHILD_AGE_LIMIT_MAX,
            )
    return {subtype: int(limits[subtype]) for subtype in CHILD_SUBTYPES}


def _compare(
    session: Session, scope: Scope, now: Mapping[str, int], new: Mapping[str, int], today: dt.date
) -> AgeLimitPreview:
    rows = session.execute(
        select(Enrollment.subtype, Person.birth_date)
        .join(Person, Person.id == Enrollment.person_id)
        .where(*person_conditions(scope), Enrollment.group == "child", Enrollment.end_date.is_(None))
    ).all()
    tally = {s: [0, 0, 0, 0, 0] for s in CHILD_SUBTYPES}
    for subtype, birth in rows:
        age = ids.age_on(birth, today) if birth <= today else 0
        before, after = age >= rules.child_age_limit(subtype, now), age >= rules.child_age_limit(subtype, new)
        counts = tally[subtype]
        counts[0] += 1
        counts[1] += before
        counts[2] += after
        counts[3] += after and not before
        counts[4] += before and not after
    table = pd.DataFrame(
        [[s, now[s], new[s], *tally[s]] for s in CHILD_SUBTYPES],
        columns=[
            "subtype",
            "limit_now",
            "limit_new",
            "enrolled",
            "aged_out_now",
            "aged_out_after",
            "moved_out",
            "back_in",
        ],
    )
    total = {c: int(table[c].sum()) for c in ("enrolled", "aged_out_now", "aged_out_after", "moved_out", "back_in")}
    return AgeLimitPreview(by_subtype=table, **total)


def preview_age_limits(session: Session, scope: Scope, *, limits: Mapping[str, Any], today: dt.date) -> AgeLimitPreview:
    """How many enrolled children the new limits would move out (or back under their limit)."""
    require(scope, "policy.edit")
    new = check_age_limits(limits)
    return _compare(session, scope, child_age_limits(session, scope_county(scope)), new, today)


def save_age_limits(
    session: Session, scope: Scope, *, limits: Mapping[str, Any], seen_version: int, today: dt.date
) -> int:
    """Store the county's child age limits on the version the user saw, audited; returns the new version."""
    require(scope, "policy.edit")
    new = check_age_limits(limits)
    county = scope_county(scope)
    if county is None:
        raise PermissionDenied()
    current = age_limit_settings(session, county)
    if current.version != seen_version:
        raise StaleRecord({"limits": current.limits}, seen=seen_version, now=current.version)
    preview = _compare(session, scope, current.limits, new, today)
    put_setting(session, SETTING_LIMITS, json.dumps(new, sort_keys=True), county)
    put_setting(session, SETTING_VERSION, str(current.version + 1), county)
    session.flush()
    audit.record(
        session,
        scope=scope,
        action="child_age.change",
        entity="setting",
        entity_id=SETTING_LIMITS,
        detail={
            "limits": {s: [current.limits[s], new[s]] for s in CHILD_SUBTYPES if current.limits[s] != new[s]},
            "moved_out": preview.moved_out,
            "back_in": preview.back_in,
            "at": clock.now().isoformat(timespec="seconds"),
        },
    )
    return current.version + 1

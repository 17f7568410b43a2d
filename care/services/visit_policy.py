"""Editing the visit policy (巡访规则): intervals, whether phone visits count, the daily limit.

A change moves due dates, so the page first shows what it will move (``preview_policy``) and
saving recomputes every active enrollment's next due date in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from care import audit
from care.domain import clock, enums, policy
from care.domain.errors import PermissionDenied, StaleRecord, ValidationError
from care.permissions import require
from care.queries.policy import phone_counts, policy_intervals
from care.queries.schedule import daily_limit
from care.queries.settings import scope_county, setting_value
from care.scope import Scope
from care.services.due import last_counted_visits, refresh_due_dates
from care.services.settings import put_setting
from db.models import Enrollment, VisitPolicy

SETTING_VERSION = "policy.version"
MAX_DAILY_LIMIT = 40


@dataclass(frozen=True)
class PolicySettings:
    """The policy as the page shows it, with the version the user saw."""

    intervals: dict[tuple[str, str], int]
    phone_counts: bool
    daily_limit: int
    version: int


@dataclass(frozen=True)
class PolicyPreview:
    """What a policy change would move, counted over the active enrollments of the county."""

    enrollments: int
    moved: int
    earlier: int
    later: int
    newly_overdue: int
    no_longer_overdue: int
    by_group: pd.DataFrame


def policy_settings(session: Session, county_code: str | None) -> PolicySettings:
    """A county's current intervals, phone-visit setting, daily limit and policy version."""
    return PolicySettings(
        intervals=policy_intervals(session, county_code),
        phone_counts=phone_counts(session, county_code),
        daily_limit=daily_limit(session, county_code),
        version=int(setting_value(session, SETTING_VERSION, county_code) or 1),
    )


def _county(scope: Scope, county_code: str | None = None) -> str:
    """The county whose policy this user edits: their own (an administrator's county)."""
    own = scope_county(scope)
    if own is None or (county_code is not None and county_code != own):
        raise PermissionDenied()
    return own


def check_policy(intervals: Mapping[tuple[str, str], int], limit: int) -> None:
    """Refuse intervals outside 1–366 days, a missing group/risk, or a daily limit outside 1–40."""
    for group in enums.GROUPS:
        for risk in enums.RISKS:
            days = intervals.get((group, risk))
            if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 366:
                raise ValidationError("policy.bad_interval", field="interval", group=group, risk=risk)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_DAILY_LIMIT:
        raise ValidationError("policy.bad_daily_limit", field="daily_limit", limit=MAX_DAILY_LIMIT)


def preview_policy(
    session: Session, scope: Scope, *, intervals: Mapping[tuple[str, str], int], phone: bool, today: dt.date
) -> PolicyPreview:
    """How many active enrollments' due dates the new policy moves, earlier or later, per group."""
    require(scope, "policy.edit")
    check_policy(intervals, policy.DEFAULT_DAILY_LIMIT)
    county = _county(scope)
    rows = session.execute(
        select(Enrollment.id, Enrollment.group, Enrollment.risk, Enrollment.start_date, Enrollment.next_due_on).where(
            Enrollment.county_code == county, Enrollment.end_date.is_(None)
        )
    ).all()
    last = last_counted_visits(session, None, county_code=county, phone=phone)
    tally = {g: [0, 0, 0, 0, 0, 0] for g in enums.GROUPS}
    for eid, group, risk, start, old in rows:
        new = policy.next_due(start, last.get(eid), intervals[(group, risk)])
        counts = tally[group]
        counts[0] += 1
        if new != old:
            counts[1] += 1
            counts[2] += old is not None and new < old
            counts[3] += old is None or new > old
            counts[4] += new < today and (old is None or old >= today)
            counts[5] += old is not None and old < today and new >= today
    table = pd.DataFrame(
        [[g, *tally[g]] for g in enums.GROUPS],
        columns=["group", "enrollments", "moved", "earlier", "later", "newly_overdue", "no_longer_overdue"],
    )
    total = {c: int(table[c].sum()) for c in table.columns[1:]}
    return PolicyPreview(
        enrollments=total["enrollments"],
        moved=total["moved"],
        earlier=total["earlier"],
        later=total["later"],
        newly_overdue=total["newly_overdue"],
        no_longer_overdue=total["no_longer_overdue"],
        by_group=table,
    )


def save_policy(
    session: Session,
    scope: Scope,
    *,
    county_code: str,
    intervals: Mapping[tuple[str, str], int],
    phone: bool,
    limit: int,
    seen_version: int,
) -> int:
    """Save the policy and move every active due date accordingly; returns the new version."""
    require(scope, "policy.edit")
    check_policy(intervals, limit)
    county_code = _county(scope, county_code)
    current = policy_settings(session, county_code)
    if current.version != seen_version:
        raise StaleRecord(
            {"phone_counts": current.phone_counts, "daily_limit": current.daily_limit},
            seen=seen_version,
            now=current.version,
        )
    rows = {
        (p.group, p.risk): p for p in session.scalars(select(VisitPolicy).where(VisitPolicy.county_code == county_code))
    }
    for key, days in intervals.items():
        if key in rows:
            rows[key].interval_days = days
        else:
            session.add(VisitPolicy(county_code=county_code, group=key[0], risk=key[1], interval_days=days))
    put_setting(session, policy.SETTING_PHONE_COUNTS, "1" if phone else "0", county_code)
    put_setting(session, policy.SETTING_DAILY_LIMIT, str(limit), county_code)
    put_setting(session, SETTING_VERSION, str(current.version + 1), county_code)
    session.flush()
    moved = refresh_due_dates(session, county_code=county_code, recount=phone != current.phone_counts)
    changed = {
        f"{g}.{r}": [current.intervals[(g, r)], d] for (g, r), d in intervals.items() if current.intervals[(g, r)] != d
    }
    audit.record(
        session,
        scope=scope,
        action="policy.change",
        entity="policy",
        entity_id=county_code,
        detail={
            "intervals": changed,
            "phone_counts": [current.phone_counts, phone],
            "daily_limit": [current.daily_limit, limit],
            "due_dates_moved": moved,
            "at": clock.now().isoformat(timespec="seconds"),
        },
    )
    return current.version + 1

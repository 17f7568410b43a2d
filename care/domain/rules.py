"""Risk rules (风险等级): each group's facts give a level and the reasons for it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from care.domain import ids
from care.domain.enums import CHILD_AGE_LIMITS, RISK_ORDER

# Out of school below this age is a dropout from compulsory schooling (义务教育); it is not the
# register's age limit, which differs by child sub-type (see ``child_age_limit``).
SCHOOL_LEAVING_AGE = 16


@dataclass(frozen=True)
class RiskResult:
    """A computed risk level and the catalog keys that explain it (highest first)."""

    level: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Family:
    """What a person's household says about them, for the family rules."""

    # A child whose only adult household members are all 70+ or disabled (监护不力).
    frail_guardians: bool = False
    # Everyone in a household of two or more is in a care group.
    all_in_care: bool = False
    # The child's guardian, linked to a member still at home, is 70+ or disabled (监护不力 too).
    frail_linked_guardian: bool = False


NO_FAMILY = Family()


def _result(found: list[tuple[str, str]]) -> RiskResult:
    if not found:
        return RiskResult("low", ("risk.reason.none",))
    # A stable sort: the group's own reasons stay ahead of the family's at the same level.
    found.sort(key=lambda item: RISK_ORDER[item[0]])
    return RiskResult(found[0][0], tuple(reason for _, reason in found))


def child_risk(subtype: str, facts: Mapping[str, Any], age: int) -> list[tuple[str, str]]:
    """无人监护 or 事实无人抚养 or out of school → high; poor guardianship → high; 困境 or under 6 → medium."""
    found: list[tuple[str, str]] = []
    if facts.get("guardianship") == "none":
        found.append(("high", "risk.reason.no_guardian"))
    if subtype == "unsupported":
        found.append(("high", "risk.reason.unsupported"))
    if facts.get("poor_guardianship"):
        found.append(("high", "risk.reason.poor_guardianship"))
    if facts.get("schooling") == "out_of_school" and age < SCHOOL_LEAVING_AGE:
        found.append(("high", "risk.reason.out_of_school"))
    if subtype == "distressed":
        found.append(("medium", "risk.reason.distressed"))
    if age < 6:
        found.append(("medium", "risk.reason.young_child"))
    return found


def elderly_risk(subtype: str, facts: Mapping[str, Any], age: int) -> list[tuple[str, str]]:
    """80+ living alone or unable to care for oneself → high; alone, 80+, special family → medium (key)."""
    found: list[tuple[str, str]] = []
    alone = subtype == "alone" or facts.get("living_arrangement") == "alone"
    if age >= 80 and alone:
        found.append(("high", "risk.reason.old_alone"))
    if facts.get("self_care") == "none" or subtype in ("disabled_elderly", "severe_disabled"):
        found.append(("high", "risk.reason.no_self_care"))
    if alone and age < 80:
        found.append(("medium", "risk.reason.alone"))
    if age >= 80 and not alone:
        found.append(("medium", "risk.reason.over_80"))
    if subtype == "special_family":
        found.append(("medium", "risk.reason.special_family"))
    if facts.get("self_care") == "partial":
        found.append(("medium", "risk.reason.partial_self_care"))
    return found


def disabled_risk(subtype: str, facts: Mapping[str, Any], age: int) -> list[tuple[str, str]]:
    """Grade 1, or grade 2 intellectual/mental/multiple → high; grade 2 or unmet rehab needs → medium."""
    found: list[tuple[str, str]] = []
    grade = facts.get("grade")
    category = facts.get("category")
    if grade == 1:
        found.append(("high", "risk.reason.grade_1"))
    elif grade == 2 and category in (5, 6, 7):
        found.append(("high", "risk.reason.grade_2_mental"))
    elif grade == 2:
        found.append(("medium", "risk.reason.grade_2"))
    if str(facts.get("rehab_needs") or "").strip():
        found.append(("medium", "risk.reason.rehab_needs"))
    return found


RULES = {"child": child_risk, "elderly": elderly_risk, "disabled": disabled_risk}


def family_reasons(group: str, family: Family) -> list[tuple[str, str]]:
    """The levels and reasons the household adds: a child with frail guardians only → high (监护不力);
    a household where everyone is in a care group → medium."""
    found: list[tuple[str, str]] = []
    if group == "child" and family.frail_guardians:
        found.append(("high", "risk.reason.frail_guardians"))
    elif group == "child" and family.frail_linked_guardian:
        found.append(("high", "risk.reason.frail_linked_guardian"))
    if family.all_in_care:
        found.append(("medium", "risk.reason.all_in_care"))
    return found


def compute_risk(
    group: str, subtype: str, facts: Mapping[str, Any], age: int, family: Family = NO_FAMILY
) -> RiskResult:
    """The rule-based risk for an enrollment of ``group`` with these facts, at this age, in this family."""
    return _result(RULES[group](subtype, facts, age) + family_reasons(group, family))


def child_age_limit(subtype: str, limits: Mapping[str, int] | None = None) -> int:
    """The age (周岁) at which a child of this sub-type leaves the register; a county's own limits win."""
    if limits is not None and subtype in limits:
        return int(limits[subtype])
    return CHILD_AGE_LIMITS[subtype]


def reaches_age_on(birth: dt.date, age: int) -> dt.date:
    """The day someone born on ``birth`` reaches ``age`` full years (born 29 February: 1 March)."""
    try:
        return birth.replace(year=birth.year + age)
    except ValueError:
        return dt.date(birth.year + age, 3, 1)


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # on 29 February: in a common year, the 28th has reached the age, 1 March not
        return dt.date(day.year - years, 2, 28)


def latest_birth_at_age(on: dt.date, age: int) -> dt.date:
    """The latest birth date of someone who is ``age`` or older on ``on`` (for date-range queries)."""
    return years_before(on, age)


def child_aged_out(subtype: str, birth: dt.date, on: dt.date, limits: Mapping[str, int] | None = None) -> bool:
    """Whether a child of this sub-type born on ``birth`` is past the register's age limit on ``on``."""
    return ids.age_on(birth, on) >= child_age_limit(subtype, limits)


def effective_risk(auto: str, override: str | None) -> str:
    """A manual override wins over the computed level."""
    return override or auto

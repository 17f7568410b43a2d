"""Who a service on the county's list is for: eligibility rules on an enrollment's facts (no DB, no UI)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from care.domain import areas, enums
from care.domain.errors import ValidationError

MAX_AGE = 120


@dataclass(frozen=True)
class Eligibility:
    """Conditions an enrollment of the service's group must all meet; an empty list means any value."""

    subtypes: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    min_age: int | None = None
    max_age: int | None = None
    guardianship: tuple[str, ...] = ()  # children
    self_care: tuple[str, ...] = ()  # elderly
    living: tuple[str, ...] = ()  # elderly
    categories: tuple[int, ...] = ()  # disabled: 1–7
    max_grade: int | None = None  # disabled: grade 1 (most severe) up to this one

    @classmethod
    def from_json(cls, value: Mapping[str, Any] | None) -> Eligibility:
        """The rule as stored (a JSON object); unknown keys are ignored."""
        value = value or {}

        def items(key: str) -> tuple[Any, ...]:
            raw = value.get(key) or ()
            return tuple(raw) if isinstance(raw, list | tuple) else ()

        def number(key: str) -> int | None:
            raw = value.get(key)
            return int(raw) if isinstance(raw, int) and not isinstance(raw, bool) else None

        return cls(
            subtypes=items("subtypes"),
            risks=items("risks"),
            min_age=number("min_age"),
            max_age=number("max_age"),
            guardianship=items("guardianship"),
            self_care=items("self_care"),
            living=items("living"),
            categories=tuple(int(c) for c in items("categories") if isinstance(c, int)),
            max_grade=number("max_grade"),
        )

    def to_json(self) -> dict[str, Any]:
        """Only the conditions that are set, lists as lists."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items() if v not in ((), None)}


# The conditions each group's rule may use (the others belong to another group's facts).
GROUP_CONDITIONS: dict[str, tuple[str, ...]] = {
    "child": ("guardianship",),
    "elderly": ("self_care", "living"),
    "disabled": ("categories", "max_grade"),
}
_ALLOWED: dict[str, Sequence[Any]] = {
    "risks": enums.RISKS,
    "guardianship": enums.GUARDIANSHIP,
    "self_care": enums.SELF_CARE,
    "living": enums.LIVING,
    "categories": enums.DISABILITY_CATEGORIES,
}


def check_eligibility(group: str, rule: Eligibility) -> None:
    """Refuse values outside their lists, conditions of another group, and an empty or upside-down age range."""
    enums.check("group", group, enums.GROUPS)
    for value in rule.subtypes:
        if value not in enums.SUBTYPES[group]:
            raise ValidationError("service.error.bad_condition", field="subtypes", value=str(value))
    for key, allowed in _ALLOWED.items():
        for value in getattr(rule, key):
            if value not in allowed:
                raise ValidationError("service.error.bad_condition", field=key, value=str(value))
    foreign = {c for g, cs in GROUP_CONDITIONS.items() if g != group for c in cs}
    for key in foreign:
        if getattr(rule, key) not in ((), None):
            raise ValidationError("service.error.other_group", field=key)
    for key in ("min_age", "max_age"):
        age = getattr(rule, key)
        if age is not None and not 0 <= age <= MAX_AGE:
            raise ValidationError("service.error.age", field=key, max=MAX_AGE)
    if rule.min_age is not None and rule.max_age is not None and rule.min_age > rule.max_age:
        raise ValidationError("service.error.age_range", field="min_age", low=rule.min_age, high=rule.max_age)
    if rule.max_grade is not None and rule.max_grade not in enums.DISABILITY_GRADES:
        raise ValidationError("service.error.bad_condition", field="max_grade", value=str(rule.max_grade))


@dataclass(frozen=True)
class EnrollmentFacts:
    """What eligibility is decided on: one active enrollment's group, sub-type, risk, age and facts."""

    enrollment_id: int
    group: str
    subtype: str
    risk: str
    age: int
    guardianship: str | None = None
    self_care: str | None = None
    living: str | None = None
    category: int | None = None
    grade: int | None = None


def is_eligible(group: str, rule: Eligibility, facts: EnrollmentFacts) -> bool:
    """Whether an enrollment meets every condition of a service of ``group``."""
    if facts.group != group:
        return False
    checks: list[tuple[tuple[Any, ...], Any]] = [
        (rule.subtypes, facts.subtype),
        (rule.risks, facts.risk),
        (rule.guardianship, facts.guardianship),
        (rule.self_care, facts.self_care),
        (rule.living, facts.living),
        (rule.categories, facts.category),
    ]
    if any(allowed and value not in allowed for allowed, value in checks):
        return False
    if rule.min_age is not None and facts.age < rule.min_age:
        return False
    if rule.max_age is not None and facts.age > rule.max_age:
        return False
    return rule.max_grade is None or (facts.grade is not None and facts.grade <= rule.max_grade)


def provider_fits(provider: Any, code: str, kinds: Sequence[str], village: str) -> bool:
    """Whether a provider may deliver service ``code`` to a person of ``village``: active, offering
    the service, of a kind the service allows, and with an area holding the village (a county
    department serves every township)."""
    return (
        bool(provider.active)
        and code in (provider.services or ())
        and provider.kind in kinds
        and areas.contains(provider.area_code, village)
    )

"""Each care group's own facts: validation, and moving them between forms and detail rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from care.domain import enums, ids, rules
from care.domain.errors import ValidationError
from db.models import ChildDetails, DisabledDetails, ElderlyDetails, Enrollment

CHILD_FIELDS = (
    "local_subtype",
    "guardianship",
    "poor_guardianship",
    "guardian_name",
    "guardian_phone",
    "parents_workplace",
    "schooling",
    "boarding",
    "guardian_person_id",
)
ELDERLY_FIELDS = ("living_arrangement", "self_care", "children_contact")
DISABLED_FIELDS = ("category", "grade", "certificate_no", "rehab_needs", "assistive_devices")
FIELDS = {"child": CHILD_FIELDS, "elderly": ELDERLY_FIELDS, "disabled": DISABLED_FIELDS}
MODELS: dict[str, type[ChildDetails] | type[ElderlyDetails] | type[DisabledDetails]] = {
    "child": ChildDetails,
    "elderly": ElderlyDetails,
    "disabled": DisabledDetails,
}


def _text(value: Any, limit: int) -> str:
    text = "" if value is None else str(value).strip()
    return text[:limit]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _required(facts: Mapping[str, Any], field: str, allowed: tuple[Any, ...]) -> Any:
    """A fact the user must choose: refused when left empty (never defaulted) or not allowed."""
    value = facts.get(field)
    if _missing(value):
        raise ValidationError("error.required", field=field)
    enums.check(field, value, allowed)
    return value


def _int(value: Any, field: str) -> int | None:
    if _missing(value):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError("error.bad_choice", field=field, value=str(value)) from None


def clean_facts(
    group: str,
    subtype: str,
    facts: Mapping[str, Any],
    *,
    id_number: str,
    birth_date: dt.date,
    on: dt.date,
    age_limits: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The group's facts, validated against the group's rules and the person's age on ``on``.

    ``age_limits``: the county's child age limits by sub-type (None: the national ones).
    """
    enums.check("group", group, enums.GROUPS)
    if _missing(subtype):
        raise ValidationError("error.required", field="subtype")
    enums.check("subtype", subtype, enums.SUBTYPES[group])
    age = ids.age_on(birth_date, on)
    if group == "child":
        return _child(subtype, facts, age, rules.child_age_limit(subtype, age_limits))
    if group == "elderly":
        return _elderly(facts, age)
    return _disabled(subtype, facts, id_number)


def _child(subtype: str, facts: Mapping[str, Any], age: int, limit: int) -> dict[str, Any]:
    if age >= limit:
        raise ValidationError(f"enrollment.child_too_old.{subtype}", field="birth_date", age=age, limit=limit)
    guardianship = _required(facts, "guardianship", enums.GUARDIANSHIP)
    schooling = facts.get("schooling") or ""
    if schooling:
        enums.check("schooling", schooling, enums.SCHOOLING)
    return {
        "local_subtype": _text(facts.get("local_subtype"), 32),
        "guardianship": guardianship,
        "poor_guardianship": bool(facts.get("poor_guardianship")),
        "guardian_name": _text(facts.get("guardian_name"), 64),
        "guardian_phone": _text(facts.get("guardian_phone"), 32),
        "parents_workplace": _text(facts.get("parents_workplace"), 100),
        "schooling": schooling,
        "boarding": bool(facts.get("boarding")),
        # Checked against the child's household by households.guardian_facts (it needs the database).
        "guardian_person_id": _int(facts.get("guardian_person_id"), "guardian_person_id"),
    }


# The guardianship a household member's relation to the head implies for a child of the household,
# by (child's relation, guardian's relation); pairs not listed say nothing for sure.
GUARDIANSHIP_BY_RELATIONS = {
    ("child", "head"): "one_parent",
    ("child", "spouse"): "one_parent",
    ("child", "parent"): "grandparent",
    ("grandchild", "head"): "grandparent",
    ("grandchild", "spouse"): "grandparent",
    ("head", "parent"): "one_parent",
    ("head", "grandparent"): "grandparent",
}


def guardianship_between(child_relation: str | None, guardian_relation: str | None) -> str | None:
    """The guardianship type a guardian's place in the household implies for the child, if it is sure."""
    return GUARDIANSHIP_BY_RELATIONS.get((child_relation or "", guardian_relation or ""))


def _elderly(facts: Mapping[str, Any], age: int) -> dict[str, Any]:
    if age < enums.ELDERLY_MIN_AGE:
        raise ValidationError("enrollment.elderly_too_young", field="birth_date", age=age)
    living = _required(facts, "living_arrangement", enums.LIVING)
    self_care = _required(facts, "self_care", enums.SELF_CARE)
    return {
        "living_arrangement": living,
        "self_care": self_care,
        "children_contact": _text(facts.get("children_contact"), 100),
    }


def _disabled(subtype: str, facts: Mapping[str, Any], id_number: str) -> dict[str, Any]:
    category = _int(facts.get("category"), "category")
    grade = _int(facts.get("grade"), "grade")
    for field, value, allowed in (
        ("category", category, enums.DISABILITY_CATEGORIES),
        ("grade", grade, enums.DISABILITY_GRADES),
    ):
        if value is not None:
            enums.check(field, value, allowed)
    raw_cert = facts.get("certificate_no")
    certificate: str | None = None
    if not _missing(raw_cert):
        # The certificate number carries the category and grade: read from it, checked against any chosen.
        certificate, category, grade = ids.parse_certificate(
            raw_cert, id_number=id_number, category=category, grade=grade
        )
    elif subtype == "certified":
        raise ValidationError("enrollment.certificate_required", field="certificate_no")
    if category is None:
        raise ValidationError("error.required", field="category")
    if grade is None:
        raise ValidationError("error.required", field="grade")
    return {
        "category": category,
        "grade": grade,
        "certificate_no": certificate,
        "rehab_needs": _text(facts.get("rehab_needs"), 200),
        "assistive_devices": _text(facts.get("assistive_devices"), 200),
    }


def facts_of(enrollment: Enrollment) -> dict[str, Any]:
    """The stored facts of an enrollment as a plain dict."""
    details = getattr(enrollment, enrollment.group)
    if details is None:
        return {}
    return {name: getattr(details, name) for name in FIELDS[enrollment.group]}


def details_row(group: str, enrollment_id: int, facts: Mapping[str, Any]) -> Any:
    """A new detail row for ``group`` holding ``facts``."""
    return MODELS[group](enrollment_id=enrollment_id, **dict(facts))
